"""The per-line-summary dialect (a real-world cohort's one documented line per patient: line
start, number and agents, PFS from the line's start, biopsies timed from it) reads back to the
generator's first metastatic lines, their outcomes and the endocrine-resistance labels, within
its documented loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.cohorts import load_cbioportal_study
from features.cohorts.cbioportal.dialect_writer import DIALECT_LOSSES, write_study_dialect
from features.cohorts.cohort import Cohort
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import labels_for_task
from features.line_outcomes import line_outcomes

N_PATIENTS = 500


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Cohort, LoadReport]]:
    cohort = build_synthetic_cohort(N_PATIENTS, 5)
    root = tmp_path_factory.mktemp("line-summary")
    return {dialect: load_cbioportal_study(write_study_dialect(cohort, root / dialect,
                                                                dialect))
            for dialect in ("cbioportal", "line_summary")}


def _first_lines(cohort: Cohort) -> pd.DataFrame:
    lines = cohort.treatments
    return (lines[lines["setting"] == "metastatic"].sort_values(["patient_id", "line"])
            .groupby("patient_id").first())


def test_the_documented_line_is_the_first_metastatic_line(loaded: dict) -> None:
    native, (summary, report) = _first_lines(loaded["cbioportal"][0]), loaded["line_summary"]
    documented = summary.treatments.set_index("patient_id")
    assert "line_summary" in DIALECT_LOSSES
    assert documented.index.equals(native.index)
    assert (documented["therapy_class"] == native["therapy_class"]).all()
    np.testing.assert_allclose(documented["start_months"].astype(float),
                               native["start_months"].astype(float))
    np.testing.assert_allclose(summary.samples["collection_months"].astype(float),
                               loaded["cbioportal"][0].samples["collection_months"].astype(float))
    patients = len(summary.patients)
    assert report.counts["documented_lines"] == len(native)
    assert report.excluded_count("treatments") >= patients - len(native)  # no line: counted
    read = {(column, to) for _, column, to in report.columns_read}
    assert ("LINE_START_MONTHS", "treatments (per-line summary)") in read
    assert not [c for _, c in report.unknown_columns if c.startswith("LINE_")]


def test_outcomes_and_resistance_labels_are_the_generators(loaded: dict) -> None:
    native_cohort, summary = loaded["cbioportal"][0], loaded["line_summary"][0]
    first = _first_lines(native_cohort)
    documented = summary.treatments.set_index("patient_id").loc[first.index]
    expected, found = line_outcomes(native_cohort, first), line_outcomes(summary, documented)
    np.testing.assert_allclose(found["time_months"], expected["time_months"], atol=1e-9)
    assert (found["event"] == expected["event"]).all()
    assert (found["died"] == expected["died"]).all()  # a PFS event at death is the death
    native = labels_for_task(native_cohort, "resistance_endocrine")
    derived = labels_for_task(summary, "resistance_endocrine")
    assert native.y.index.equals(derived.y.index)
    assert (native.y["label"] == derived.y["label"]).all()
    np.testing.assert_allclose(native.y["time_months"], derived.y["time_months"], atol=1e-9)
    assert native.exclusions == derived.exclusions


def test_a_line_whose_pfs_is_unknown_is_excluded_and_counted(tmp_path: Path) -> None:
    folder = write_study_dialect(build_synthetic_cohort(60, 2), tmp_path / "s", "line_summary")
    path = folder / "data_clinical_patient.txt"
    header, *rows = path.read_text().splitlines()
    column = header.split("\t").index("PFS_STATUS")
    documented = header.split("\t").index("LINE_START_MONTHS")
    target = next(k for k, row in enumerate(rows) if row.split("\t")[documented])
    cells = rows[target].split("\t")
    cells[column] = ""
    rows[target] = "\t".join(cells)
    path.write_text("\n".join([header, *rows]) + "\n")
    cohort, report = load_cbioportal_study(folder)
    patient = cells[0]
    assert patient not in set(cohort.treatments["patient_id"])
    reasons = {e.reason: e.count for e in report.exclusions}
    assert reasons["documented line without PFS time or status: its outcome is unknown"] == 1


def _documented_later_line(tmp_path: Path, flags: dict[str, str] | None) -> tuple[Path, str]:
    """A line-summary study whose first patient with an endocrine line and a progression-free
    first 6 months or an early progression becomes a documented second line; ``flags`` set
    its prior-exposure cells (None: the study gives no flag columns)."""
    cohort = build_synthetic_cohort(200, 4)
    folder = write_study_dialect(cohort, tmp_path / "s", "line_summary")
    labelled = labels_for_task(load_cbioportal_study(folder)[0], "resistance_endocrine").y.index
    path = folder / "data_clinical_patient.txt"
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    target = str(labelled[0])
    row = table.index[table["PATIENT_ID"] == target][0]
    table.loc[row, "LINE_NUMBER"] = "2"
    if flags is None:
        table = table.drop(columns=[c for c in table.columns if c.startswith("PRIOR_")])
    for column, value in (flags or {}).items():
        table.loc[row, column] = value
    table.to_csv(path, sep="\t", index=False)
    return folder, target


def test_a_prior_exposure_flag_makes_a_prior_line_and_ends_the_abc_first_line(
        tmp_path: Path) -> None:
    folder, patient = _documented_later_line(tmp_path, {"PRIOR_ENDOCRINE_METASTATIC": "Yes",
                                                        "PRIOR_CDK46_INHIBITOR": "Yes"})
    cohort, report = load_cbioportal_study(folder)
    assert report.counts["prior_exposure_prior_endocrine_metastatic"] == 1
    labels = labels_for_task(cohort, "resistance_endocrine")
    assert patient not in labels.y.index
    reasons = {e.reason: e.count for e in labels.exclusions}
    assert [count for reason, count in reasons.items()
            if reason.startswith("an earlier metastatic endocrine line without a date")] == [1]
    progression = labels_for_task(cohort, "progression")
    design = build_design(cohort, progression.time_origin)
    assert design.loc[patient, "clin__prior_endocrine"] == 1.0
    assert design.loc[patient, "clin__prior_cdk46_inhibitor"] == 1.0
    assert design.loc[patient, "clin__prior_chemotherapy"] == 0.0
    assert design.loc[patient, "clin__prior_lines"] == 1.0  # two flags, one line (line 2)
    others = design.index.difference([patient])
    assert (design.loc[others, ["clin__prior_endocrine", "clin__prior_cdk46_inhibitor"]]
            == 0.0).all().all()


@pytest.mark.parametrize("flags", [None, {"PRIOR_ENDOCRINE_METASTATIC": ""}])
def test_a_later_line_without_its_endocrine_history_has_an_unknown_history(
        tmp_path: Path, flags: dict[str, str] | None) -> None:
    folder, patient = _documented_later_line(tmp_path, flags)
    cohort, report = load_cbioportal_study(folder)
    assert report.counts["later_lines_of_unknown_history"] == 1
    assert any("unknown class" in warning for warning in report.warnings)
    assert patient not in labels_for_task(cohort, "resistance_endocrine").y.index
    progression = labels_for_task(cohort, "progression")
    design = build_design(cohort, progression.time_origin)
    assert design.loc[patient, "clin__prior_lines"] == 1.0  # line 2: one line before it


def test_a_prior_exposure_before_a_first_line_is_an_error(tmp_path: Path) -> None:
    folder, _ = _documented_later_line(tmp_path, {"PRIOR_ENDOCRINE_METASTATIC": "Yes"})
    path = folder / "data_clinical_patient.txt"
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    table.loc[table["PRIOR_ENDOCRINE_METASTATIC"] == "Yes", "LINE_NUMBER"] = "1"
    table.to_csv(path, sep="\t", index=False)
    with pytest.raises(CohortError) as error:
        load_cbioportal_study(folder)
    assert error.value.column == "PRIOR_ENDOCRINE_METASTATIC"
    assert "first metastatic line" in str(error.value)
