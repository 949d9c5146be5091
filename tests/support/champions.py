"""Quick champions for a served API: every task trained on the synthetic cohort with 3-fold CV
into the current MLflow store, promoted, and imported into BentoML's model store. For tests
and benchmarks (not shipped); the caller sets the stores' environment first."""

from __future__ import annotations

from pathlib import Path


def train_quick_champions(root: Path) -> None:
    """Train, promote and import a champion of each task, with a quick config written under
    ``root`` (``MLFLOW_TRACKING_URI`` and ``BENTOML_HOME`` must already point at the stores)."""
    from serving.store import import_champions
    from training.config import TASKS, load_config
    from training.tracking.registry import promote
    from training.train import train

    quick = root / "quick.toml"
    quick.write_text("[cv]\nn_splits = 3\nn_repeats = 1\n")
    for task in TASKS:
        result = train("synthetic", load_config(quick, task=task))
        promote(result.model_name, 0.01, 50)
    import_champions()
