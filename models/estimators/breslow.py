"""Breslow's estimator of the baseline cumulative hazard, shared by every Cox-type model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class BreslowBaseline:
    """Baseline cumulative hazard H0 at the distinct event times (months).

    ``S(t | x) = exp(-H0(t) * exp(scale * risk(x)))`` where ``risk`` is the log relative
    hazard on the scale the baseline was fitted with and ``scale`` its recalibration slope
    (:mod:`models.estimators.recalibration`; 1 when the curves are not recalibrated).
    """

    event_times: np.ndarray
    cumulative_hazard: np.ndarray
    scale: float = 1.0

    @classmethod
    def fit(cls, time: np.ndarray, event: np.ndarray, risk: np.ndarray,
            scale: float = 1.0) -> BreslowBaseline:
        """Fit on training times (months), events (bool) and log relative hazards, the
        hazards multiplied by ``scale``."""
        time = np.asarray(time, dtype=float)
        event = np.asarray(event, dtype=bool)
        risk = scale * np.asarray(risk, dtype=float)
        weight = np.exp(risk - np.max(risk))
        order = np.argsort(time, kind="stable")
        time, event, weight = time[order], event[order], weight[order]
        at_risk = np.cumsum(weight[::-1])[::-1]  # sum over T_j >= T_i
        unique_times, first = np.unique(time, return_index=True)
        deaths = np.add.reduceat(event.astype(float), first)
        increments = np.where(deaths > 0, deaths / at_risk[first], 0.0)
        has_event = deaths > 0
        hazard = np.cumsum(increments[has_event]) * np.exp(-np.max(risk))
        return cls(unique_times[has_event], hazard, float(scale))

    def at(self, times: np.ndarray) -> np.ndarray:
        """H0 at ``times`` (months): a right-continuous step function, 0 before the first event."""
        index = np.searchsorted(self.event_times, np.asarray(times, dtype=float), side="right")
        return self._padded[index]

    @cached_property
    def _padded(self) -> np.ndarray:
        """H0 after 0, 1, 2 ... event times: 0, then the cumulative hazard."""
        return np.concatenate(([0.0], self.cumulative_hazard))

    def survival(self, risk: np.ndarray, times: np.ndarray) -> np.ndarray:
        """S(t | x), shape (n_patients, n_times): probability of no event by each time."""
        scaled = self.scale * np.asarray(risk, dtype=float)
        hazard = self.at(times)[None, :] * np.exp(scaled)[:, None]
        return np.exp(-hazard)
