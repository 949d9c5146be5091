"""The reviewable table of breast-cancer alteration classes and their ESCAT tiers
(``escat_breast.csv`` beside this module, one row per matching rule, each with its source and
the date it was checked), loaded and validated once.

ESCAT (ESMO Scale for Clinical Actionability of molecular Targets; Mateo et al., Ann Oncol
2018) ranks targets in metastatic disease: tier I (I-A, I-B, I-C) means clinical evidence of
benefit from the matched therapy in the tumour type (I-C: tumour-agnostic); tier II means
evidence of antitumour activity awaiting confirmation. A row whose sub-level the checked
sources do not state says ``II``, never a guessed ``II-A`` or ``II-B``.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("escat_breast.csv")
TIERS = ("I-A", "I-B", "I-C", "II", "II-A", "II-B", "III-A", "III-B", "IV", "X")
ALTERATIONS = ("mutation", "amplification", "deletion", "fusion", "msi_high")
ORIGINS = ("somatic", "germline", "any")
COLUMNS = ["rule", "gene", "alteration", "protein_changes", "origin", "tier", "therapy",
           "evidence", "source", "checked"]


class TableError(ValueError):
    """The table file is malformed: the message names the file, line and column."""


@dataclass(frozen=True)
class Rule:
    """One alteration class: which findings match it (``gene``, ``alteration``, the protein
    changes when listed, the variant's origin unless ``any``) and their ESCAT tier, the therapy
    class it ranks, the evidence and its source, and when it was checked."""

    rule: str
    gene: str  # "*" for a tumour-agnostic marker (microsatellite instability)
    alteration: str
    protein_changes: frozenset[str]  # empty: any change of that kind
    origin: str
    tier: str
    therapy: str
    evidence: str
    source: str
    checked: date



@dataclass(frozen=True)
class ActionabilityTable:
    """The rules, and the table's version (``escat-breast v<N>, checked <latest date>``)."""

    rules: tuple[Rule, ...]
    number: int

    @property
    def version(self) -> str:
        """What every answer names: the table's number and the date of its latest check."""
        latest = max(r.checked for r in self.rules)
        return f"escat-breast v{self.number} (checked {latest.isoformat()})"

    @property
    def genes(self) -> frozenset[str]:
        """The genes some rule reads (a profile that did not cover one has not tested it)."""
        return frozenset(r.gene for r in self.rules if r.gene != "*")


def tier_level(tier: str) -> str:
    """The ESCAT level of a tier, without its sub-level: ``I-A`` -> ``I``, ``II`` -> ``II``."""
    return tier.split("-")[0]


@functools.cache
def load_table(path: Path = TABLE_PATH) -> ActionabilityTable:
    """The table at ``path``, validated (TableError naming the line and column)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    number = next((line.split(":", 1)[1].strip() for line in header
                   if line.lower().startswith("# version:")), "")
    if not number.isdigit():
        raise TableError(f"{path}: line 1: a '# version: <number>' line is required")
    body = [(k + 1, line) for k, line in enumerate(lines) if not line.startswith("#")]
    reader = csv.DictReader([line for _, line in body])
    if reader.fieldnames != COLUMNS:
        raise TableError(f"{path}: line {body[0][0]}: columns must be {', '.join(COLUMNS)}")
    rules, seen = [], set()
    for (number_of_line, _), row in zip(body[1:], reader, strict=True):
        rules.append(_rule(row, f"{path}: line {number_of_line}"))
        if rules[-1].rule in seen:
            raise TableError(f"{path}: line {number_of_line}: column rule: "
                             f"{rules[-1].rule!r} appears twice")
        seen.add(rules[-1].rule)
    return ActionabilityTable(tuple(rules), int(number))


def _rule(row: dict[str, str], where: str) -> Rule:
    for column, allowed in (("alteration", ALTERATIONS), ("origin", ORIGINS), ("tier", TIERS)):
        if row[column] not in allowed:
            raise TableError(f"{where}: column {column}: {row[column]!r} is not one of "
                             f"{', '.join(allowed)}")
    for column in ("rule", "gene", "therapy", "evidence", "source"):
        if not row[column].strip():
            raise TableError(f"{where}: column {column}: empty")
    try:
        checked = date.fromisoformat(row["checked"])
    except ValueError as error:
        raise TableError(f"{where}: column checked: not a date (YYYY-MM-DD)") from error
    changes = frozenset(c.strip().removeprefix("p.") for c in row["protein_changes"].split(";")
                        if c.strip())
    return Rule(row["rule"], row["gene"], row["alteration"], changes, row["origin"],
                row["tier"], row["therapy"], row["evidence"], row["source"], checked)
