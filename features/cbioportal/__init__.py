"""The cBioPortal study-folder format: the reader (files, genomics, timeline) and the writer."""

from features.cbioportal.reader import load_cbioportal_study
from features.cbioportal.writer import write_cbioportal_study

__all__ = ["load_cbioportal_study", "write_cbioportal_study"]
