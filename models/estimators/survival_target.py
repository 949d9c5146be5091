"""Checking the survival target: a structured array of ``event`` (bool) and ``time`` (float)."""

from __future__ import annotations

import numpy as np


def check_survival_target(y: object, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``(time, event)`` from a structured survival array; ValueError if it is not one."""
    array = np.asarray(y)
    if array.dtype.names is None or set(array.dtype.names) != {"event", "time"}:
        raise ValueError("y must be a structured array with fields 'event' (bool) and 'time' "
                         "(months); build it with features.labels.survival_target")
    if len(array) != n_samples:
        raise ValueError(f"y has {len(array)} rows but X has {n_samples}")
    time = array["time"].astype(float)
    event = array["event"].astype(bool)
    if np.isnan(time).any() or (time < 0).any():
        raise ValueError("survival times must be non-negative numbers (months)")
    if not event.any():
        raise ValueError("no event in y: a survival model cannot be fitted")
    return time, event


def censored_at(time: np.ndarray, event: np.ndarray,
                until_months: float) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up administratively censored at ``until_months`` (months; ``inf``: unchanged):
    a later event becomes a censoring at that time."""
    return np.minimum(time, until_months), event & (time <= until_months)
