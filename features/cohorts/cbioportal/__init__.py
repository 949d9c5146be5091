"""The cBioPortal study-folder format: the reader (files, genomics, timeline) and the writer."""

from features.cohorts.cbioportal.reader import load_cbioportal_study
from features.cohorts.cbioportal.writer import write_cbioportal_study

__all__ = ["load_cbioportal_study", "write_cbioportal_study"]
