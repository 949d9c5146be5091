"""How a cohort source is read, beyond its path: the user's panel folder and column mapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from features.cohorts.treatments.lines import LineRules


@dataclass(frozen=True)
class LoadOptions:
    """``panels``: a folder of gene-panel definition files for panels a study names by ID only
    (cBioPortal's shared reference folder); ``columns``: a TOML file mapping a study's columns
    and values onto the Cohort model (``docs/cohorts.md``); ``line_rules``: how lines of
    therapy are derived from agent-level timelines (``docs/treatments.md``)."""

    panels: Path | None = None
    columns: Path | None = None
    line_rules: LineRules = field(default_factory=LineRules)
