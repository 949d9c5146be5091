"""Fixtures of a real MLflow tracking store (SQLite file) in a temporary folder and a quick
training config, for the training and command-line tests (a pytest plugin registered in
tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite tracking store; the working directory holds its artifacts."""
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    if mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def quick_config(tmp_path: Path) -> Path:
    """Fewer folds, so a test trains in seconds."""
    path = tmp_path / "quick.toml"
    path.write_text("[cv]\nn_splits = 3\nn_repeats = 2\n\n[gate]\nmin_subgroup_size = 50\n")
    return path
