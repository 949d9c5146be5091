"""The clinicogenomic dialect (agent-level treatment timeline, progression, status and specimen
timelines; no line or class columns) reads back to the generator's lines, labels and design,
within its documented loss; on 3,000 patients the trained models score alike (long test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.validate import validation_result
from features.cohorts import load_cbioportal_study
from features.cohorts.cbioportal.dialect_writer import DIALECT_LOSSES, write_study_dialect
from features.cohorts.cohort import Cohort
from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import labels_for_task

N_PATIENTS = 500
TASKS = ("progression", "resistance_endocrine")
#: Columns the dialect carries; the agent names and metastatic stops are its documented loss.
CARRIED = ["patient_id", "line", "setting", "therapy_class", "start_months"]


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cohort = build_synthetic_cohort(N_PATIENTS, 5)
    root = tmp_path_factory.mktemp("treatment-dialects")
    return {dialect: write_study_dialect(cohort, root / dialect, dialect)
            for dialect in ("cbioportal", "clinicogenomic")}


@pytest.fixture(scope="module")
def cohorts(studies: dict[str, Path]) -> dict[str, Cohort]:
    return {dialect: load_cbioportal_study(folder)[0] for dialect, folder in studies.items()}


def _lines(cohort: Cohort) -> pd.DataFrame:
    return (cohort.treatments[CARRIED].sort_values(["patient_id", "line", "start_months",
                                                   "therapy_class"])
            .reset_index(drop=True))


def test_the_folder_has_agents_and_no_line_columns(studies: dict[str, Path]) -> None:
    header = (studies["clinicogenomic"] / "data_timeline_treatment.txt").read_text().split(
        "\n", 1)[0].split("\t")
    assert {"AGENT", "TREATMENT_TYPE", "SUBTYPE"} <= set(header)
    assert not {"LINE", "SETTING", "THERAPY_CLASS", "REASON_STOPPED"} & set(header)
    sample_header = (studies["clinicogenomic"] / "data_clinical_sample.txt").read_text()
    assert "COLLECTION_MONTHS" not in sample_header
    assert "clinicogenomic" in DIALECT_LOSSES


def test_derived_lines_are_the_generators(cohorts: dict[str, Cohort]) -> None:
    native, derived = _lines(cohorts["cbioportal"]), _lines(cohorts["clinicogenomic"])
    pd.testing.assert_frame_equal(native, derived, check_exact=False, atol=1e-9)
    cdk46 = cohorts["clinicogenomic"].treatments.query("therapy_class == 'endocrine_cdk46'")
    assert set(cdk46["agent_classes"]) >= {"aromatase_inhibitor+cdk46_inhibitor"}


@pytest.mark.parametrize("task", TASKS)
def test_labels_and_designs_are_identical(cohorts: dict[str, Cohort], task: str) -> None:
    native = labels_for_task(cohorts["cbioportal"], task)
    derived = labels_for_task(cohorts["clinicogenomic"], task)
    pd.testing.assert_frame_equal(native.y, derived.y)
    assert native.exclusions == derived.exclusions
    pd.testing.assert_series_equal(native.origin_months, derived.origin_months)
    X_native = build_design(cohorts["cbioportal"], native.time_origin)
    X_derived = build_design(cohorts["clinicogenomic"], derived.time_origin)
    pd.testing.assert_frame_equal(X_native, X_derived)


def test_validate_reports_the_rules_the_agents_and_the_specimens(
        studies: dict[str, Path], cohorts: dict[str, Cohort]) -> None:
    result = validation_result(str(studies["clinicogenomic"]))
    rules = result["line_rules"]
    assert rules["lines derived"] == len(cohorts["clinicogenomic"].treatments)
    assert rules["same line: started within the regimen window"] > 0
    assert rules["new line: agent started after a progression on the line"] > 0
    assert result["unknown_agents"] == {}
    timed = int(cohorts["cbioportal"].samples["collection_months"].notna().sum())
    assert result["counts_read"]["samples_placed_by_specimen_events"] == timed
    files = {t["file"]: t for t in result["timelines"]}
    assert set(files) == {"data_timeline_treatment.txt", "data_timeline_progression.txt",
                          "data_timeline_status.txt", "data_timeline_specimen.txt"}
    assert files["data_timeline_progression.txt"]["read"]["PROGRESSION (progressed)"] > 0


def test_an_unknown_agent_is_counted_and_listed_never_guessed(studies: dict[str, Path],
                                                              tmp_path: Path) -> None:
    import shutil

    folder = shutil.copytree(studies["clinicogenomic"], tmp_path / "study")
    path = folder / "data_timeline_treatment.txt"
    path.write_text(path.read_text().replace("\tERIBULIN\n", "\tZORBILIMAB\n"))
    cohort, report = load_cbioportal_study(folder)
    assert report.unknown_agents.get("ZORBILIMAB", 0) > 0
    assert any("ZORBILIMAB" in warning for warning in report.warnings)
    assert (cohort.treatments["agent"] == "ZORBILIMAB").any()
    assert (cohort.treatments.loc[cohort.treatments["agent"] == "ZORBILIMAB",
                                  "therapy_class"] == "other").all()


@pytest.mark.long
@pytest.mark.parametrize("task", TASKS)
def test_3000_patients_train_alike_in_both_dialects(tmp_path: Path, task: str) -> None:
    """Harrell's C (progression) or AUROC (resistance) of the cross-validated model in the
    clinicogenomic dialect within 0.01 of the native one."""
    from training.config import load_config
    from training.evaluation.cross_validation import evaluate
    from training.horizons import with_served_horizons
    from training.sample_size import sample_size
    from training.train import _pipelines

    cohort = build_synthetic_cohort(3000, 11)
    scores = {}
    for dialect in ("cbioportal", "clinicogenomic"):
        loaded, _ = load_cbioportal_study(write_study_dialect(cohort, tmp_path / dialect,
                                                               dialect))
        labels = labels_for_task(loaded, task)
        X = build_design(loaded, labels.time_origin)
        config, _ = with_served_horizons(load_config(
            None, task=task.split("_")[0], therapy="endocrine" if "resistance" in task
            else None), labels)
        pipelines = _pipelines(labels, config, size=sample_size(labels, X))
        result = evaluate(X, labels, pipelines, config, pd.DataFrame(index=X.index))
        metric = "harrell_c" if labels.kind == "survival" else "auroc"
        scores[dialect] = result.summary["model"][metric].mean
    print(task, scores)
    assert abs(scores["clinicogenomic"] - scores["cbioportal"]) <= 0.01
    assert np.isfinite(list(scores.values())).all()
