"""The Cohort's table schemas: each table's columns, types and controlled vocabularies, and the
typing of raw frames into them. Units: ages in years, tumour size in mm, times in months (since
diagnosis unless a column says otherwise), TMB in mutations per megabase; events are booleans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from features.cohorts.errors import CohortError
from features.cohorts.vocab import VOCABULARIES


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
            "integrative_cluster": _cat("integrative_cluster", "METABRIC integrative cluster"),
            "npi": Column("Float64", doc="Nottingham prognostic index (higher = worse)"),
            "histology": _cat("histology"),
            "grade": Column("Int64", doc="histological grade 1-3"),
            "stage": Column("Int64", doc="AJCC stage 0-4"),
            "t_category": Column("Int64", doc="AJCC T category 0-4 (Tis and T0: 0)"),
            "n_category": Column("Int64", doc="AJCC N category 0-3"),
            "m_category": Column("Int64", doc="AJCC M category at diagnosis 0-1"),
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
            "msi_status": _cat("msi_status", doc="microsatellite status: high (MSI-H, "
                               "instable) or stable (MSS, MSI-L)"),
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
            "agent_classes": Column("string", doc="the regimen's agent classes, '+'-joined "
                                    "(drug dictionary); NA when the study gives lines"),
            "start_months": Column("Float64", doc="months from diagnosis"),
            "stop_months": Column("Float64", doc="months from diagnosis; NA = ongoing"),
            "reason_stopped": _cat("reason_stopped"),
            "progression_months": Column("Float64", doc="months from diagnosis of the first "
                                         "progression recorded on the line; NA = none "
                                         "recorded (a line that stopped for progression "
                                         "progressed at its stop)"),
        },
    ),
    "structural_variants": TableSchema(
        None,
        {
            "sample_id": Column("string"),
            "gene": Column("string", doc="HGNC symbol of the first site (site 1)"),
            "partner_gene": Column("string", doc="HGNC symbol of the second site; NA: none"),
            "fusion": Column("boolean", doc="True when the call says it is a fusion"),
            "origin": Column("string", doc="somatic, germline; NA: not stated"),
        },
    ),
}

#: Tables added after Parquet cohorts were first written: a partition without one reads it
#: as empty.
ADDED_TABLES = ("structural_variants",)
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
