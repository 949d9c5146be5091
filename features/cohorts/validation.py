"""Building a Cohort and validating the whole: :func:`build_cohort` types each table by its schema,
then :func:`validate_cohort` checks unique identifiers, references between tables, ranges, gene
symbols and panels; errors name the file, line and column when the rows' provenance is known."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.cohorts.cohort import Cohort
from features.cohorts.errors import CohortError
from features.cohorts.schema import (
    ENDPOINT_TIME_SUFFIX,
    MAX_MONTHS,
    SCHEMAS,
    Provenance,
    conform_table,
    empty_table,
)
from features.cohorts.vocab import HGNC_SYMBOL, WHOLE_EXOME_PANEL


def build_cohort(
    metadata: dict[str, Any] | None = None,
    provenance: Provenance | None = None,
    **tables: pd.DataFrame,
) -> Cohort:
    """Type every given table by its schema (absent tables are empty) and validate the whole.

    ``provenance`` lets validation errors name the source file and line of the offending row.
    """
    unknown = set(tables) - set(SCHEMAS)
    if unknown:
        raise TypeError(f"unknown cohort tables {sorted(unknown)}; tables are {list(SCHEMAS)}")
    typed = {
        name: conform_table(name, tables[name]) if name in tables else empty_table(name)
        for name in SCHEMAS
    }
    cohort = Cohort(**typed, metadata=dict(metadata or {}))
    validate_cohort(cohort, provenance)
    return cohort



def validate_cohort(cohort: Cohort, provenance: Provenance | None = None) -> None:
    """Check the whole cohort; raise CohortError naming the table (or file and line) and column.

    Checks: unique identifiers; every sample, mutation, CNA call, outcome and treatment refers
    to a known patient or sample; times non-negative months; plausible ages and ranges; genes
    written as HGNC symbols; samples' panels defined.
    """
    where = _Locator(provenance or {})
    for name in ("patients", "samples", "outcomes"):
        duplicated = cohort.table(name).index.duplicated()
        if duplicated.any():
            row = int(np.flatnonzero(duplicated)[0])
            ident = cohort.table(name).index[row]
            raise where.error(name, row, SCHEMAS[name].index,
                              f"duplicate identifier {ident!r}", "a unique identifier per row")
    _check_references(cohort, where)
    _check_ranges(cohort, where)
    _check_genes(cohort, where)
    _check_panels(cohort, where)


class _Locator:
    """Turns (table, row position, column) into a CohortError naming file and line if known."""

    def __init__(self, provenance: Provenance) -> None:
        self.provenance = provenance

    def error(self, table: str, row: int, column: str | None, problem: str,
              expected: str | None = None) -> CohortError:
        source = self.provenance.get(table)
        if source is not None and row < len(source.lines):
            return CohortError(problem, file=source.file, line=source.lines[row],
                               column=source.columns.get(column or "", column),
                               expected=expected)
        return CohortError(f"row {row}: {problem}", file=f"table {table}", column=column,
                           expected=expected)


def _first(mask: pd.Series | np.ndarray) -> int | None:
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(positions[0]) if len(positions) else None


def _check_references(cohort: Cohort, where: _Locator) -> None:
    patients = cohort.patients.index
    checks = [
        ("samples", cohort.samples["patient_id"], patients, "patient_id", "patient"),
        ("outcomes", cohort.outcomes.index.to_series(), patients, "patient_id", "patient"),
        ("treatments", cohort.treatments["patient_id"], patients, "patient_id", "patient"),
        ("mutations", cohort.mutations["sample_id"], cohort.samples.index, "sample_id", "sample"),
        ("copy_number", cohort.copy_number["sample_id"], cohort.samples.index, "sample_id",
         "sample"),
        ("structural_variants", cohort.structural_variants["sample_id"], cohort.samples.index,
         "sample_id", "sample"),
    ]
    for table, refs, known, column, kind in checks:
        row = _first(~refs.isin(known).to_numpy() | refs.isna().to_numpy())
        if row is not None:
            raise where.error(table, row, column, f"{kind} {refs.iloc[row]!r} is not in the "
                              f"{kind}s table", f"a known {kind} identifier")


_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "patients": {
        "age_years": (0, 120),
        "grade": (1, 3),
        "stage": (0, 4),
        "t_category": (0, 4),
        "n_category": (0, 3),
        "m_category": (0, 1),
        "npi": (0, 10),
        "tumor_size_mm": (0, 1000),
        "positive_nodes": (0, 100),
        "performance_status": (0, 4),
        "er_fmol_mg": (0, 10_000),
        "pr_fmol_mg": (0, 10_000),
    },
    "samples": {"collection_months": (-MAX_MONTHS, MAX_MONTHS), "tmb": (0, 10_000)},
    "mutations": {"vaf": (0, 1)},
    "copy_number": {"level": (-2, 2)},
    "treatments": {"line": (0, 50), "start_months": (-MAX_MONTHS, MAX_MONTHS),
                   "stop_months": (-MAX_MONTHS, MAX_MONTHS)},
}


def _check_ranges(cohort: Cohort, where: _Locator) -> None:
    for table, limits in _RANGES.items():
        frame = cohort.table(table)
        for column, (low, high) in limits.items():
            values = frame[column].astype("Float64")
            row = _first(((values < low) | (values > high)).fillna(False).to_numpy())
            if row is not None:
                raise where.error(table, row, column, f"value {values.iloc[row]} out of range",
                                  f"{low} to {high}")
    for name in cohort.endpoints:
        times = cohort.outcomes[f"{name}{ENDPOINT_TIME_SUFFIX}"]
        row = _first(((times < 0) | (times > MAX_MONTHS)).fillna(False).to_numpy())
        if row is not None:
            raise where.error("outcomes", row, f"{name}{ENDPOINT_TIME_SUFFIX}",
                              f"time {times.iloc[row]} out of range", f"0 to {MAX_MONTHS} months")
    treatments = cohort.treatments
    row = _first((treatments["stop_months"] < treatments["start_months"]).fillna(False))
    if row is not None:
        raise where.error("treatments", row, "stop_months", "stops before it starts",
                          "stop_months >= start_months")


def is_hgnc_symbol(values: pd.Series) -> pd.Series:
    """True where a gene name has the form of an HGNC approved symbol."""
    return values.astype("string").str.fullmatch(HGNC_SYMBOL.pattern).fillna(False).astype(bool)


def _check_genes(cohort: Cohort, where: _Locator) -> None:
    for table in ("mutations", "copy_number", "panels", "structural_variants"):
        genes = cohort.table(table)["gene"]
        row = _first(~is_hgnc_symbol(genes).to_numpy())
        if row is not None:
            raise where.error(table, row, "gene", f"{genes.iloc[row]!r} is not an HGNC symbol",
                              "an HGNC symbol such as PIK3CA")


def _check_panels(cohort: Cohort, where: _Locator) -> None:
    defined = set(cohort.panels["panel_id"].dropna()) | {WHOLE_EXOME_PANEL}
    for column in ("mutation_panel", "cna_panel"):
        used = cohort.samples[column]
        row = _first((used.notna() & ~used.isin(defined)).to_numpy())
        if row is not None:
            raise where.error("samples", row, column, f"panel {used.iloc[row]!r} is not defined",
                              "a panel listed in the panels table")
