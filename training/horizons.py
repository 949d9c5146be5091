"""The horizons (months from the time origin) a survival model answers at: the task's own
(relapse from diagnosis: 12, 24, 36, 60; progression on a line: 3, 6, 12, 24) or the config's,
kept only where the training cohort still observes enough patients. A probability by a horizon
few patients were followed to is an extrapolation of the baseline hazard, not something the
cohort showed, and its calibration cannot be checked there."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from features.labels import Labels
from training.config import TrainConfig

#: The horizons (months) of each survival task when the config names none.
TASK_HORIZONS = {"relapse": (12.0, 24.0, 36.0, 60.0), "progression": (3.0, 6.0, 12.0, 24.0)}
#: A horizon is served while at least this share of the labelled patients is still observed
#: (event-free and followed) beyond it.
MIN_OBSERVED_SHARE = 0.10


@dataclass(frozen=True)
class HorizonChoice:
    """The horizons served, and those dropped with the share of patients observed beyond each."""

    served: tuple[float, ...]
    dropped: dict[float, float]

    def describe(self) -> str:
        """One line for the run's notes and card."""
        if not self.dropped:
            return f"horizons {', '.join(f'{h:g}' for h in self.served)} months"
        gone = ", ".join(f"{h:g} ({share:.0%} observed beyond)"
                         for h, share in self.dropped.items())
        return (f"horizons {', '.join(f'{h:g}' for h in self.served)} months; dropped beyond "
                f"the follow-up (fewer than {MIN_OBSERVED_SHARE:.0%} of the patients observed "
                f"past them): {gone}")


def choose_horizons(task: str, requested: tuple[float, ...], time_months: np.ndarray
                    ) -> HorizonChoice:
    """The horizons of survival task ``task``: ``requested`` (empty: :data:`TASK_HORIZONS`)
    within the follow-up of the labelled patients (``time_months``: time to event or
    censoring). ValueError when none remains."""
    wanted = tuple(sorted(float(h) for h in (requested or TASK_HORIZONS.get(
        task, TASK_HORIZONS["relapse"]))))
    time = np.asarray(time_months, dtype=float)
    observed = {h: float((time > h).mean()) if len(time) else 0.0 for h in wanted}
    served = tuple(h for h in wanted if observed[h] >= MIN_OBSERVED_SHARE)
    if not served:
        raise ValueError(f"the follow-up is too short for any horizon of {task}: fewer than "
                         f"{MIN_OBSERVED_SHARE:.0%} of the patients are observed past "
                         f"{wanted[0]:g} months (median time {np.median(time):.1f} months); "
                         "set shorter [evaluation] horizons_months")
    return HorizonChoice(served, {h: observed[h] for h in wanted if h not in served})


def with_served_horizons(config: TrainConfig, labels: Labels
                         ) -> tuple[TrainConfig, HorizonChoice | None]:
    """``config`` with the horizons a survival task serves (:mod:`training.horizons`), and
    the choice (None for a binary task)."""
    if labels.kind != "survival":
        return config, None
    choice = choose_horizons(labels.task, config.evaluation.horizons_months,
                             labels.y["time_months"].to_numpy(dtype=float))
    return dataclasses.replace(config, evaluation=dataclasses.replace(
        config.evaluation, horizons_months=choice.served)), choice
