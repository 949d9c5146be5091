"""Promotion of a challenger trained on another cohort than the champion: the champion scored on
the challenger's cohort and folds, exit codes, the user's explicit acceptance and its record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from cli import main
from features.cohorts.cbioportal.dialect_writer import write_study_dialect
from features.cohorts.sources import load_cohort
from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import labels_for_task
from models.loading import load_registered_bundle
from models.scoring import predict
from tests.support.card_checks import check_facts, unaccounted_numbers
from tests.support.leftovers import model_copies_in
from training.config import load_config
from training.evaluation.survival_metrics import harrell_c
from training.reporting.card.render import render_markdown
from training.reporting.card_source import load_card_source
from training.tracking.registry import CHAMPION, alias_version, new_cohort_gate, promote
from training.train import train

pytestmark = pytest.mark.slow
NAME = "mbcrisk-relapse"


@pytest.fixture
def synthetic_champion_gbsg2_challenger(mlflow_store: str, quick_config: Path,
                                        tmp_path: Path) -> Path:
    """Version 1 (champion) trained on a synthetic study folder, version 2 (challenger) on
    GBSG2; returns the synthetic study's folder."""
    study = write_study_dialect(build_synthetic_cohort(600, 3), tmp_path / "study", "cbioportal")
    config = load_config(quick_config, task="relapse")
    train(str(study), config)
    assert promote(NAME, 0.01, 50).promote
    train("gbsg2", config)
    return study


def test_the_new_cohort_gate_compares_on_the_challengers_folds_then_needs_an_acceptance(
        synthetic_champion_gbsg2_challenger: Path, capsys: pytest.CaptureFixture[str],
        python_tempdir: Path) -> None:
    """One training of the two versions serves both checks (it is the slow part): the gate
    reads the registry without changing it, then the CLI refuses and accepts; neither leaves
    a downloaded model or metrics table in the temporary directory."""
    _check_the_champion_is_scored_on_the_challengers_folds()
    _check_promote_refuses_with_3_then_records_an_explicit_acceptance(capsys)
    assert not model_copies_in(python_tempdir), "the gate left downloaded artifacts behind"


def _check_the_champion_is_scored_on_the_challengers_folds() -> None:
    decision, comparison = new_cohort_gate(NAME, "2", "1", margin=0.5, min_subgroup_size=50)
    challenger_run = MlflowClient().get_run(MlflowClient().get_model_version(NAME, "2").run_id)
    assert comparison.metric == "harrell_c"
    assert comparison.cohort == "gbsg2"
    assert len(comparison.folds) == 6  # the challenger's 3 x 2 folds
    assert comparison.challenger_mean == pytest.approx(
        challenger_run.data.metrics["model.harrell_c.mean"])
    # the champion, scored as trained on all of GBSG2, ranks about as well as its fold mean
    cohort, _ = load_cohort("gbsg2")
    labels = labels_for_task(cohort, "relapse")
    champion = load_registered_bundle(f"{NAME}/1").bundle
    risk = predict(champion, build_design(cohort, labels.time_origin))["risk_score"].to_numpy()
    whole = harrell_c(labels.y["time_months"].to_numpy(), labels.y["event"].to_numpy(bool),
                      risk)
    assert comparison.champion_mean == pytest.approx(whole, abs=0.03)
    assert comparison.difference.ci_low < comparison.difference.mean < \
        comparison.difference.ci_high
    assert np.isclose(comparison.difference.mean,
                      comparison.challenger_mean - comparison.champion_mean)
    assert decision.promote  # a margin of 0.5 forgives anything
    assert decision.reasons[0].startswith("compared on the challenger's cohort gbsg2")
    assert {c["scope"] for c in decision.comparisons} > {"overall"}  # subgroups compared too
    refused, _ = new_cohort_gate(NAME, "2", "1", margin=-0.5, min_subgroup_size=50)
    assert not refused.promote  # a challenger would need to beat it by 0.5: refused


def _check_promote_refuses_with_3_then_records_an_explicit_acceptance(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", NAME, "--margin", "-0.5"]) == 3
    out = capsys.readouterr().out
    assert "NOT promoted" in out
    assert "--accept-new-cohort --reason" in out
    assert "--accept-unservable --reason" in out  # GBSG2 gives receptor levels, not statuses
    assert alias_version(NAME, CHAMPION) == "1"
    assert main(["promote", NAME, "--accept-new-cohort"]) == 2
    assert "needs --reason" in capsys.readouterr().err
    assert main(["promote", NAME, "--reason", "local population"]) == 2
    reason = "GBSG2 is the population the model will serve; reviewed by the tumour board"
    assert main(["promote", NAME, "--margin", "-0.5", "--accept-new-cohort", "--reason",
                 reason]) == 3  # the receptor levels still refuse it
    assert main(["promote", NAME, "--margin", "-0.5", "--accept-new-cohort",
                 "--accept-unservable", "--reason", reason]) == 0
    assert alias_version(NAME, CHAMPION) == "2"
    tags = MlflowClient().get_model_version(NAME, "2").tags
    assert tags["mbcrisk.accepted_reason"] == reason
    assert tags["mbcrisk.promotion"] == "new cohort accepted by the user"
    assert tags["mbcrisk.promoted_over"] == "1"
    source = load_card_source(f"{NAME}@champion")
    markdown, facts = render_markdown(source)
    assert reason in markdown
    assert "Compared on the challenger's cohort gbsg2" in markdown
    check_facts(source, facts)
    assert unaccounted_numbers(markdown, facts) == []
    assert "champion" in source.aliases
