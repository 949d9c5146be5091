"""AFTRiskModel: relapse risk with gradient-boosted trees on the accelerated-failure-time loss.

The distributed relapse model uses it: xgboost's ``survival:aft`` loss is a sum over patients,
so it is exact when the data are split across workers, whereas ``survival:cox`` only sees the
risk sets within each worker's partition. Censoring enters as intervals: an event at t is
[t, t], a patient censored at t is [t, +inf).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.special import expit
from scipy.stats import norm
from sklearn.utils.validation import check_array, validate_data

from models.estimators.boosting import BoostedTrees
from models.estimators.risk import MIN_TIME_MONTHS
from models.estimators.survival_target import check_survival_target

DISTRIBUTIONS = ("normal", "logistic", "extreme")


@dataclass(frozen=True)
class AFTDistribution:
    """S(t | x) of the AFT model log T = mu(x) + sigma * eps, from the risk score -mu(x)."""

    distribution: str
    sigma: float

    def survival(self, risk: np.ndarray, times: np.ndarray) -> np.ndarray:
        """S(t | x), shape (n_patients, n_times), ``risk`` = -mu (higher means worse)."""
        log_times = np.log(np.maximum(np.asarray(times, dtype=float), MIN_TIME_MONTHS))
        z = (log_times[None, :] + np.asarray(risk, dtype=float)[:, None]) / self.sigma
        if self.distribution == "normal":
            return norm.sf(z)
        if self.distribution == "logistic":
            return expit(-z)
        return np.exp(-np.exp(np.minimum(z, 700.0)))  # extreme value: the Weibull model


def aft_bounds(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interval labels (months): [t, t] for an event, [t, +inf) for a censored time."""
    time = np.maximum(np.asarray(time, dtype=float), MIN_TIME_MONTHS)
    return time, np.where(np.asarray(event, dtype=bool), time, np.inf)


class AFTRiskModel(BoostedTrees):
    """XGBoost ``survival:aft``; ``predict`` gives the risk score -mu(x), minus the predicted
    log relapse-free time (higher = worse); ``predict_survival`` uses the AFT distribution;
    ``contributions`` are TreeSHAP values of that risk score (they add up to it).
    ``monotone`` (on by default): the adverse factors of :mod:`models.estimators.constraints` never
    lower the risk (never lengthen the predicted time)."""

    #: What ``predict`` returns, for explanations and people.
    risk_scale = "minus log relapse-free time"
    #: The booster's margin is log time: an adverse factor may only lower it.
    _margin_sign = -1
    risk_meaning = ("minus the predicted log relapse-free time (log months) of the "
                    "accelerated-failure-time model; higher means worse")

    def __init__(self, n_estimators: int = 200, max_depth: int = 2,
                 learning_rate: float = 0.05, subsample: float = 0.8,
                 colsample_bytree: float = 0.5, min_child_weight: float = 10.0,
                 reg_lambda: float = 5.0, distribution: str = "normal", sigma: float = 1.0,
                 monotone: bool = True, random_state: int = 0,
                 n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.distribution = distribution
        self.sigma = sigma
        self.monotone = monotone
        self.random_state = random_state
        self.n_jobs = n_jobs

    def booster_params(self) -> dict[str, object]:
        """The xgboost training parameters these hyperparameters stand for."""
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}")
        return {"objective": "survival:aft", "eval_metric": "aft-nloglik",
                "aft_loss_distribution": self.distribution,
                "aft_loss_distribution_scale": self.sigma, **self.tree_params()}

    def fit(self, X: object, y: object) -> AFTRiskModel:
        """Fit on features ``X`` (NaN allowed) and a structured survival target ``y``."""
        X = validate_data(self, X, ensure_all_finite="allow-nan", dtype=np.float64)
        time, event = check_survival_target(y, X.shape[0])
        return self.set_booster(self._trained(self.booster_params(), X,
                                              bounds=aft_bounds(time, event)))

    def set_booster(self, booster: xgb.Booster) -> AFTRiskModel:
        """Use ``booster`` (trained here or by ``xgboost.dask``) as this model's trees."""
        self.booster_ = booster
        self.baseline_ = AFTDistribution(self.distribution, float(self.sigma))
        return self

    def predict(self, X: object) -> np.ndarray:
        """Risk score -mu(x) (higher means worse)."""
        rows = self._rows(X)
        return -self.booster_.predict(self._matrix(rows), output_margin=True).astype(float)

    def predict_survival(self, X: object, times_months: object) -> np.ndarray:
        """Probability of no relapse by each of ``times_months``, shape (n, n_times)."""
        times = check_array(np.atleast_1d(times_months), ensure_2d=False)
        return self.baseline_.survival(self.predict(X), times)

    def contributions(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """TreeSHAP contributions to the risk score, shape (n, n_features + 1); the last column
        is the bias, so each row sums to ``predict``."""
        return -self._booster_contributions(X)
