"""Events per candidate feature, and the regularised defaults of a small cohort.

Real treated cohorts have a few hundred patients. Below about 20 events per candidate feature
(events: relapses or progressions of a survival task, the rarer class of a binary one;
candidates: the design's columns before any selection), a flexible model overfits. The
boosted model of a treatment task (progression on a line) then takes regularised defaults:
fewer, shallower trees with larger leaves and more weight on the penalised Cox part of the
blend; a setting the config file gives explicitly is kept. The relapse model keeps the
defaults nested cross-validation chose on METABRIC and GBSG2 (both below 20 too). The
resistance classifier keeps its defaults: on a 300-patient synthetic draw (24 events) every
regularised variant tried scored a lower cross-validated AUROC (0.47 to 0.54 against 0.58;
``benchmarks/small_cohort.py``), so the run reports its events per variable and its marker
baseline instead. Every run of the local engine reports its events per variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.labels import Labels

#: Events per candidate feature below which a cohort is small.
EVENTS_PER_VARIABLE = 20.0
#: The small-cohort defaults of the boosted model, by kind of task.
SMALL_COHORT_PARAMS: dict[str, dict[str, Any]] = {
    "survival": {"n_estimators": 100, "max_depth": 1, "min_child_weight": 20.0,
                 "blend_weight": 0.75},
    "binary": {},
}


@dataclass(frozen=True)
class SampleSize:
    """``events`` (survival: events; binary: the rarer class) over ``candidates`` (design
    columns): ``events_per_variable``; ``small`` below :data:`EVENTS_PER_VARIABLE`."""

    events: int
    candidates: int

    @property
    def events_per_variable(self) -> float:
        return self.events / self.candidates if self.candidates else float("inf")

    @property
    def small(self) -> bool:
        return self.events_per_variable < EVENTS_PER_VARIABLE

    def describe(self, regularised: bool) -> str:
        """One sentence for people (``regularised``: the model took the small-cohort
        defaults)."""
        verdict = (f"below {EVENTS_PER_VARIABLE:g}: a small cohort"
                   + (", the boosted model uses its regularised defaults" if regularised
                      else "") if self.small else f"at least {EVENTS_PER_VARIABLE:g}")
        return (f"{self.events} events for {self.candidates} candidate features: "
                f"{self.events_per_variable:.1f} events per variable, {verdict}")


def sample_size(labels: Labels, X: pd.DataFrame) -> SampleSize:
    """The task's events over the design's candidate features."""
    if labels.kind == "survival":
        events = int(labels.y["event"].sum())
    else:
        positives = int(labels.y["label"].sum())
        events = min(positives, len(labels.y) - positives)
    return SampleSize(events, X.shape[1])


def regularises(task: str, kind: str) -> bool:
    """Whether a small cohort of ``task`` (of ``kind``) takes regularised defaults: progression
    on a line; not relapse (tuned defaults), not resistance (none measured better)."""
    return task != "relapse" and bool(SMALL_COHORT_PARAMS[kind])


def model_params(kind: str, configured: dict[str, Any], size: SampleSize) -> dict[str, Any]:
    """The boosted model's parameters: the small-cohort defaults under what the config sets."""
    if not size.small:
        return dict(configured)
    return {**SMALL_COHORT_PARAMS[kind], **configured}
