"""Events per candidate feature and the small-cohort defaults: on a 300-patient draw written as a
real clinicogenomic study, progression trains regularised, says so, and stays within 0.01 of
the Cox model on the clinical features and the known resistance markers, on the same folds."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from features.cohorts.cbioportal.dialect_writer import write_study_dialect
from features.cohorts.synthetic import build_synthetic_cohort
from features.labels import Labels
from training.config import load_config
from training.sample_size import (
    SMALL_COHORT_PARAMS,
    SampleSize,
    model_params,
    regularises,
    sample_size,
)
from training.train import train


def labels(kind: str, y: pd.DataFrame) -> Labels:
    return Labels(task="t", kind=kind, definition="", origin="", y=y,
                  origin_months=pd.Series(dtype=float), eligible_sample_types=())


def test_events_are_events_or_the_rarer_class_over_the_design_columns() -> None:
    X = pd.DataFrame(0.0, index=range(10), columns=[f"c{k}" for k in range(4)])
    survival = labels("survival", pd.DataFrame({"time_months": 1.0,
                                                "event": [True] * 3 + [False] * 7}))
    assert sample_size(survival, X) == SampleSize(3, 4)
    binary = labels("binary", pd.DataFrame({"label": [1] * 8 + [0] * 2}))
    assert sample_size(binary, X).events == 2
    assert SampleSize(80, 4).events_per_variable == 20.0
    assert not SampleSize(80, 4).small
    assert SampleSize(79, 4).small


def test_small_cohort_defaults_never_override_a_configured_setting() -> None:
    small, large = SampleSize(10, 100), SampleSize(10_000, 100)
    assert model_params("survival", {}, large) == {}
    assert model_params("survival", {}, small) == SMALL_COHORT_PARAMS["survival"]
    assert model_params("survival", {"max_depth": 3}, small)["max_depth"] == 3
    assert regularises("progression", "survival")
    assert not regularises("relapse", "survival")
    assert not regularises("resistance_endocrine", "binary")


@pytest.mark.long  # a whole cross-validated training (~23 s); the rules above stay in make test
def test_a_300_patient_treated_cohort_trains_regularised_and_keeps_up_with_the_markers(
        tmp_path: Path, mlflow_store: str) -> None:
    study = write_study_dialect(build_synthetic_cohort(300, 3), tmp_path / "study",
                                "clinicogenomic")
    result = train(str(study), load_config(None, task="progression"), register=False)
    assert any("a small cohort, the boosted model uses its regularised defaults" in note
               for note in result.notes)
    run = mlflow.get_run(result.run_id)
    assert run.data.tags["mbcrisk.small_cohort"] == "true"
    assert run.data.params["model.effective.max_depth"] == "1"
    summary = json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path="cohort_summary.json",
        dst_path=str(tmp_path / "artifacts"))).read_text())
    assert summary["sample_size"]["small_cohort"] is True
    assert summary["sample_size"]["events_per_variable"] < 20
    metrics = result.evaluation.summary
    assert "cox_markers" in metrics
    assert metrics["model"]["harrell_c"].mean >= metrics["cox_markers"]["harrell_c"].mean - 0.01
