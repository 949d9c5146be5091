"""Fixtures of a real MLflow tracking store (SQLite file) in a temporary folder and a quick
training config, for the training and command-line tests (a pytest plugin registered in
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

#: Fewer folds, so a test trains in seconds.
QUICK_CONFIG = "[cv]\nn_splits = 3\nn_repeats = 2\n\n[gate]\nmin_subgroup_size = 50\n"


def point_at_store(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make ``folder`` the working directory (it holds the artifacts) and its ``mlflow.db``
    the tracking store; returns the store's URI."""
    monkeypatch.chdir(folder)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    return uri


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite tracking store; the working directory holds its artifacts."""
    yield point_at_store(tmp_path, monkeypatch)
    if mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def quick_config(tmp_path: Path) -> Path:
    """Fewer folds, so a test trains in seconds."""
    path = tmp_path / "quick.toml"
    path.write_text(QUICK_CONFIG)
    return path


@pytest.fixture(scope="module")
def gbsg2_relapse_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store holding one relapse model trained on GBSG2 with the quick config (registered
    as version 1, the challenger), trained once per test module: its tests only read it."""
    from training.config import load_config
    from training.train import train

    folder = tmp_path_factory.mktemp("gbsg2-relapse")
    (folder / "quick.toml").write_text(QUICK_CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        point_at_store(folder, patch)
        result = train("gbsg2", load_config(folder / "quick.toml", task="relapse"))
    return folder, f"{result.model_name}/{result.model_version}"


@pytest.fixture
def gbsg2_relapse(gbsg2_relapse_store: tuple[Path, str],
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """:func:`gbsg2_relapse_store` as the current tracking store; its model's
    ``name/version``."""
    folder, version = gbsg2_relapse_store
    point_at_store(folder, monkeypatch)
    yield version
    if mlflow.active_run() is not None:
        mlflow.end_run()
