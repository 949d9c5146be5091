"""A cohort whose assay era predicts the outcome (archival primaries of patients who later
relapsed sequenced on the newer panel): the run reports the shortcut model's C and the model's C
within panel strata, says the pooled figure overstates what the model knows, and the gate
compares on the within-stratum figure; a cohort without the shortcut says there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from features.cohorts.cbioportal.dialect_writer import write_study_dialect
from features.cohorts.synthetic import build_synthetic_cohort
from training.config import load_config
from training.evaluation.shortcut import SHORTCUT_LIMIT
from training.reporting.card.render import render_markdown
from training.reporting.card_source import load_card_source
from training.tracking.registry import promote
from training.train import train

#: Trains two or three models (40 to 75 s): run by make test-long (CI), outside make test.
pytestmark = [pytest.mark.slow, pytest.mark.long]
NAME = "mbcrisk-relapse"


def _study(tmp_path: Path, shortcut: float) -> str:
    cohort = build_synthetic_cohort(1200, 7, panel_shortcut=shortcut)
    return str(write_study_dialect(cohort, tmp_path / f"study-{shortcut:g}", "cbioportal"))


def test_a_planted_assay_era_shortcut_is_reported_and_the_gate_compares_within_panels(
        mlflow_store: str, quick_config: Path, tmp_path: Path) -> None:
    config = load_config(quick_config, task="relapse")
    study = _study(tmp_path, 0.4)
    first = train(study, config)
    metrics = MlflowClient().get_run(first.run_id).data.metrics
    assert metrics["shortcut.harrell_c.ci_low"] > SHORTCUT_LIMIT
    pooled, within = metrics["model.harrell_c.mean"], metrics[
        "model.harrell_c_within_panel.mean"]
    assert within < pooled - 0.05  # the pooled figure leans on the panel
    assert any(note.startswith("SHORTCUT: missingness alone") for note in first.notes)
    markdown, _ = render_markdown(load_card_source(f"{NAME}/{first.model_version}"))
    assert "**The shortcut is clear**" in markdown
    assert f"{within:.3f}" in markdown
    assert promote(NAME, 0.01, 50).promote  # the first champion
    second = train(study, config)
    decision = promote(NAME, 0.5, 50)
    assert decision.comparisons[0]["scope"] == "overall, within panel strata"
    second_within = MlflowClient().get_run(second.run_id).data.metrics[
        "model.harrell_c_within_panel.mean"]
    assert decision.comparisons[0]["challenger"] == pytest.approx(second_within)
    assert decision.comparisons[0]["champion"] == pytest.approx(within)
    assert "within panel strata" in decision.reasons[0]


def test_a_cohort_without_the_shortcut_says_there_is_none(
        mlflow_store: str, quick_config: Path, tmp_path: Path) -> None:
    result = train(_study(tmp_path, 0.0), load_config(quick_config, task="relapse"))
    metrics = MlflowClient().get_run(result.run_id).data.metrics
    assert metrics["shortcut.harrell_c.ci_low"] <= SHORTCUT_LIMIT
    assert any(note.startswith("shortcut check:") and "no clear shortcut" in note
               for note in result.notes)
    markdown, _ = render_markdown(load_card_source(f"{NAME}/{result.model_version}"))
    assert "No clear shortcut" in markdown
