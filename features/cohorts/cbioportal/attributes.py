"""The clinical attribute files of a cBioPortal study, read through the alias table of
:mod:`features.cohorts.cbioportal.dialects`: patients and their endpoints, samples and the diagnosis
attributes they carry. Every column is read, listed as not used with the reason, or reported
as not understood."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from features.cohorts.cbioportal.dialects import (
    DIAGNOSIS_FIELDS,
    ENDPOINT_NAMES,
    LINE_SUMMARY_PATIENT_COLUMNS,
    LINE_SUMMARY_SAMPLE_COLUMNS,
    NOT_USED,
    PATIENT_FIELDS,
    PRIOR_EXPOSURE_COLUMNS,
    SAMPLE_AGE_FIELD,
    SAMPLE_FIELDS,
    FieldRule,
    normalised_table,
)
from features.cohorts.coding import (
    missing_mask,
    parse_category,
    parse_event,
    parse_number,
    parse_yes_no,
)
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.schema import MAX_MONTHS
from features.cohorts.staging import parse_staging
from features.cohorts.tabular import TextTable
from features.cohorts.vocab import CODINGS

#: Columns read for identity.
_ID_COLUMNS = {"PATIENT_ID", "SAMPLE_ID"}
_ENDPOINT_TIME = re.compile(r"^(?P<name>[A-Z0-9_]+?)_MONTHS$")
_STAGING_KINDS = ("stage", "t", "n", "m", "grade")


def read_patients(table: TextTable, report: LoadReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patients (index ``patient_id``) and their endpoints from a patient attribute file."""
    table = normalised_table(table)
    _require(table, ("PATIENT_ID",))
    if table.frame.empty:
        raise table.error("no patient rows after the header", expected="one row per patient")
    index = pd.Index(_identifiers(table, "PATIENT_ID", unique=True), name="patient_id")
    patients, used = _read_fields(table, PATIENT_FIELDS, report, index)
    outcomes, endpoint_columns = _read_endpoints(table, report, index, used)
    _list_unread(table, used | endpoint_columns | _ID_COLUMNS, report)
    return patients, outcomes


def read_samples(table: TextTable, report: LoadReport
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Samples (index ``sample_id``, with ``patient_id`` and ``age_at_collection`` in years
    when the file gives it) and the diagnosis attributes they carry."""
    table = normalised_table(table)
    _require(table, ("SAMPLE_ID", "PATIENT_ID"))
    index = pd.Index(_identifiers(table, "SAMPLE_ID", unique=True), name="sample_id")
    parsed: dict = {}
    samples, used = _read_fields(table, (*SAMPLE_FIELDS, SAMPLE_AGE_FIELD), report, index,
                                 parsed)
    samples.insert(0, "patient_id", _identifiers(table, "PATIENT_ID").set_axis(index))
    diagnosis, used_diagnosis = _read_fields(table, DIAGNOSIS_FIELDS, report, index, parsed)
    _list_unread(table, used | used_diagnosis | _ID_COLUMNS, report)
    return samples, diagnosis


def _list_unread(table: TextTable, used: set[str], report: LoadReport) -> None:
    """Every column not read: listed as not used with the reason, or as not understood."""
    for column in table.frame.columns:
        if column in used:
            continue
        spelled = table.spelling(column) or column
        if column in (*LINE_SUMMARY_PATIENT_COLUMNS, *LINE_SUMMARY_SAMPLE_COLUMNS,
                      *PRIOR_EXPOSURE_COLUMNS):
            report.columns_read.append((table.name, spelled, "treatments (per-line summary)"))
        elif column in NOT_USED:
            report.not_used.append((table.name, spelled, NOT_USED[column]))
        else:
            report.unknown_columns.append((table.name, spelled))


def _require(table: TextTable, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in table.frame.columns:
            raise CohortError("required column is missing", file=table.name,
                              line=table.header_line, column=column,
                              expected=f"a {column} column in the header")


def _identifiers(table: TextTable, column: str, *, unique: bool = False) -> pd.Series:
    """The identifiers of ``column``: none empty and, when ``unique``, none repeated."""
    ids = table.frame[column]
    empty = ids == ""
    if empty.any():
        raise table.error("empty identifier", row=int(np.flatnonzero(empty.to_numpy())[0]),
                          column=column, expected="an identifier in every row")
    repeated = ids.duplicated().to_numpy()
    if unique and repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        raise table.error(f"duplicate identifier {ids.iloc[row]!r}", row=row, column=column,
                          expected="a unique identifier per row")
    return ids


def _parse_field(table: TextTable, source: str, rule: FieldRule,
                 report: LoadReport) -> pd.Series:
    """Values of ``source`` parsed as ``rule`` says."""
    if rule.kind in ("number", "integer"):
        values = parse_number(table, source, report, field=rule.field, minimum=rule.minimum,
                              maximum=rule.maximum, integer=rule.kind == "integer")
        if rule.scale != 1.0:
            values = (values * rule.scale).astype("Float64")
    elif rule.kind == "category":
        values = parse_category(table, source, rule.domain or "", report, field=rule.field)
    elif rule.kind == "yes_no":
        values = parse_yes_no(table, source, report, field=rule.field)
    elif rule.kind in _STAGING_KINDS:
        values = parse_staging(table, source, rule.kind, report)
    elif rule.kind == "sites":
        values = _parse_sites(table, source, report)
    else:
        raw = table.frame[source]
        values = raw.where(~missing_mask(raw, source, report)).astype("string")
    return values


def _read_fields(table: TextTable, rules: tuple[FieldRule, ...], report: LoadReport,
                 index: pd.Index, parsed: dict | None = None,
                 ) -> tuple[pd.DataFrame, set[str]]:
    """Columns of ``rules`` read from ``table`` (of several rules for one field, the first
    whose source is present); ``parsed`` caches results by source column so a column read for
    two purposes is parsed, and reported, once."""
    parsed = {} if parsed is None else parsed
    columns: dict[str, pd.Series] = {}
    used: set[str] = set()
    for rule in rules:
        source = next((c for c in rule.sources if c in table.frame.columns), None)
        if source is None or rule.field in columns:
            continue
        if (source, rule.kind) not in parsed:
            parsed[(source, rule.kind)] = _parse_field(table, source, rule, report)
        columns[rule.field] = parsed[(source, rule.kind)].set_axis(index)
        used.add(source)
        report.columns_read.append((table.name, table.spelling(source) or source, rule.field))
    return pd.DataFrame(columns, index=index), used


def _read_endpoints(table: TextTable, report: LoadReport, index: pd.Index,
                    used: set[str]) -> tuple[pd.DataFrame, set[str]]:
    """Every ``<NAME>_MONTHS`` with a ``<NAME>_STATUS`` or ``<NAME>_EVENT`` column (or, in a
    portal export, ``<NAME> (Months)`` with ``<NAME>``); display names such as ``Overall
    Survival`` take their short names (``os``)."""
    outcomes: dict[str, pd.Series] = {}
    columns: set[str] = set()
    for column in table.frame.columns:
        match = _ENDPOINT_TIME.match(column)
        if not match or column in used:
            continue
        name = match["name"]
        status = next((c for c in (f"{name}_STATUS", f"{name}_EVENT", name)
                       if c in table.frame.columns), None)
        if status is None:
            report.warn(f"{table.name}: {table.spelling(column)} has no {name}_STATUS or "
                        f"{name}_EVENT column; not read as an endpoint")
            continue
        times = parse_number(table, column, report, field=f"{name} time (months)", minimum=0,
                             maximum=MAX_MONTHS)
        events = parse_event(table, status, report, field=f"{name} status")
        endpoint = ENDPOINT_NAMES.get(name, name.lower())
        _report_incomplete(report, endpoint, table.spelling(column) or column,
                           table.spelling(status) or status, times, events)
        outcomes[f"{endpoint}_months"] = times.set_axis(index)
        outcomes[f"{endpoint}_event"] = events.set_axis(index)
        columns |= {column, status}
        report.columns_read += [(table.name, table.spelling(column) or column,
                                 f"outcomes.{endpoint}_months"),
                                (table.name, table.spelling(status) or status,
                                 f"outcomes.{endpoint}_event")]
    return pd.DataFrame(outcomes, index=index), columns


def _report_incomplete(report: LoadReport, endpoint: str, time_column: str, status_column: str,
                       times: pd.Series, events: pd.Series) -> None:
    table = f"outcomes.{endpoint}"
    report.exclude(table, f"{status_column} missing", int(events.isna().sum()))
    report.exclude(table, f"{time_column} missing", int(times.isna().sum()))
    report.exclude(table, "not usable: time or status missing",
                   int((times.isna() | events.isna()).sum()))


def fill_from_primary_sample(patients: pd.DataFrame, samples: pd.DataFrame,
                              diagnosis: pd.DataFrame, report: LoadReport) -> None:
    """Take diagnosis attributes the patient file lacks from the patient's primary sample.

    A column the patient file has is authoritative (its missing cells stay missing, so that,
    e.g., "ER+ by IHC" keeps its meaning); a column it lacks comes from the first primary sample
    (in file order) that gives a value; patients whose primary samples disagree are counted.
    """
    diagnosis = diagnosis[[c for c in diagnosis.columns if c not in patients.columns]]
    if diagnosis.empty:
        return
    is_primary = samples.get("sample_type", pd.Series("primary", index=samples.index))
    primary = diagnosis[(is_primary == "primary").fillna(False).to_numpy()]
    by_patient = primary.assign(
        patient_id=samples.loc[primary.index, "patient_id"].to_numpy()).groupby(
        "patient_id", sort=False)
    first = by_patient.first()
    disagreeing = by_patient.nunique()
    for column in diagnosis.columns:
        from_sample = first[column].reindex(patients.index)
        patients[column] = from_sample
        filled = int(from_sample.notna().sum())
        if filled:
            report.warn(f"patients.{column}: {filled} values taken from the primary sample")
        conflicts = int((disagreeing[column] > 1).sum())
        if conflicts:
            report.warn(f"patients.{column}: {conflicts} patients have primary samples that "
                        "disagree; the first primary sample in the sample file was used")


def _parse_sites(table: TextTable, column: str, report: LoadReport) -> pd.Series:
    """';'-joined canonical metastatic sites, sorted; unknown sites excluded and counted."""
    coding = CODINGS["metastatic_site"]
    unknown: dict[str, int] = {}

    def canonical(cell: str) -> str | None:
        if not cell:
            return None
        sites = []
        for part in re.split(r"[;,|]", cell):
            part = part.strip().lower()
            if not part:
                continue
            if part in coding:
                sites.append(coding[part])
            else:
                unknown[part] = unknown.get(part, 0) + 1
        return ";".join(sorted(set(sites))) or None

    missing = missing_mask(table.frame[column], column, report)
    values = table.frame[column].where(~missing, "").map(canonical).astype("string")
    for site, count in unknown.items():
        report.exclude("values", f"{table.name} column {column}: unrecognised metastatic site "
                       f"{site!r} left out", count)
    return values


