"""How a cohort source is read, beyond its path: the user's panel folder and column mapping."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadOptions:
    """``panels``: a folder of gene-panel definition files for panels a study names by ID only
    (cBioPortal's shared reference folder); ``columns``: a TOML file mapping a study's columns
    and values onto the Cohort model (``docs/cohorts.md``)."""

    panels: Path | None = None
    columns: Path | None = None
