"""``mbcrisk promote`` refuses a challenger whose top inputs the API cannot supply (exit 3,
naming them) unless the override is given with a reason, recorded; ``--rollback`` gives the
champion alias back to the version the champion was promoted over."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from cli import main
from cli.servability import top_inputs
from features.cohorts.cbioportal.dialect_writer import write_study_dialect
from features.cohorts.synthetic import build_synthetic_cohort
from serving.profile import servable
from training.config import load_config
from training.tracking.registry import CHAMPION, alias_version
from training.train import train

#: Trains two or three models (40 to 75 s): run by make test-long (CI), outside make test.
pytestmark = [pytest.mark.slow, pytest.mark.long]
NAME = "mbcrisk-relapse"


def _nodes_as_a_pr_level(tmp_path: Path) -> Path:
    """A study whose node counts are recorded only as a PR level in fmol/mg (a field the API
    does not take): the model's top input becomes one it cannot be given."""
    study = write_study_dialect(build_synthetic_cohort(800, 5), tmp_path / "study", "cbioportal")
    path = study / "data_clinical_patient.txt"
    # cBioPortal's four header lines (display name, description, type, priority), the header
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    nodes = pd.to_numeric(table["LYMPH_NODES_EXAMINED_POSITIVE"], errors="coerce")
    pr = (nodes * 10).map(lambda v: "" if pd.isna(v) else f"{v:g}")
    pr.iloc[:4] = ["PR level", "NUMBER", "1", "PR_FMOL_MG"]
    table["PR_FMOL_MG"] = pr
    table = table.drop(columns=["LYMPH_NODES_EXAMINED_POSITIVE", "TUMOR_STAGE", "TUMOR_SIZE"])
    table.to_csv(path, sep="\t", index=False)
    return study


def test_an_unservable_challenger_is_refused_then_accepted_and_rolled_back(
        mlflow_store: str, quick_config: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config(quick_config, task="relapse")
    train(str(_nodes_as_a_pr_level(tmp_path)), config)
    top = top_inputs(NAME, "1")
    assert "clin__pr_fmol_mg" in top
    assert not servable("clin__pr_fmol_mg")
    capsys.readouterr()
    assert main(["promote", NAME]) == 3
    out = capsys.readouterr().out
    assert "cannot supply: " in out
    assert "PR level (fmol/mg)" in out
    assert alias_version(NAME, CHAMPION) is None
    assert main(["promote", NAME, "--accept-unservable"]) == 2  # no reason: refused
    assert main(["promote", NAME, "--accept-unservable", "--reason", "research use only"]) == 0
    tags = MlflowClient().get_model_version(NAME, "1").tags
    assert "PR level (fmol/mg)" in tags["mbcrisk.accepted_unservable"]
    assert tags["mbcrisk.accepted_unservable_reason"] == "research use only"
    assert main(["promote", NAME, "--rollback"]) == 2  # a first champion: nothing to restore

    train("synthetic", config)  # version 2: inputs the API gives
    assert not [f for f in top_inputs(NAME, "2") if not servable(f)]
    assert main(["promote", NAME, "--margin", "1.0"]) == 0
    assert alias_version(NAME, CHAMPION) == "2"
    assert main(["promote", NAME, "--rollback"]) == 0
    assert alias_version(NAME, CHAMPION) == "1"
    client = MlflowClient()
    assert "rollback" in client.get_model_version(NAME, "2").tags["mbcrisk.rolled_back"]
    assert "restored by rollback" in client.get_model_version(NAME, "1").tags[
        "mbcrisk.promotion"]


def test_the_main_job_promotes_every_default_model_the_api_can_serve(
        mlflow_store: str, quick_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """make run's job: the three models of the synthetic cohort lean on inputs the API gives
    (or that the unknown-is-unknown rule averages), so each becomes champion."""
    assert main(["main", "--cohort", "synthetic", "--config", str(quick_config)]) == 0
    assert "cannot supply" not in capsys.readouterr().out
    for name in ("mbcrisk-relapse", "mbcrisk-progression", "mbcrisk-resistance-endocrine"):
        assert alias_version(name, CHAMPION) == "1", name
        assert not [f for f in top_inputs(name, "1") if not servable(f)], name
