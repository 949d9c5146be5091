"""Reading what an MLflow run or registered model version stored, leaving nothing behind.

``mlflow.artifacts.download_artifacts`` without ``dst_path`` copies into a fresh temporary
folder that nobody removes: every promotion, served card and loaded model left a copy in the
machine's temporary directory. Everything here downloads into a folder it removes after."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow


def read_run_artifact(run_id: str, artifact_path: str) -> str:
    """The text (UTF-8) of one file an MLflow run logged; MlflowException when it has none."""
    with tempfile.TemporaryDirectory(prefix="mbcrisk-artifact-") as folder:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact_path,
                                                    dst_path=folder)
        return Path(local).read_text(encoding="utf-8")


@contextmanager
def downloaded_model_version(name: str, version: str) -> Iterator[Path]:
    """The local folder of a registered model version (``models:/NAME/VERSION``), removed on
    exit."""
    with tempfile.TemporaryDirectory(prefix="mbcrisk-model-") as folder:
        yield Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}",
                                                       dst_path=folder))
