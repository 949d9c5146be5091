"""What every section of a model card reads: the run's source, the facts shown so far, and
helpers that show a metric, param or artifact value while recording where it came from."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from training.config import SURVIVAL_TASKS
from training.reporting.card_source import CardSource
from training.reporting.facts import Facts

PRIMARY = {"relapse": ("harrell_c", "Harrell's C"), "progression": ("harrell_c", "Harrell's C"),
           "default": ("auroc", "AUROC")}
SURVIVAL_METRICS = (("harrell_c", "Harrell's C"), ("uno_c", "Uno's C (IPCW, truncated at tau)"),
                    ("mean_td_auc", "mean time-dependent AUC"), ("ibs", "integrated Brier score"))
BINARY_METRICS = (("auroc", "AUROC"), ("auprc", "AUPRC"), ("brier", "Brier score"),
                  ("cal_slope", "calibration slope"), ("cal_intercept", "calibration intercept"))


class CardContext:
    """One card being written: its :class:`CardSource` (``s``), the facts it shows, and the
    task's label summary; each value shown goes through a helper that records its source."""

    def __init__(self, source: CardSource) -> None:
        self.s = source
        self.facts = Facts()
        self.task = source.tags.get("mbcrisk.task", "")
        self.survival = self.task in SURVIVAL_TASKS
        self.summary = source.json.get("cohort_summary.json", {})
        self.labels = source.json.get("labels.json", {})

    def metric(self, key: str, fmt: str = "{:.3f}") -> str:
        return self.facts.add(self.s.metrics[key], f"metric:{key}", fmt)

    def with_interval(self, base: str) -> str:
        """``mean (low to high)`` of metric ``base`` over the folds; the mean alone when the
        run has no interval for it."""
        if f"{base}.ci_low" not in self.s.metrics:
            return self.metric(base + ".mean")
        return (f"{self.metric(base + '.mean')} ({self.metric(base + '.ci_low')} "
                f"to {self.metric(base + '.ci_high')})")

    def param(self, key: str) -> str:
        return self.facts.add(self.s.params[key], f"param:{key}")

    def param_list(self, key: str) -> str:
        """A list-valued param, each element a fact: ``12, 24, 36, 60``."""
        values = ast.literal_eval(self.s.params[key])
        return ", ".join(self.facts.add(float(v), f"param:{key}", "{:g}") for v in values)

    def artifact(self, file: str, path: str, value: Any,
                 fmt: str | Callable[[Any], str] = "{}") -> str:
        return self.facts.add(value, f"artifact:{file}#{path}", fmt)

    def summary_value(self, path: str, fmt: str = "{}") -> str:
        value: Any = self.summary
        for part in path.split("."):
            value = value[part]
        return self.artifact("cohort_summary.json", path, value, fmt)

    @property
    def on_dask(self) -> bool:
        """Trained by the Dask engine (AFT model, folds of whole partitions)."""
        return self.s.tags.get("mbcrisk.engine") == "dask"
