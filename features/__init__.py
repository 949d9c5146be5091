"""Cohort data model, loaders, validation, endpoint labels and feature pipelines."""

from features.cbioportal import load_cbioportal_study
from features.cohort import SCHEMAS, TABLES, Cohort, build_cohort, validate_cohort
from features.errors import CohortError
from features.gbsg2 import load_gbsg2
from features.registry import BUILTIN_COHORTS, load_cohort
from features.report import LoadReport

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
