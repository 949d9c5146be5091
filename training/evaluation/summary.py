"""Summaries of cross-validated metrics with honest intervals."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Stat:
    """Mean, standard deviation and 95% interval of a metric over CV folds."""

    mean: float
    sd: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self) -> dict[str, float]:
        """JSON-ready (``n`` is the number of folds)."""
        return asdict(self)


def corrected_interval(values: np.ndarray, test_fraction: float,
                       level_percent: float = 95.0) -> Stat:
    """Mean and interval (default 95%) of fold values by the corrected resampled t (Nadeau and
    Bengio, 2003): variance (1/J + n_test/n_train) * s^2, which accounts for folds sharing
    training data. ``test_fraction`` is n_test / n (1/K for K-fold)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return Stat(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    mean = float(values.mean())
    if n == 1:
        return Stat(mean, float("nan"), float("nan"), float("nan"), 1)
    sd = float(values.std(ddof=1))
    ratio = test_fraction / (1.0 - test_fraction)
    quantile = 1.0 - (1.0 - level_percent / 100.0) / 2.0
    half = stats.t.ppf(quantile, n - 1) * np.sqrt((1.0 / n + ratio) * sd**2)
    return Stat(mean, sd, float(mean - half), float(mean + half), n)
