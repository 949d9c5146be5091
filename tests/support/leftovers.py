"""What a download of a model, card or run artifact leaves behind in a temporary folder."""

from __future__ import annotations

from pathlib import Path

#: Files and folders only a copy of a model, card or run artifact has.
_COPY_NAMES = ("bundle.pkl", "MLmodel", "model_card.md", "model.yaml", "subgroup_metrics.csv",
               "cv_fold_metrics.csv")


def model_copies_in(folder: Path) -> list[str]:
    """Paths under ``folder`` (relative, sorted) that are a copy of a model, a card, a run's
    metrics table or a BentoML model build folder."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name in _COPY_NAMES or p.name.startswith("bentoml-model-"))
