"""Treatment lines from a cBioPortal timeline file (``EVENT_TYPE`` = ``TREATMENT``).

cBioPortal columns: ``PATIENT_ID``, ``START_DATE``, ``STOP_DATE`` (days from diagnosis),
``EVENT_TYPE``, ``TREATMENT_TYPE``, ``AGENT``. mbcrisk also reads ``LINE``, ``SETTING``,
``THERAPY_CLASS`` and ``REASON_STOPPED`` when present (the synthetic cohort writes them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.cohorts.coding import parse_category, parse_number
from features.cohorts.report import LoadReport
from features.cohorts.schema import RowSource
from features.cohorts.tabular import TextTable, read_text_table
from features.cohorts.units import days_to_months


def read_treatments(path: Path, report: LoadReport) -> tuple[pd.DataFrame, RowSource]:
    """The treatment rows of a timeline file, and where each came from."""
    table = read_text_table(path, report)
    for column in ("PATIENT_ID", "START_DATE", "EVENT_TYPE"):
        if column not in table.frame.columns:
            raise table.error("required timeline column is missing", column=column,
                              expected="PATIENT_ID, START_DATE, STOP_DATE, EVENT_TYPE")
    frame = table.frame
    is_treatment = (frame["EVENT_TYPE"].str.upper() == "TREATMENT").to_numpy()
    if (~is_treatment).any():
        report.exclude("treatments", f"{table.name}: timeline events other than TREATMENT",
                       int((~is_treatment).sum()))
    start = parse_number(table, "START_DATE", report, field="treatment start (days)")
    stop = (parse_number(table, "STOP_DATE", report, field="treatment stop (days)")
            if "STOP_DATE" in frame else pd.Series(np.nan, index=frame.index, dtype="Float64"))
    class_column = next((c for c in ("THERAPY_CLASS", "TREATMENT_TYPE") if c in frame), None)
    treatments = pd.DataFrame(
        {
            "patient_id": frame["PATIENT_ID"],
            "line": _optional_number(table, "LINE", report, integer=True),
            "setting": _optional_category(table, "SETTING", "treatment_setting", report),
            "therapy_class": (parse_category(table, class_column, "therapy_class", report,
                                             field="therapy class")
                              if class_column else pd.Series(pd.NA, index=frame.index)),
            "agent": frame["AGENT"].where(frame["AGENT"] != "") if "AGENT" in frame else pd.NA,
            "start_months": days_to_months(start),
            "stop_months": days_to_months(stop),
            "reason_stopped": _optional_category(table, "REASON_STOPPED", "reason_stopped",
                                                 report),
        }
    )[is_treatment].reset_index(drop=True)
    read = {"PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "LINE", "SETTING", "AGENT",
            "REASON_STOPPED", class_column}
    report.unknown_columns.extend((table.name, c) for c in frame.columns if c not in read)
    lines = [line for line, keep in zip(table.lines, is_treatment, strict=True) if keep]
    columns = {"patient_id": "PATIENT_ID", "start_months": "START_DATE",
               "stop_months": "STOP_DATE", "line": "LINE"}
    return treatments, RowSource(table.name, lines, columns)


def _optional_number(table: TextTable, column: str, report: LoadReport, *,
                     integer: bool) -> pd.Series:
    if column not in table.frame.columns:
        return pd.Series(pd.NA, index=table.frame.index, dtype="Int64" if integer else "Float64")
    return parse_number(table, column, report, field=column.lower(), minimum=0, integer=integer)


def _optional_category(table: TextTable, column: str, domain: str,
                       report: LoadReport) -> pd.Series:
    if column not in table.frame.columns:
        return pd.Series(pd.NA, index=table.frame.index, dtype="object")
    return parse_category(table, column, domain, report, field=column.lower())
