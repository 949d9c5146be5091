"""MLflow tracking: where the store is, and logging that fails clearly instead of hanging."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from training.errors import TrackingError

#: The embedded default store, in the working directory.
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
#: The run tag naming the cohort a run was trained on: a built-in cohort's name or an absolute
#: path, so the cohort can be read again (the new-cohort comparison of the gate does).
COHORT_SOURCE_TAG = "mbcrisk.cohort_source"
_METRIC_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else a SQLite file ``mlflow.db`` in the working dir."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def connect() -> str:
    """Point MLflow at the tracking store and check it answers; returns its URI."""
    uri = tracking_uri()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.search_experiments(max_results=1)
    except Exception as error:  # noqa: BLE001 - any store failure becomes one clear error
        raise TrackingError(f"tracking store {uri} cannot be used: {error}") from error
    return uri


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts, from dotted parts (unsupported characters become '_')."""
    return _METRIC_KEY.sub("_", ".".join(parts))


def finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The metrics with a finite value (MLflow rejects NaN in some stores)."""
    return {k: float(v) for k, v in metrics.items()
            if v is not None and math.isfinite(float(v))}


@contextmanager
def artifact_dir() -> Iterator[Path]:
    """A temporary folder whose files are logged as run artifacts on exit."""
    with tempfile.TemporaryDirectory(prefix="mbcrisk-") as folder:
        path = Path(folder)
        yield path
        mlflow.log_artifacts(str(path))


def write_json(path: Path, data: Any) -> Path:
    """JSON with sorted keys (so equal content gives equal bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")
    return path


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """CSV without the index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path
