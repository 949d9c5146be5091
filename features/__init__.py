"""Cohort data model, loaders, validation, endpoint labels and feature pipelines."""

from features.cbioportal.reader import load_cbioportal_study
from features.cohort import Cohort, build_cohort
from features.errors import CohortError
from features.gbsg2 import load_gbsg2
from features.report import LoadReport
from features.schema import SCHEMAS, TABLES
from features.sources import BUILTIN_COHORTS, load_cohort
from features.validation import validate_cohort

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
