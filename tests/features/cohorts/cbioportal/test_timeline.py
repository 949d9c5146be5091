"""Timeline files read by event type: progression values and statuses, negations never read as
the event they deny."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.cohorts.cbioportal.timeline import read_timelines
from features.cohorts.report import LoadReport


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tSTATUS", *rows])
                    + "\n")
    return path


def test_statuses_that_deny_progression_or_metastasis_are_not_events(tmp_path: Path) -> None:
    path = write(tmp_path / "data_timeline_status.txt", [
        "P1\t100\t\tSTATUS\tProgressive disease", "P1\t50\t\tSTATUS\tNo progression",
        "P1\t60\t\tStatus\tNot progressing", "P2\t30\t\tSTATUS\tNon-metastatic",
        "P2\t40\t\tSTATUS\tLocal recurrence", "P2\t70\t\tSTATUS\tMetastatic recurrence"])
    report = LoadReport(source="test")
    timeline = read_timelines([path], pd.Index(["P1", "P2"]), report)
    assert timeline.progression["patient_id"].tolist() == ["P1"]
    assert timeline.progression["months"].round(3).tolist() == [round(100 / 30.4375, 3)]
    assert timeline.onset["patient_id"].tolist() == ["P2"]
    assert timeline.onset["months"].round(3).tolist() == [round(70 / 30.4375, 3)]
    counts = report.timelines[0]
    assert counts["unread"]["STATUS (other, or negated)"] == 4
