"""cBioPortal timeline files (``datatype: TIMELINE``): treatment, progression, status and
specimen events, from one or several files.

Every file has ``PATIENT_ID``, ``START_DATE`` and ``STOP_DATE`` (days from diagnosis) and
``EVENT_TYPE``. What is read, by event type (any case; spaces or underscores alike):

- ``TREATMENT``: one row per agent (``AGENT``, possibly several joined as in
  ``LETROZOLE+PALBOCICLIB``; ``TREATMENT_TYPE``/``SUBTYPE`` when no agent is named), classed by
  the drug dictionary; lines are then derived by :mod:`features.cohorts.treatments.lines`. A
  file with a ``LINE`` column holds lines already (mbcrisk's own dialect: ``LINE``,
  ``SETTING``, ``THERAPY_CLASS``, ``REASON_STOPPED``), read as they are.
- ``PROGRESSION``: a progression assessment; its value (``PROGRESSION``, ``VALUE``, ``RESULT``
  or ``STATUS`` column: ``Y``/``N``, ``Progressing``/``Stable`` ...) says whether the disease
  progressed; without a value column every such event is a progression.
- ``STATUS``: a ``STATUS`` naming progression is a progression event; one naming metastatic
  disease or recurrence dates the metastatic onset; other statuses are left unread.
- ``SPECIMEN`` or ``SAMPLE ACQUISITION`` with a ``SAMPLE_ID``: the day the sample was taken.

Everything else (surgery, imaging, lab tests, sequencing dates ...) is counted per file as left
unread. Every recoding, exclusion and unknown agent goes into the load report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.cohorts.coding import missing_mask, parse_category, parse_number
from features.cohorts.report import LoadReport
from features.cohorts.schema import RowSource
from features.cohorts.tabular import TextTable, read_text_table
from features.cohorts.treatments.drugs import (
    UNKNOWN_AGENT,
    DrugDictionary,
    load_drug_dictionary,
)
from features.cohorts.units import days_to_months

REQUIRED = ("PATIENT_ID", "START_DATE", "EVENT_TYPE")
SPECIMEN_EVENTS = frozenset({"SPECIMEN", "SAMPLE ACQUISITION"})
#: Columns that may carry a progression assessment's value, in order of preference.
PROGRESSION_VALUE_COLUMNS = ("PROGRESSION", "VALUE", "RESULT", "STATUS")
PROGRESSED = frozenset({"y", "yes", "1", "true", "progressing", "progression", "progressed",
                        "progressive disease", "pd", "disease progression"})
NOT_PROGRESSED = frozenset({"n", "no", "0", "false", "stable", "stable disease", "sd",
                            "not progressing", "no progression", "response", "responding",
                            "partial response", "complete response", "pr", "cr",
                            "mixed", "indeterminate", "improving"})
#: A STATUS that denies what it names ("No progression", "Non-metastatic") is not that event.
NEGATION = r"\b(?:no|not|non|without|free of)\b|\bnon-"
#: Words of a STATUS value that date the metastatic onset (local recurrence does not).
METASTATIC_STATUS = ("metasta", "recurren", "relapse", "stage iv", "advanced disease")
#: Words of a TREATMENT_TYPE or SUBTYPE of radiotherapy, not systemic therapy.
RADIATION = ("radiation", "radiotherapy", "radio therapy")
_AGENT_COLUMNS = ["patient_id", "agent", "agent_class", "therapy_class", "start_months",
                  "stop_months", "file", "line"]


@dataclass
class Timeline:
    """What the timeline files hold: lines given as such (mbcrisk's dialect) or agent rows,
    progression events, metastatic-onset events and the day each sample was taken (months
    from diagnosis), each row with its file and line for errors."""

    lines: pd.DataFrame | None = None
    line_source: RowSource | None = None
    agents: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_AGENT_COLUMNS))
    progression: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["patient_id", "months"]))
    onset: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["patient_id", "months"]))
    specimens: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["patient_id", "sample_id", "months", "file", "line"]))


def read_timelines(paths: list[Path], patients: pd.Index, report: LoadReport) -> Timeline:
    """Read every timeline file of a study (``patients``: the patient file's identifiers, a
    row naming another is an error)."""
    timeline = Timeline()
    agents, progression, onset, specimens = [], [], [], []
    dictionary = load_drug_dictionary()
    for path in paths:
        table = read_text_table(path, report)
        _check_columns(table)
        _check_patients(table, patients)
        kinds = _event_kinds(table)
        summary = {"file": table.name, "read": Counter(), "unread": Counter()}
        treatment = (kinds == "TREATMENT").to_numpy()
        if treatment.any() and "LINE" in table.frame.columns:
            if timeline.lines is not None:
                raise table.error("a second timeline file of treatment lines; mbcrisk reads "
                                  "one", column="LINE", expected="one file with a LINE column")
            timeline.lines, timeline.line_source = _read_lines(table, treatment, report)
            summary["read"]["TREATMENT (lines)"] += int(treatment.sum())
        elif treatment.any():
            agents.append(_read_agents(table, treatment, dictionary, report, summary))
        progression.append(_read_progression(table, kinds, report, summary))
        events, onsets = _read_status(table, kinds, report, summary)
        progression.append(events)
        onset.append(onsets)
        specimens.append(_read_specimens(table, kinds, report, summary))
        for kind, count in kinds[~kinds.isin(["TREATMENT", "PROGRESSION", "STATUS",
                                              *SPECIMEN_EVENTS])].value_counts().items():
            summary["unread"][kind] += int(count)
        report.timelines.append({"file": table.name, "read": dict(summary["read"]),
                                 "unread": dict(summary["unread"])})
    if agents:
        timeline.agents = pd.concat(agents, ignore_index=True)
    timeline.progression = _concat(progression, ["patient_id", "months"])
    timeline.onset = _concat(onset, ["patient_id", "months"])
    timeline.specimens = _concat(specimens, ["patient_id", "sample_id", "months", "file",
                                             "line"])
    return timeline


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _check_columns(table: TextTable) -> None:
    for column in REQUIRED:
        if column not in table.frame.columns:
            raise table.error("required timeline column is missing", column=column,
                              expected="PATIENT_ID, START_DATE, STOP_DATE, EVENT_TYPE")


def _check_patients(table: TextTable, patients: pd.Index) -> None:
    unknown = ~table.frame["PATIENT_ID"].isin(patients).to_numpy()
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise table.error(f"patient {table.frame['PATIENT_ID'].iloc[row]!r} is not in the "
                          "patients table", row=row, column="PATIENT_ID")


def _event_kinds(table: TextTable) -> pd.Series:
    return (table.frame["EVENT_TYPE"].str.strip().str.upper().str.replace("_", " ")
            .str.replace(r"\s+", " ", regex=True))


def _days(table: TextTable, column: str, report: LoadReport, rows: np.ndarray) -> pd.Series:
    """Months from diagnosis of a day column, for ``rows`` (NA where absent)."""
    if column not in table.frame.columns:
        return pd.Series(np.nan, index=table.frame.index[rows], dtype="Float64")
    days = parse_number(table, column, report, field=f"timeline {column.lower()} (days)",
                        minimum=-36525, maximum=36525)
    return days_to_months(days)[rows]


def _check_order(table: TextTable, start: pd.Series, stop: pd.Series) -> None:
    backwards = (stop < start).fillna(False).to_numpy()
    if backwards.any():
        position = int(np.flatnonzero(backwards)[0])
        raise table.error("treatment stops before it starts",
                          row=table.frame.index.get_loc(start.index[position]),
                          column="STOP_DATE", expected="STOP_DATE >= START_DATE")


def _read_lines(table: TextTable, rows: np.ndarray,
                report: LoadReport) -> tuple[pd.DataFrame, RowSource]:
    """Rows that are lines already (mbcrisk's dialect)."""
    start = _days(table, "START_DATE", report, rows)
    stop = _days(table, "STOP_DATE", report, rows)
    _check_order(table, start, stop)
    class_column = next((c for c in ("THERAPY_CLASS", "TREATMENT_TYPE") if c in table.frame),
                        None)
    frame = table.frame
    lines = pd.DataFrame(
        {
            "patient_id": frame["PATIENT_ID"][rows],
            "line": _optional_number(table, "LINE", report)[rows],
            "setting": _optional_category(table, "SETTING", "treatment_setting", report)[rows],
            "therapy_class": (parse_category(table, class_column, "therapy_class", report,
                                             field="therapy class")[rows]
                              if class_column else pd.NA),
            "agent": frame["AGENT"].where(frame["AGENT"] != "")[rows] if "AGENT" in frame
            else pd.NA,
            "start_months": start,
            "stop_months": stop,
            "reason_stopped": _optional_category(table, "REASON_STOPPED", "reason_stopped",
                                                 report)[rows],
        }
    ).reset_index(drop=True)
    read = {"PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "LINE", "SETTING", "AGENT",
            "REASON_STOPPED", class_column}
    report.unknown_columns.extend((table.name, c) for c in frame.columns if c not in read)
    file_lines = [line for line, keep in zip(table.lines, rows, strict=True) if keep]
    columns = {"patient_id": "PATIENT_ID", "start_months": "START_DATE",
               "stop_months": "STOP_DATE", "line": "LINE"}
    return lines, RowSource(table.name, file_lines, columns)


def _read_agents(table: TextTable, rows: np.ndarray, dictionary: DrugDictionary,
                 report: LoadReport, summary: dict) -> pd.DataFrame:
    """One row per agent given (a cell naming several gives several), classed by the drug
    dictionary; radiotherapy and unknown agents are counted, never guessed."""
    frame = table.frame
    start = _days(table, "START_DATE", report, rows)
    stop = _days(table, "STOP_DATE", report, rows)
    _check_order(table, start, stop)
    described = [c for c in ("TREATMENT_TYPE", "SUBTYPE") if c in frame]
    kind = (frame[described].agg(" ".join, axis=1) if described
            else pd.Series("", index=frame.index))
    agent_cells = frame["AGENT"] if "AGENT" in frame else pd.Series("", index=frame.index)
    generic = (parse_category(table, "SUBTYPE" if "SUBTYPE" in frame else "TREATMENT_TYPE",
                              "therapy_class", report, field="therapy class")
               if "SUBTYPE" in frame or "TREATMENT_TYPE" in frame else
               pd.Series(pd.NA, index=frame.index))
    unknown: Counter[str] = Counter()
    out = []
    radiation = 0
    for position, index in enumerate(frame.index[rows]):
        if any(word in kind[index].lower() for word in RADIATION):
            radiation += 1
            continue
        row = {"patient_id": frame["PATIENT_ID"][index], "start_months": start.iloc[position],
               "stop_months": stop.iloc[position], "file": table.name,
               "line": table.lines[table.frame.index.get_loc(index)]}
        cell = agent_cells[index].strip()
        drugs, names = dictionary.parse_agents(cell) if cell else ([], [])
        for drug in drugs:
            out.append({**row, "agent": drug.agent, "agent_class": drug.agent_class,
                        "therapy_class": drug.therapy_class})
        for name in names:
            unknown[name.upper()] += 1
            out.append({**row, "agent": name.lower(), "agent_class": UNKNOWN_AGENT,
                        "therapy_class": "other"})
        if not cell:
            therapy = generic[index]
            therapy = "other" if pd.isna(therapy) else str(therapy)
            out.append({**row, "agent": f"unnamed {therapy}", "agent_class": f"unnamed {therapy}",
                        "therapy_class": therapy})
    summary["read"]["TREATMENT (agents)"] += int(rows.sum()) - radiation
    if radiation:
        report.exclude("treatments", f"{table.name}: radiotherapy rows (not a line of systemic "
                       "therapy)", radiation)
        summary["unread"]["TREATMENT (radiotherapy)"] += radiation
    for name, count in sorted(unknown.items()):
        report.unknown_agents[name] = report.unknown_agents.get(name, 0) + count
    read = {"PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "AGENT", "TREATMENT_TYPE",
            "SUBTYPE"}
    report.unknown_columns.extend(
        (table.name, c) for c in frame.columns if c not in read and c not in _OTHER_EVENTS_READ)
    return pd.DataFrame(out, columns=_AGENT_COLUMNS)


#: Columns of other event types, read with them (not "unknown" in a treatment file).
_OTHER_EVENTS_READ = {"SAMPLE_ID", "STATUS", "PROGRESSION", "VALUE", "RESULT"}


def _read_progression(table: TextTable, kinds: pd.Series, report: LoadReport,
                      summary: dict) -> pd.DataFrame:
    rows = (kinds == "PROGRESSION").to_numpy()
    if not rows.any():
        return pd.DataFrame(columns=["patient_id", "months"])
    months = _days(table, "START_DATE", report, rows)
    column = next((c for c in PROGRESSION_VALUE_COLUMNS if c in table.frame.columns), None)
    if column is None:
        progressed = np.ones(int(rows.sum()), dtype=bool)
    else:
        values = table.frame[column][rows].str.strip().str.lower()
        missing = missing_mask(table.frame[column], column, report)[rows].to_numpy()
        progressed = values.isin(PROGRESSED).to_numpy()
        understood = progressed | values.isin(NOT_PROGRESSED).to_numpy() | missing
        report.exclude("progression events", f"{table.name}: {column} value not understood "
                       "(neither progression nor its absence)", int((~understood).sum()))
        report.exclude("progression events", f"{table.name}: {column} missing",
                       int(missing.sum()))
        summary["read"]["PROGRESSION (not progressed)"] += int(
            (understood & ~progressed & ~missing).sum())
    summary["read"]["PROGRESSION (progressed)"] += int(progressed.sum())
    return pd.DataFrame({"patient_id": table.frame["PATIENT_ID"][rows].to_numpy()[progressed],
                         "months": months.to_numpy(dtype=float)[progressed]})


def _read_status(table: TextTable, kinds: pd.Series, report: LoadReport,
                 summary: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Progression events and metastatic-onset events among STATUS rows."""
    rows = (kinds == "STATUS").to_numpy()
    empty = pd.DataFrame(columns=["patient_id", "months"])
    if not rows.any() or "STATUS" not in table.frame.columns:
        if rows.any():
            summary["unread"]["STATUS (no STATUS column)"] += int(rows.sum())
        return empty, empty
    status = table.frame["STATUS"][rows].str.strip().str.lower()
    months = _days(table, "START_DATE", report, rows)
    negated = status.str.contains(NEGATION).to_numpy()
    progressed = ~negated & (status.isin(PROGRESSED).to_numpy()
                             | status.str.contains("progress").to_numpy())
    onset = ~negated & ~progressed & status.apply(
        lambda s: any(w in s for w in METASTATIC_STATUS) and "local" not in s
    ).to_numpy(dtype=bool)
    summary["read"]["STATUS (progression)"] += int(progressed.sum())
    summary["read"]["STATUS (metastatic onset)"] += int(onset.sum())
    summary["unread"]["STATUS (other, or negated)"] += int((~progressed & ~onset).sum())
    patients = table.frame["PATIENT_ID"][rows].to_numpy()
    values = months.to_numpy(dtype=float)
    return (pd.DataFrame({"patient_id": patients[progressed], "months": values[progressed]}),
            pd.DataFrame({"patient_id": patients[onset], "months": values[onset]}))


def _read_specimens(table: TextTable, kinds: pd.Series, report: LoadReport,
                    summary: dict) -> pd.DataFrame:
    rows = kinds.isin(SPECIMEN_EVENTS).to_numpy()
    columns = ["patient_id", "sample_id", "months", "file", "line"]
    if not rows.any():
        return pd.DataFrame(columns=columns)
    if "SAMPLE_ID" not in table.frame.columns:
        summary["unread"]["SPECIMEN (no SAMPLE_ID column)"] += int(rows.sum())
        return pd.DataFrame(columns=columns)
    months = _days(table, "START_DATE", report, rows)
    summary["read"]["SPECIMEN"] += int(rows.sum())
    return pd.DataFrame({
        "patient_id": table.frame["PATIENT_ID"][rows].to_numpy(),
        "sample_id": table.frame["SAMPLE_ID"][rows].to_numpy(),
        "months": months.to_numpy(dtype=float), "file": table.name,
        "line": [line for line, keep in zip(table.lines, rows, strict=True) if keep]})


def _optional_number(table: TextTable, column: str, report: LoadReport) -> pd.Series:
    if column not in table.frame.columns:
        return pd.Series(pd.NA, index=table.frame.index, dtype="Int64")
    return parse_number(table, column, report, field=column.lower(), minimum=0, integer=True)


def _optional_category(table: TextTable, column: str, domain: str,
                       report: LoadReport) -> pd.Series:
    if column not in table.frame.columns:
        return pd.Series(pd.NA, index=table.frame.index, dtype="object")
    return parse_category(table, column, domain, report, field=column.lower())
