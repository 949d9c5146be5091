"""``mlflow run`` drives every MLproject entry point against a SQLite store, with the venv not
on PATH, and mbcrisk's runs nest under the run that ``mlflow run`` opened."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.long  # several minutes: run by `make test-long` (CI)

REPO = Path(__file__).resolve().parents[2]
QUICK = "[cv]\nn_splits = 3\nn_repeats = 1\n"


def _mlflow_run(entry: str, params: dict[str, str], env: dict[str, str]) -> str:
    """Run ``entry`` through ``mlflow run`` (local env manager); its stdout and stderr."""
    command = [str(Path(sys.executable).with_name("mlflow")), "run", str(REPO), "-e", entry,
               "--env-manager", "local", "--experiment-name", "mlproject-test"]
    for key, value in params.items():
        command += ["-P", f"{key}={value}"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_every_entry_point_runs_through_mlflow_run(tmp_path: Path) -> None:
    if not (REPO / ".venv" / "bin" / "mbcrisk").exists():
        pytest.fail("the project's .venv is missing: build it with `make test`")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    quick = tmp_path / "quick.toml"
    quick.write_text(QUICK)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if not p.startswith(str(REPO / ".venv")))
    # what earlier tests left in this process's environment must not reach `mlflow run`
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")}
    env = {**inherited, "MLFLOW_TRACKING_URI": store, "PATH": path,
           "MLFLOW_ARTIFACTS_DESTINATION": str(tmp_path / "artifacts")}
    assert shutil.which("mbcrisk", path=path) is None  # the venv is not on PATH
    _mlflow_run("validate", {"cohort": "gbsg2"}, env)
    _mlflow_run("evaluate", {"cohort": "gbsg2", "config": str(quick)}, env)
    _mlflow_run("train", {"cohort": "gbsg2", "config": str(quick)}, env)
    main_output = _mlflow_run("main", {"cohort": "gbsg2", "config": str(quick)}, env)
    assert "cannot supply" in main_output  # GBSG2's receptor levels: not promoted, said why
    _mlflow_run("card", {"model": "mbcrisk-relapse@challenger", "out": str(tmp_path / "card")},
                env)
    assert (tmp_path / "card" / "model_card.md").is_file()
    out = tmp_path / "scored.csv"
    _mlflow_run("predict", {"model": "mbcrisk-relapse@challenger", "cohort": "gbsg2",
                            "out": str(out), "top": "3"}, env)
    assert out.is_file()
    assert (tmp_path / "scored.csv.summary.json").is_file()

    mlflow.set_tracking_uri(store)
    client = MlflowClient()
    experiment = client.get_experiment_by_name("mlproject-test")
    runs = client.search_runs([experiment.experiment_id])
    projects = [r for r in runs if r.data.tags.get("mlflow.project.entryPoint")]
    assert {r.data.tags["mlflow.project.entryPoint"] for r in projects} == {
        "validate", "evaluate", "train", "main", "card", "predict"}
    assert all(r.info.status == "FINISHED" for r in projects)
    by_id = {r.info.run_id: r for r in projects}
    tasks = [r for r in runs if r.data.tags.get("mlflow.parentRunId") in by_id]
    entry_of = {r.data.tags["mlflow.parentRunId"]: [] for r in tasks}
    for r in tasks:
        entry_of[r.data.tags["mlflow.parentRunId"]].append(r.info.run_name)
    nested = {by_id[p].data.tags["mlflow.project.entryPoint"]: sorted(names)
              for p, names in entry_of.items()}
    assert nested["evaluate"] == ["relapse on gbsg2"]
    assert nested["train"] == ["relapse on gbsg2"]
    assert len(nested["main"]) == 2  # relapse and resistance, under the one project run
    assert nested["predict"] == ["predict mbcrisk-relapse on gbsg2"]
    aliases = client.get_registered_model("mbcrisk-relapse").aliases
    assert "challenger" in aliases
    assert "champion" not in aliases  # refused: its top inputs are ones the API cannot give
