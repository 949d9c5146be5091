"""AJCC stage groups, TNM categories and histological grades from their many spellings.

Each parser takes a :class:`~features.cohorts.tabular.TextTable` column and returns nullable
integers: stage 0-4 (``Stage IIIA`` -> 3, sub-stages folded), T 0-4 (``Tis``/``T0`` -> 0, ``T1c`` ->
1), N 0-3 (``N2a`` -> 2), M 0-1 (``M1`` -> 1, ``cM0(i+)`` -> 0), grade 1-3 (``II``, ``G2``, ``Grade
2``, ``moderately differentiated`` -> 2). ``TX``/``NX``/``MX``/``GX``, ``Stage X`` and the study's
missing codes are missing and counted; a value that parses to nothing is an error naming the file,
line and column. Every spelling that differs from the number is counted as a recoding.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from features.cohorts.coding import missing_mask
from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable

_ROMAN = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4}
_STAGE = re.compile(r"^(?:(?:ajcc\s*)?stage\s*)?(?P<value>0|[1-4]|iv|i{1,3})(?:[abc]\d?)?$",
                    re.IGNORECASE)
_TNM = {
    "t": re.compile(r"^(?:[cpy]{0,2})t(?P<value>is|[0-4])(?:mi|[a-d])?(?:\(.*\))?$",
                    re.IGNORECASE),
    "n": re.compile(r"^(?:[cpy]{0,2})n(?P<value>[0-3])(?:mi|[a-c])?(?:\(.*\))?$",
                    re.IGNORECASE),
    "m": re.compile(r"^(?:[cpy]{0,2})m(?P<value>[01])(?:[a-c])?(?:\(.*\))?$", re.IGNORECASE),
}
_TNM_MAXIMUM = {"t": 4, "n": 3, "m": 1}
_UNKNOWN_CATEGORY = re.compile(r"^(?:[cpy]{0,2})(?:t|n|m|g|stage\s*)x$", re.IGNORECASE)
_GRADE_WORDS = {
    "well differentiated": 1, "low": 1, "low grade": 1,
    "moderately differentiated": 2, "intermediate": 2, "intermediate grade": 2,
    "poorly differentiated": 3, "high": 3, "high grade": 3, "undifferentiated": 3,
}
#: A grade: ``2``, ``II``, ``G2``, ``Grade 2``, also with words around the numeral
#: (``Histologic grade II (moderately differentiated)``, ``grade 2 of 3``).
_GRADE = re.compile(r"^(?:(?:histologic(?:al)?|nottingham|elston)\s*)?(?:grade\s*|g)?"
                    r"(?P<value>[1-3]|i{1,3})(?:\s*(?:/|of)\s*(?:iii|3))?(?:\s*[-(:,;].*)?$",
                    re.IGNORECASE)

_NAMES = {"stage": " stage", "t": "n AJCC T category", "n": "n AJCC N category",
          "m": "n AJCC M category", "grade": " grade"}
_EXPECTED = {
    "stage": "an AJCC stage: 0-4, I-IV or 'Stage IIA' style (Stage X: unknown)",
    "t": "a T category: T0, Tis, T1-T4 with sub-letters (TX: unknown)",
    "n": "an N category: N0-N3 with sub-letters (NX: unknown)",
    "m": "an M category: M0 or M1 (MX: unknown)",
    "grade": "a grade: 1-3, I-III, G1-G3 or words such as 'poorly differentiated' (GX: unknown)",
}


def _value(kind: str, cell: str) -> int | None:
    """The number a non-missing cell of ``kind`` stands for, or None if it parses to nothing."""
    text = cell.strip()
    if kind in ("t", "n", "m") and text.isdigit() and int(text) <= _TNM_MAXIMUM[kind]:
        return int(text)
    if kind == "grade" and text.lower() in _GRADE_WORDS:
        return _GRADE_WORDS[text.lower()]
    if kind in ("stage", "grade"):
        match = (_STAGE if kind == "stage" else _GRADE).match(text)
        if not match:
            return None
        value = match["value"].lower()
        return int(value) if value.isdigit() else _ROMAN[value]
    match = _TNM[kind].match(text.replace(" ", ""))
    if not match:
        return None
    return 0 if match["value"].lower() == "is" else int(match["value"])


def parse_staging(table: TextTable, column: str, kind: str, report: LoadReport) -> pd.Series:
    """Nullable integers of ``column`` parsed as ``kind`` (``stage``, ``t``, ``n``, ``m`` or
    ``grade``); see the module's description for the spellings."""
    raw = table.frame[column]
    listed = missing_mask(raw, column, report)
    unknown = raw.str.match(_UNKNOWN_CATEGORY).fillna(False).astype(bool) & ~listed
    for token, count in raw[unknown].value_counts().items():
        report.recode(column, str(token), None, int(count))
    missing = listed | unknown
    spellings = {cell: _value(kind, cell) for cell in pd.unique(raw[~missing])}
    values = raw.map(spellings).where(~missing)
    bad = values.isna() & ~missing
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise table.error(f"{raw.iat[row]!r} is not a{_NAMES[kind]}",
                          row=row, column=column, expected=_EXPECTED[kind])
    numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
    changed = ~missing & (raw != numbers.astype("string"))
    for (value, to), count in pd.DataFrame(
            {"raw": raw[changed], "to": numbers[changed].astype(str)}).value_counts().items():
        report.recode(column, str(value), str(to), int(count))
    return numbers
