"""The command-line options of how a study folder is read (light: no heavy imports)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_cohort_options(parser: argparse.ArgumentParser) -> None:
    """``--panels`` and ``--columns``: how a study folder is read (docs/cohorts.md)."""
    parser.add_argument("--panels", type=Path, metavar="DIR",
                        help="folder of gene-panel files for panels the study names by ID only")
    parser.add_argument("--columns", type=Path, metavar="FILE.toml",
                        help="mapping of the study's columns and values onto the cohort model")
