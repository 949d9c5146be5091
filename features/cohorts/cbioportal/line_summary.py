"""Real-world cohorts that summarise one documented line per patient (docs/treatments.md): the
line's start and agents as patient attributes, its progression-free survival from that start as
the ``PFS`` endpoint pair, and each biopsy's time relative to the line's start.

The line becomes one metastatic line of the cohort's treatments: its class from the drug
dictionary, its progression at start + PFS months when the PFS status is an event (progression
or death; an event on the day of the patient's death, by overall survival, is the death), and
its end of observation at start + PFS months otherwise. A biopsy's time relative
to the line places the sample in time for the leakage rule.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from features.cohorts.cbioportal.dialects import (
    LINE_SUMMARY_PATIENT_COLUMNS,
    LINE_SUMMARY_SAMPLE_COLUMNS,
    PRIOR_EXPOSURE_COLUMNS,
    normalised_table,
)
from features.cohorts.coding import parse_number, parse_yes_no
from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable
from features.cohorts.treatments.drugs import load_drug_dictionary, regimen_class

START, NUMBER, AGENTS = LINE_SUMMARY_PATIENT_COLUMNS
(FROM_LINE_START,) = LINE_SUMMARY_SAMPLE_COLUMNS
#: The endpoint measured from the documented line's start.
LINE_ENDPOINT = "pfs"
#: A PFS event within a day of the patient's death (overall survival) is the death.
SAME_DAY_MONTHS = 1.0 / 30.4375


def read_line_summary(patient_tables: list[TextTable], sample_tables: list[TextTable],
                      outcomes: pd.DataFrame, samples: pd.DataFrame,
                      report: LoadReport) -> pd.DataFrame | None:
    """The documented lines (the cohort's treatments table), or None when the study gives no
    line start. ``samples`` gets the biopsies' collection times (months from diagnosis)."""
    table = _table_with(patient_tables, START)
    if table is None:
        return None
    start = parse_number(table, START, report, field="line start (months)", minimum=0,
                         maximum=1200).astype(float)
    number = (parse_number(table, NUMBER, report, field="line number", minimum=1, maximum=20,
                           integer=True) if NUMBER in table.frame.columns
              else pd.Series(1, index=table.frame.index, dtype="Int64"))
    patients = table.frame["PATIENT_ID"]
    documented = start.notna().to_numpy()
    report.exclude("treatments", f"{table.name}: no documented line ({START} missing)",
                   int((~documented).sum()))
    lines = pd.DataFrame({"patient_id": patients[documented].to_numpy(),
                          "line": number[documented].fillna(1).to_numpy(),
                          "setting": "metastatic",
                          "start_months": start[documented].to_numpy()})
    lines["agent"], lines["agent_classes"], lines["therapy_class"] = _agents(
        table.frame[AGENTS][documented] if AGENTS in table.frame.columns
        else pd.Series("", index=lines.index), report)
    _outcome(lines, outcomes, report)
    _place_biopsies(sample_tables, samples, lines, report)
    unknown = lines["stop_months"].isna().to_numpy()
    report.exclude("treatments", "documented line without PFS time or status: its outcome is "
                   "unknown", int(unknown.sum()))
    lines = lines[~unknown].reset_index(drop=True)
    report.counts["documented_lines"] = len(lines)
    return pd.concat([lines, _prior_exposure(table, lines, report)], ignore_index=True)


def _prior_exposure(table: TextTable, lines: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    """Undated metastatic lines before each documented line: one per prior-exposure flag
    answered yes (its therapy class); and, for a documented later line (``LINE_NUMBER`` > 1)
    whose prior endocrine therapy is not known (no ``PRIOR_ENDOCRINE_METASTATIC`` column, or a
    blank cell) and no flag said yes, one of unknown class: what came before is not known."""
    given = [column for column in PRIOR_EXPOSURE_COLUMNS if column in table.frame.columns]
    number = lines.set_index("patient_id")["line"]
    patient_of = table.frame["PATIENT_ID"]
    rows: list[dict] = []
    endocrine_known = pd.Series(False, index=table.frame.index)
    for column in given:
        flags = parse_yes_no(table, column, report, field=f"prior exposure ({column})")
        if column == "PRIOR_ENDOCRINE_METASTATIC":
            endocrine_known = flags.notna().to_numpy()
        exposed = flags.fillna(False).to_numpy(dtype=bool)
        for row in np.flatnonzero(exposed):
            patient = patient_of.iloc[row]
            if patient not in number.index:
                continue
            if number[patient] <= 1:
                raise table.error("a prior metastatic therapy before the first metastatic line",
                                  row=int(row), column=column,
                                  expected=f"{NUMBER} above 1, or {column} no")
            rows.append({"patient_id": patient, "line": number[patient] - 1,
                         "therapy_class": PRIOR_EXPOSURE_COLUMNS[column]})
        report.counts[f"prior_exposure_{column.lower()}"] = int(exposed.sum())
    flagged = {row["patient_id"] for row in rows}
    known = set(patient_of[np.asarray(endocrine_known, dtype=bool)])
    later = number[(number > 1) & ~number.index.isin(flagged | known)]
    rows += [{"patient_id": patient, "line": line - 1, "therapy_class": None}
             for patient, line in later.items()]
    report.counts["later_lines_of_unknown_history"] = len(later)
    if len(later):
        report.warn(f"{len(later)} documented later lines ({NUMBER} above 1) whose prior "
                    "endocrine therapy is not given: their earlier lines are of unknown class")
    prior = pd.DataFrame(rows, columns=["patient_id", "line", "therapy_class"])
    return prior.assign(setting="metastatic", start_months=np.nan, stop_months=np.nan,
                        progression_months=np.nan, agent=None, agent_classes=None,
                        reason_stopped=None)


def _table_with(tables: list[TextTable], column: str) -> TextTable | None:
    """The first of ``tables`` (normalised once each) that has ``column``."""
    normalised = (normalised_table(table) for table in tables)
    return next((table for table in normalised if column in table.frame.columns), None)


def _agents(cells: pd.Series, report: LoadReport) -> tuple[list, list, list]:
    """Per line: its agents, their classes and the regimen's therapy class (unknown agents
    counted and classed ``other``)."""
    dictionary = load_drug_dictionary()
    agents, classes, therapies = [], [], []
    unknown: Counter[str] = Counter()
    for cell in cells.fillna(""):
        drugs, names = dictionary.parse_agents(cell) if cell.strip() else ([], [])
        unknown.update(name.upper() for name in names)
        agents.append("+".join([d.agent.upper() for d in drugs] + [n.upper() for n in names])
                      or None)
        classes.append("+".join(d.agent_class for d in drugs) or None)
        therapies.append(regimen_class({d.therapy_class for d in drugs})
                         or ("other" if names else None))
    for name, count in unknown.items():
        report.unknown_agents[name] = report.unknown_agents.get(name, 0) + count
    return agents, classes, therapies


def _outcome(lines: pd.DataFrame, outcomes: pd.DataFrame, report: LoadReport) -> None:
    """Progression at start + PFS when the PFS status is an event; the line observed until
    start + PFS months either way."""
    time_column, event_column = f"{LINE_ENDPOINT}_months", f"{LINE_ENDPOINT}_event"
    if time_column not in outcomes.columns or event_column not in outcomes.columns:
        report.warn("a documented line without PFS_MONTHS and PFS_STATUS: its outcome is "
                    "unknown")
        lines["stop_months"] = np.nan
        lines["progression_months"] = np.nan
        lines["reason_stopped"] = None
        return
    pfs = outcomes.reindex(lines["patient_id"])
    end = lines["start_months"].to_numpy() + pfs[time_column].astype(float).to_numpy()
    end = np.where(pfs[event_column].isna().to_numpy(), np.nan, end)  # status unknown
    event = pfs[event_column].fillna(False).astype(bool).to_numpy()
    died = np.zeros(len(lines), dtype=bool)
    if "os_months" in pfs.columns and "os_event" in pfs.columns:
        death = pfs["os_months"].astype(float).where(pfs["os_event"].fillna(False).astype(bool))
        died = event & (np.abs(death.to_numpy(dtype=float) - end) <= SAME_DAY_MONTHS)
    report.exclude("treatments", "PFS events at the patient's death: read as death, not "
                   "progression", int(died.sum()))
    lines["stop_months"] = end
    lines["progression_months"] = np.where(event & ~died, end, np.nan)
    lines["reason_stopped"] = np.where(died, "death", np.where(event, "progression", None))


def _place_biopsies(tables: list[TextTable], samples: pd.DataFrame, lines: pd.DataFrame,
                    report: LoadReport) -> None:
    """Collection times from a biopsy's months relative to its patient's line start."""
    table = _table_with(tables, FROM_LINE_START)
    if table is None:
        return
    relative = parse_number(table, FROM_LINE_START, report,
                            field="biopsy time from the line's start (months)",
                            minimum=-1200, maximum=1200).astype(float)
    starts = lines.set_index("patient_id")["start_months"]
    frame = table.frame
    placed = unplaced = 0
    for row, sample in enumerate(frame["SAMPLE_ID"]):
        value = relative.iloc[row]
        patient = frame["PATIENT_ID"].iloc[row]
        if pd.isna(value):
            continue
        if sample not in samples.index:
            unplaced += 1
            continue
        if patient not in starts.index:
            raise table.error("a biopsy time relative to a line the patient does not have",
                              row=row, column=FROM_LINE_START,
                              expected=f"a {START} for patient {patient!r}")
        known = samples.loc[sample, "collection_months"]
        if pd.notna(known) and abs(float(known) - (starts[patient] + value)) > 1.0:
            raise table.error(f"sample {sample!r}: {starts[patient] + value:.1f} months after "
                              f"diagnosis by its time from the line's start but {known:.1f} by "
                              "the sample file", row=row, column=FROM_LINE_START,
                              expected="times that agree within 1 month")
        samples.loc[sample, "collection_months"] = starts[patient] + value
        placed += 1
    report.counts["samples_placed_from_line_start"] = placed
    report.exclude("samples", f"{table.name}: biopsy times of samples not in the sample file",
                   unplaced)
