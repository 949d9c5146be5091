"""Text cells to typed values: numbers, categories, events, stages and grades, each recoding
counted and each bad cell named by file, line and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.cohorts.coding import parse_category, parse_event, parse_number
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.staging import parse_staging
from features.cohorts.tabular import read_text_table
from features.cohorts.units import days_to_months, months_to_days


def table(tmp_path: Path, column: str, cells: list[str]):
    path = tmp_path / "data_clinical_patient.txt"
    path.write_text("\n".join(["#comment", f"PATIENT_ID\t{column}",
                               *(f"P{k}\t{c}" for k, c in enumerate(cells))]) + "\n")
    return read_text_table(path)


def test_stages_and_grades_from_their_spellings(tmp_path: Path) -> None:
    report = LoadReport(source="test")
    stages = parse_staging(table(tmp_path, "STAGE", ["Stage IIIA", "2", "IV", "Stage X", ""]),
                           "STAGE", "stage", report)
    assert stages.tolist()[:3] == [3, 2, 4]
    assert stages.iloc[3:].isna().all()
    grades = parse_staging(table(tmp_path, "GRADE", ["II", "G3", "well differentiated",
                                                     "Grade II (moderately differentiated)",
                                                     "grade 3 of 3"]),
                           "GRADE", "grade", report)
    assert grades.tolist() == [2, 3, 1, 2, 3]
    t = parse_staging(table(tmp_path, "T", ["pT1c", "Tis", "T4b"]), "T", "t", report)
    assert t.tolist() == [1, 0, 4]


def test_a_stage_that_parses_to_nothing_names_its_file_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(CohortError) as error:
        parse_staging(table(tmp_path, "STAGE", ["2", "Stage 9"]), "STAGE", "stage",
                      LoadReport(source="test"))
    message = str(error.value)
    assert "data_clinical_patient.txt" in message
    assert "line 4" in message
    assert "STAGE" in message


def test_numbers_categories_and_events(tmp_path: Path) -> None:
    report = LoadReport(source="test")
    ages = parse_number(table(tmp_path, "AGE", ["61", "", "NA"]), "AGE", report, field="age",
                        minimum=0, maximum=120)
    assert ages.iloc[0] == 61
    assert ages.iloc[1:].isna().all()
    er = parse_category(table(tmp_path, "ER", ["Positve", "negative", "Unknown"]), "ER",
                        "receptor_status", report, field="er_status")
    assert er.tolist()[:2] == ["positive", "negative"]
    assert pd.isna(er.iloc[2])
    events = parse_event(table(tmp_path, "RFS_STATUS", ["1:Recurred", "0:Not Recurred"]),
                         "RFS_STATUS", report, field="rfs")
    assert events.tolist() == [True, False]


def test_days_and_months_round_trip() -> None:
    assert days_to_months(30.4375) == 1.0
    assert months_to_days(days_to_months(365.25)) == pytest.approx(365.25)
