"""RiskModel: relapse risk with gradient-boosted trees on the Cox partial likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.utils.validation import check_array, validate_data

from models.boosting import BoostedTrees
from models.breslow import BreslowBaseline
from models.recalibration import SurvivalRecalibration, estimate_recalibration
from models.survival_target import check_survival_target

#: Event times of 0 months are moved to this (xgboost's Cox labels code censoring by sign).
MIN_TIME_MONTHS = 1e-3


class RiskModel(BoostedTrees):
    """XGBoost ``survival:cox``; ``predict`` gives the log relative hazard (higher = worse).

    ``predict_survival(X, times_months)`` gives S(t | x) from a Breslow baseline hazard fitted on
    the training data. Missing values (NaN) follow xgboost's learned default directions.
    Defaults come from the nested tuning in ``docs/tuning.md``.
    ``monotone`` (on by default): the established adverse factors of
    :mod:`models.constraints` never lower the risk. ``recalibrate`` (on by default): the
    survival curves' slope is estimated by 5-fold cross-validation inside the training data,
    with follow-up censored at ``recalibrate_until_months``, and applied where it drifts
    (:mod:`models.recalibration`; ``recalibration_`` after fitting).
    """

    #: What ``predict`` returns, for explanations and people.
    risk_scale = "log relative hazard"
    risk_meaning = ("log relative hazard of relapse versus the training cohort's baseline, "
                    "before the survival curves' recalibration (the model card gives its "
                    "slope); higher means worse")

    def __init__(self, n_estimators: int = 200, max_depth: int = 2,
                 learning_rate: float = 0.02, subsample: float = 0.8,
                 colsample_bytree: float = 0.5, min_child_weight: float = 10.0,
                 reg_lambda: float = 5.0, reg_alpha: float = 0.0, monotone: bool = True,
                 recalibrate: bool = True, recalibrate_until_months: float = 60.0,
                 random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.monotone = monotone
        self.recalibrate = recalibrate
        self.recalibrate_until_months = recalibrate_until_months
        self.random_state = random_state
        self.n_jobs = n_jobs

    def booster_params(self) -> dict[str, object]:
        """The xgboost training parameters these hyperparameters stand for."""
        return {"objective": "survival:cox", "eval_metric": "cox-nloglik",
                **self.tree_params(), "alpha": self.reg_alpha}

    def fit(self, X: object, y: object) -> RiskModel:
        """Fit on features ``X`` (NaN allowed) and a structured survival target ``y``."""
        X = validate_data(self, X, ensure_all_finite="allow-nan", dtype=np.float64)
        time, event = check_survival_target(y, X.shape[0])
        time = np.maximum(time, MIN_TIME_MONTHS)
        label = np.where(event, time, -time)
        self.booster_ = self._train(X, label)
        self.recalibration_ = (
            estimate_recalibration(lambda train, test: self._train(X[train], label[train])
                                   .predict(self._matrix(X[test]), output_margin=True),
                                   time, event, self.recalibrate_until_months,
                                   random_state=self.random_state)
            if self.recalibrate else SurvivalRecalibration.none("off"))
        self.baseline_ = BreslowBaseline.fit(time, event, self._margin(X),
                                             scale=self.recalibration_.applied)
        return self

    def __setstate__(self, state: dict) -> None:
        """A model pickled before the recalibration existed: its curves were never
        recalibrated (so ``get_params``, ``clone`` and the card keep working)."""
        state.setdefault("recalibrate", False)
        state.setdefault("recalibrate_until_months", 60.0)
        if "baseline_" in state:
            state.setdefault("recalibration_", SurvivalRecalibration.none("off"))
        super().__setstate__(state)

    def _train(self, X: np.ndarray, label: np.ndarray) -> xgb.Booster:
        return xgb.train(self.booster_params(), self._matrix(X, label),
                         num_boost_round=self.n_estimators)

    def _margin(self, X: np.ndarray) -> np.ndarray:
        return self.booster_.predict(self._matrix(X), output_margin=True).astype(float)

    def predict(self, X: object) -> np.ndarray:
        """Log relative hazard (higher means worse)."""
        return self._margin(self._rows(X))

    def predict_survival(self, X: object, times_months: object) -> np.ndarray:
        """Probability of no event by each of ``times_months``, shape (n, n_times)."""
        times = check_array(np.atleast_1d(times_months), ensure_2d=False)
        return self.baseline_.survival(self.predict(X), times)

    def contributions(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Exact TreeSHAP contributions to the margin, shape (n, n_features + 1); the last
        column is the bias, so each row sums to ``predict``."""
        return self._booster_contributions(X)
