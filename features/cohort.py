"""The Cohort: a small set of validated, typed pandas tables keyed by stable identifiers.

Units: ages in years, tumour size in mm, times in months (since diagnosis unless a column says
otherwise), TMB in mutations per megabase. Events are booleans (True = the event happened).
Identifiers (patient, sample) are the index or an id column, never a feature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from features.errors import CohortError
from features.vocab import (
    HGNC_SYMBOL,
    VOCABULARIES,
    WHOLE_EXOME_PANEL,
)


@dataclass(frozen=True)
class RowSource:
    """Where a table's rows came from: the file, each row's 1-based line, and the file's name
    for each of our columns (so errors name the column as the file spells it)."""

    file: str
    lines: list[int]
    columns: Mapping[str, str] = field(default_factory=dict)


#: Table name -> where its rows came from.
Provenance = Mapping[str, RowSource]


@dataclass(frozen=True)
class Column:
    """One typed column: a pandas dtype name, or a vocabulary domain for a categorical column."""

    dtype: str
    domain: str | None = None
    doc: str = ""

    def pandas_dtype(self) -> Any:
        """The pandas dtype this column is stored with."""
        if self.domain is not None:
            return _categories(self.domain)
        return self.dtype


def _cat(domain: str, doc: str = "") -> Column:
    return Column("category", domain, doc)


@dataclass(frozen=True)
class TableSchema:
    """Columns of one cohort table; ``index`` names the identifier index, if the table has one."""

    index: str | None
    columns: dict[str, Column]


SCHEMAS: dict[str, TableSchema] = {
    "patients": TableSchema(
        "patient_id",
        {
            "age_years": Column("Float64", doc="age at diagnosis, years"),
            "sex": _cat("sex"),
            "menopausal_status": _cat("menopausal_status"),
            "er_status": _cat("receptor_status", "oestrogen receptor at diagnosis"),
            "pr_status": _cat("receptor_status", "progesterone receptor at diagnosis"),
            "her2_status": _cat("receptor_status", "HER2 at diagnosis"),
            "er_fmol_mg": Column("Float64", doc="oestrogen receptor, fmol/mg protein"),
            "pr_fmol_mg": Column("Float64", doc="progesterone receptor, fmol/mg protein"),
            "receptor_subtype": _cat("receptor_subtype", "derived from ER, PR and HER2"),
            "pam50_subtype": _cat("pam50_subtype"),
            "histology": _cat("histology"),
            "grade": Column("Int64", doc="histological grade 1-3"),
            "stage": Column("Int64", doc="AJCC stage 0-4"),
            "tumor_size_mm": Column("Float64", doc="largest tumour diameter, mm"),
            "positive_nodes": Column("Int64", doc="positive lymph nodes, count"),
            "de_novo_metastatic": Column("boolean", doc="metastatic at diagnosis"),
            "metastatic_sites": Column("string", doc="';'-joined sites, see vocab"),
            "performance_status": Column("Int64", doc="ECOG 0-4"),
            "received_chemotherapy": Column("boolean"),
            "received_endocrine": Column("boolean"),
            "received_radiotherapy": Column("boolean"),
            "received_anti_her2": Column("boolean"),
        },
    ),
    "samples": TableSchema(
        "sample_id",
        {
            "patient_id": Column("string"),
            "sample_type": _cat("sample_type"),
            "site": Column("string", doc="anatomical site of the biopsy"),
            "collection_months": Column("Float64", doc="months from diagnosis to collection"),
            "mutation_panel": Column("string", doc="gene panel; NA = not profiled"),
            "cna_panel": Column("string", doc="gene panel; NA = not profiled"),
            "tmb": Column("Float64", doc="non-synonymous mutations per megabase"),
            "er_status": _cat("receptor_status"),
            "pr_status": _cat("receptor_status"),
            "her2_status": _cat("receptor_status"),
        },
    ),
    "mutations": TableSchema(
        None,
        {
            "sample_id": Column("string"),
            "gene": Column("string", doc="HGNC symbol"),
            "variant_classification": Column("string", doc="MAF Variant_Classification"),
            "protein_change": Column("string", doc="short HGVSp without 'p.', e.g. H1047R"),
            "vaf": Column("Float64", doc="variant allele fraction 0-1"),
            "non_silent": Column("boolean", doc="False for silent, UTR, intronic calls"),
        },
    ),
    "copy_number": TableSchema(
        None,
        {
            "sample_id": Column("string"),
            "gene": Column("string", doc="HGNC symbol"),
            "level": Column("Float64", doc="-2 deep deletion ... 2 amplification"),
        },
    ),
    "panels": TableSchema(
        None,
        {"panel_id": Column("string"), "gene": Column("string", doc="HGNC symbol")},
    ),
    "outcomes": TableSchema("patient_id", {}),
    "treatments": TableSchema(
        None,
        {
            "patient_id": Column("string"),
            "line": Column("Int64", doc="0 = (neo)adjuvant, 1.. = metastatic line"),
            "setting": _cat("treatment_setting"),
            "therapy_class": _cat("therapy_class"),
            "agent": Column("string"),
            "start_months": Column("Float64", doc="months from diagnosis"),
            "stop_months": Column("Float64", doc="months from diagnosis; NA = ongoing"),
            "reason_stopped": _cat("reason_stopped"),
        },
    ),
}

TABLES = tuple(SCHEMAS)
ENDPOINT_TIME_SUFFIX = "_months"
#: Longest plausible time in any table, months (100 years): follow-up, collection, treatment.
MAX_MONTHS = 1200
ENDPOINT_EVENT_SUFFIX = "_event"


def empty_table(name: str) -> pd.DataFrame:
    """An empty, correctly typed table."""
    return conform_table(name, pd.DataFrame())


def conform_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the schema's columns, in order and typed; absent columns are all-NA.

    Raises CohortError for a column the schema does not know (outcomes excepted, whose columns
    are endpoint pairs) or a value that cannot take the column's type.
    """
    schema = SCHEMAS[name]
    frame = frame.copy()
    if schema.index is not None:
        if frame.index.name != schema.index and schema.index in frame.columns:
            frame = frame.set_index(schema.index)
        frame.index = pd.Index(frame.index.astype("string"), name=schema.index)
    if name == "outcomes":
        return _conform_outcomes(frame)
    unknown = [c for c in frame.columns if c not in schema.columns]
    if unknown:
        raise CohortError(f"unknown column(s) {unknown}", file=f"table {name}",
                          expected=f"columns among {list(schema.columns)}")
    typed = {}
    for column, spec in schema.columns.items():
        values = frame[column] if column in frame.columns else pd.Series(
            pd.NA, index=frame.index, dtype="object")
        typed[column] = _cast(values, spec, name, column)
    result = pd.DataFrame(typed, index=frame.index)
    if schema.index is None:
        result = result.reset_index(drop=True)
    return result


def _cast(values: pd.Series, spec: Column, table: str, column: str) -> pd.Series:
    if spec.domain is not None:
        dtype = _categories(spec.domain)
        coded = pd.Categorical(values.to_numpy(dtype=object), dtype=dtype)
        outside = values[values.notna().to_numpy() & (coded.codes < 0)]
        if len(outside):
            raise CohortError(f"value {outside.iloc[0]!r} at {outside.index[0]!r} is not in "
                              f"the vocabulary", file=f"table {table}", column=column,
                              expected=f"one of {sorted(dtype.categories)}")
        return pd.Series(coded, index=values.index, name=values.name)
    dtype = spec.pandas_dtype()
    try:
        return values.astype(dtype)
    except (TypeError, ValueError) as exc:
        raise CohortError(f"values cannot be stored as {dtype} ({exc})", file=f"table {table}",
                          column=column) from exc


@cache
def _categories(domain: str) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(VOCABULARIES[domain]))


def _conform_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    typed = {}
    for column in frame.columns:
        if column.endswith(ENDPOINT_TIME_SUFFIX):
            typed[column] = _cast(frame[column], Column("Float64"), "outcomes", column)
        elif column.endswith(ENDPOINT_EVENT_SUFFIX):
            typed[column] = _cast(frame[column], Column("boolean"), "outcomes", column)
        else:
            raise CohortError("not an endpoint column", file="table outcomes", column=column,
                              expected="'<endpoint>_months' or '<endpoint>_event'")
    return pd.DataFrame(typed, index=frame.index)


@dataclass
class Cohort:
    """Validated cohort tables plus metadata (``name``, ``source``, ``synthetic``...).

    Build one with :func:`build_cohort`, which types and validates the tables.
    """

    patients: pd.DataFrame
    samples: pd.DataFrame
    mutations: pd.DataFrame
    copy_number: pd.DataFrame
    panels: pd.DataFrame
    outcomes: pd.DataFrame
    treatments: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """The table called ``name`` (one of :data:`TABLES`)."""
        if name not in SCHEMAS:
            raise KeyError(f"no cohort table {name!r}; tables are {list(SCHEMAS)}")
        return getattr(self, name)

    @property
    def synthetic(self) -> bool:
        """True when the cohort was generated, not observed."""
        return bool(self.metadata.get("synthetic", False))

    @property
    def has_samples(self) -> bool:
        """Whether the cohort has genomic samples at all (decides whether patients without a
        profiled sample are excluded and whether genomic features exist). A partition of a
        larger cohort answers for the whole cohort: metadata ``cohort_has_samples``."""
        return bool(self.metadata.get("cohort_has_samples", not self.samples.empty))

    @property
    def has_treatment_lines(self) -> bool:
        """Whether the cohort records treatment lines (else adjuvant treatment comes from the
        patients' flags); a partition answers for the whole cohort:
        metadata ``cohort_has_treatment_lines``."""
        return bool(self.metadata.get("cohort_has_treatment_lines",
                                      not self.treatments.empty))

    @property
    def endpoints(self) -> list[str]:
        """Endpoint names with a time and an event column in ``outcomes`` (e.g. ``rfs``, ``os``)."""
        names = [c[: -len(ENDPOINT_TIME_SUFFIX)] for c in self.outcomes.columns
                 if c.endswith(ENDPOINT_TIME_SUFFIX)]
        return [n for n in names if f"{n}{ENDPOINT_EVENT_SUFFIX}" in self.outcomes.columns]

    def endpoint(self, name: str) -> pd.DataFrame:
        """``time_months`` and ``event`` of one endpoint for every patient with outcomes."""
        if name not in self.endpoints:
            raise KeyError(f"no endpoint {name!r}; this cohort has {self.endpoints}")
        return pd.DataFrame(
            {
                "time_months": self.outcomes[f"{name}{ENDPOINT_TIME_SUFFIX}"],
                "event": self.outcomes[f"{name}{ENDPOINT_EVENT_SUFFIX}"],
            }
        )

    def outcome_summary(self) -> dict[str, dict[str, float | int | None]]:
        """Per endpoint: patients with both time and status known (``n_known``) and their
        events (``n_events``); status and time counts before pairing; median follow-up (months,
        the median observed time of censored patients)."""
        summary = {}
        for name in self.endpoints:
            frame = self.endpoint(name)
            event, time = frame["event"], frame["time_months"]
            known = time.notna() & event.notna()
            censored_times = time[known & ~event.fillna(True)]
            summary[name] = {
                "n_known": int(known.sum()),
                "n_events": int(event[known].sum()),
                "n_status_event": int(event.fillna(False).sum()),
                "n_status_censored": int((~event.fillna(True)).sum()),
                "n_status_missing": int(event.isna().sum()),
                "n_time_missing": int(time.isna().sum()),
                "median_followup_censored_months": (
                    round(float(censored_times.median()), 2) if len(censored_times) else None
                ),
            }
        return summary

    def summary(self) -> dict[str, Any]:
        """Sizes of the cohort: patients, samples, mutations, CNA calls, outcomes."""
        return {
            "n_patients": len(self.patients),
            "n_samples": len(self.samples),
            "n_mutations": len(self.mutations),
            "n_cna_calls": len(self.copy_number),
            "n_treatment_lines": len(self.treatments),
            "outcomes": self.outcome_summary(),
        }

    def digest(self) -> str:
        """SHA-256 of the tables' contents: equal cohorts give equal digests."""
        hasher = hashlib.sha256()
        for name in TABLES:
            table = self.table(name)
            hasher.update(name.encode())
            hasher.update(",".join(map(str, table.columns)).encode())
            hashed = pd.util.hash_pandas_object(table, index=True).to_numpy()
            hasher.update(hashed.tobytes())
        return hasher.hexdigest()


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
    for table in ("mutations", "copy_number", "panels"):
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
