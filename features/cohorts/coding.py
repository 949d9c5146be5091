"""Turning raw text columns into typed values, counting every recoding and naming every bad cell.

Each parser takes a :class:`~features.cohorts.tabular.TextTable` and one of its columns and returns
a typed pandas Series aligned with the table's rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable
from features.cohorts.vocab import CODINGS, MISSING_TOKENS

_STATUS_PREFIX = re.compile(r"^\s*([01])\s*:")


def missing_mask(raw: pd.Series, column: str, report: LoadReport) -> pd.Series:
    """True where a cell means "no value"; spelled-out missing tokens are counted as recodings."""
    lowered = raw.str.lower()
    mask = lowered.isin(MISSING_TOKENS)
    spelled = raw[mask & (raw != "")]
    for token, count in spelled.value_counts().items():
        report.recode(column, str(token), None, int(count))
    return mask


def parse_number(
    table: TextTable,
    column: str,
    report: LoadReport,
    *,
    field: str,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> pd.Series:
    """Numeric values of ``column`` (Float64, or Int64 when ``integer``); missing cells are NA.

    A cell that is not a number, or outside ``[minimum, maximum]``, raises a CohortError naming
    the file, line and column. ``field`` is our column name, shown in the message.
    """
    raw = table.frame[column]
    missing = missing_mask(raw, column, report)
    values = pd.to_numeric(raw.where(~missing), errors="coerce")
    bad = values.isna() & ~missing
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise table.error(f"{raw.iat[row]!r} is not a number", row=row, column=column,
                          expected=f"a number for {field}")
    infinite = values.isin([np.inf, -np.inf]).to_numpy()
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise table.error(f"{raw.iat[row]!r} is not a finite number", row=row, column=column,
                          expected=f"a finite number for {field}")
    for _limit, outside in (
        (minimum, values < minimum if minimum is not None else None),
        (maximum, values > maximum if maximum is not None else None),
    ):
        if outside is not None and outside.fillna(False).any():
            row = int(np.flatnonzero(outside.fillna(False).to_numpy())[0])
            raise table.error(
                f"{raw.iat[row]!r} is out of range for {field}", row=row, column=column,
                expected=_range_text(field, minimum, maximum),
            )
    if integer:
        fractional = values.notna() & (values != values.round())
        if fractional.any():
            row = int(np.flatnonzero(fractional.to_numpy())[0])
            raise table.error(f"{raw.iat[row]!r} is not a whole number", row=row,
                              column=column, expected=f"a whole number for {field}")
        return values.astype("Int64")
    return values.astype("Float64")


def parse_category(
    table: TextTable, column: str, domain: str, report: LoadReport, *, field: str
) -> pd.Series:
    """Canonical values of ``column`` through the :data:`~features.cohorts.vocab.CODINGS` of
    ``domain``.

    Spellings that differ from the canonical value are counted as recodings. A value the coding
    table does not know is set to missing and counted as an excluded value with the reason; it
    never passes through unchecked.
    """
    raw = table.frame[column]
    missing = missing_mask(raw, column, report)
    coding = CODINGS[domain]
    lowered = raw.str.lower()
    mapped = lowered.map(coding)
    unknown = mapped.isna() & ~missing
    unknown_values = raw[unknown]
    for value, count in unknown_values.value_counts().items():
        first_row = int(unknown_values.index[unknown_values == value][0])
        report.exclude(
            "values",
            f"{table.name} column {column}: unrecognised {field} {value!r} set to missing "
            f"(first on line {table.line_of(first_row)})",
            int(count),
        )
    known = ~missing & ~unknown
    changed = known & (raw != mapped)
    if changed.any():
        pairs = pd.DataFrame({"raw": raw[changed], "to": mapped[changed]}).value_counts()
        for (value, canonical), count in pairs.items():
            report.recode(column, str(value), str(canonical), int(count))
    return mapped.where(known)


def parse_yes_no(table: TextTable, column: str, report: LoadReport, *, field: str) -> pd.Series:
    """Nullable booleans from yes/no style cells (``YES``, ``no``, ``1``, ``false`` ...)."""
    values = parse_category(table, column, "yes_no", report, field=field)
    return values.map({"yes": True, "no": False}).astype("boolean")


def parse_event(table: TextTable, column: str, report: LoadReport, *, field: str) -> pd.Series:
    """Event flags (True = the event happened) from ``1:Recurred`` / ``0:LIVING`` / ``0`` / ``1``.

    cBioPortal status cells start with ``0:`` (censored) or ``1:`` (event); bare ``0``/``1`` and
    yes/no spellings are accepted too. Anything else raises a CohortError naming the cell.
    """
    raw = table.frame[column]
    missing = missing_mask(raw, column, report)
    prefix = raw.str.extract(_STATUS_PREFIX, expand=False)
    bare = raw.str.lower().map(CODINGS["yes_no"]).map({"yes": "1", "no": "0"})
    code = prefix.fillna(bare)
    bad = code.isna() & ~missing
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise table.error(f"{raw.iat[row]!r} is not an event status", row=row, column=column,
                          expected=f"'1:<event>' or '0:<censored>' for {field}")
    known = ~missing
    events = code.where(known).map({"1": True, "0": False}).astype("boolean")
    recoded = pd.DataFrame({"raw": raw[known], "to": events[known].astype(str)}).value_counts()
    for (value, canonical), count in recoded.items():
        report.recode(column, str(value), "event" if canonical == "True" else "censored",
                      int(count))
    return events


def _range_text(field: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is None:
        return f"{field} at most {maximum:g}"
    if maximum is None:
        return f"{field} at least {minimum:g}"
    return f"{field} between {minimum:g} and {maximum:g}"
