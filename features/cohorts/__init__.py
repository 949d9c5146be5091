"""Reading cohorts: the Cohort data model and its schema, the sources (cBioPortal study folders,
GBSG2, partitioned Parquet, the synthetic generator), codings and validation."""

from features.cohorts.cbioportal.reader import load_cbioportal_study
from features.cohorts.cohort import Cohort
from features.cohorts.errors import CohortError
from features.cohorts.gbsg2 import load_gbsg2
from features.cohorts.report import LoadReport
from features.cohorts.schema import SCHEMAS, TABLES
from features.cohorts.sources import BUILTIN_COHORTS, load_cohort
from features.cohorts.validation import build_cohort, validate_cohort

__all__ = [
    "BUILTIN_COHORTS",
    "SCHEMAS",
    "TABLES",
    "Cohort",
    "CohortError",
    "LoadReport",
    "build_cohort",
    "load_cbioportal_study",
    "load_cohort",
    "load_gbsg2",
    "validate_cohort",
]
