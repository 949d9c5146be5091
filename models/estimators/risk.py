"""RiskModel: relapse risk with gradient-boosted trees on the Cox partial likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.utils.validation import check_array, validate_data

from models.estimators.boosting import BoostedTrees
from models.estimators.breslow import BreslowBaseline
from models.estimators.linear_part import LinearPart
from models.estimators.recalibration import SurvivalRecalibration, estimate_recalibration
from models.estimators.survival_target import censored_at, check_survival_target

#: Event times of 0 months are moved to this (xgboost's Cox labels code censoring by sign).
MIN_TIME_MONTHS = 1e-3
#: Default ``fit_until_months``: the risk score is fitted to the first ten years of follow-up.
FIT_UNTIL_MONTHS = 120.0


class RiskModel(BoostedTrees):
    """XGBoost ``survival:cox``; ``predict`` gives the log relative hazard (higher = worse).

    ``predict_survival(X, times_months)`` gives S(t | x) from a Breslow baseline hazard fitted on
    the training data. Missing values (NaN) follow xgboost's learned default directions.
    Defaults come from the nested tuning in ``docs/tuning.md``.
    ``monotone`` (on by default): the established adverse factors of
    :mod:`models.estimators.constraints` never lower the risk. ``recalibrate`` (on by default): the
    survival curves' slope is estimated by 5-fold cross-validation inside the training data,
    with follow-up censored at ``recalibrate_until_months``, and applied where it drifts
    (:mod:`models.estimators.recalibration`; ``recalibration_`` after fitting). ``blend_weight``
    above 0 blends the trees' margin with a ridge Cox model on the clinical features
    (:mod:`models.estimators.linear_part`), both log relative hazards, weighted ``1 - blend_weight``
    and ``blend_weight``; explanations stay exact and per feature. ``fit_until_months``: the risk
    score (trees and linear part) is fitted with follow-up censored at this many months (``inf``:
    the whole follow-up), so it ranks patients by the relapses of the first years, where hazards of
    factors such as ER status differ from those of late relapses (the recalibration's inner models
    too); the baseline hazard uses the whole follow-up and the recalibration's slope the real
    outcomes (docs/tuning.md).
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
                 blend_weight: float = 0.5, fit_until_months: float = FIT_UNTIL_MONTHS,
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
        self.blend_weight = blend_weight
        self.fit_until_months = fit_until_months
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
        fit_time, fit_event = censored_at(time, event, self._fit_until())
        if not fit_event.any():
            raise ValueError(f"no event within fit_until_months={self.fit_until_months}: "
                             "the risk score cannot be fitted")
        label = np.where(fit_event, fit_time, -fit_time)
        self.booster_, self.linear_, self.blend_scales_ = self._fit_parts(
            X, fit_time, fit_event, label)
        self.recalibration_ = (
            estimate_recalibration(lambda train, test: self._margin(X[test], self._fit_parts(
                                       X[train], fit_time[train], fit_event[train],
                                       label[train])),
                                   time, event, self.recalibrate_until_months,
                                   random_state=self.random_state)
            if self.recalibrate else SurvivalRecalibration.none("off"))
        self.baseline_ = BreslowBaseline.fit(time, event, self._margin(X),
                                             scale=self.recalibration_.applied)
        return self

    def _fit_until(self) -> float:
        """``fit_until_months`` as a number of months; ValueError unless it is above 0."""
        try:
            until = float(self.fit_until_months)
        except (TypeError, ValueError):
            until = float("nan")
        if not until > 0:
            raise ValueError(f"fit_until_months must be a number of months above 0 (inf: the "
                             f"whole follow-up), got {self.fit_until_months!r}")
        return until

    def __setstate__(self, state: dict) -> None:
        """A model pickled before the recalibration, the blend and the fitting horizon
        existed: its curves were never recalibrated, it is the trees alone, fitted on the whole
        follow-up (so ``get_params``, ``clone`` and the card keep working)."""
        state.setdefault("recalibrate", False)
        state.setdefault("recalibrate_until_months", 60.0)
        state.setdefault("blend_weight", 0.0)
        state.setdefault("fit_until_months", float("inf"))
        if "baseline_" in state:
            state.setdefault("recalibration_", SurvivalRecalibration.none("off"))
            state.setdefault("linear_", None)
            state.setdefault("blend_scales_", (1.0, 0.0))
        super().__setstate__(state)

    def _train(self, X: np.ndarray, label: np.ndarray) -> xgb.Booster:
        return self._trained(self.booster_params(), X, label)

    def _fit_parts(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
                   label: np.ndarray) -> tuple[xgb.Booster, LinearPart | None,
                                               tuple[float, float]]:
        """The trees, the linear part (None without a blend) and the blend's factors: margin
        = (1 - w) x trees' margin + w x linear predictor, both log relative hazards."""
        booster = self._train(X, label)
        linear = (LinearPart.fit(X, [str(n) for n in self.feature_names_in_], time, event,
                                 self.random_state) if self.blend_weight > 0 else None)
        if linear is None:
            return booster, None, (1.0, 0.0)
        return booster, linear, (1.0 - self.blend_weight, float(self.blend_weight))

    def blend(self, trees: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The model's margins (from the trees' margins, shape (n,)) or contributions (from
        the trees' TreeSHAP contributions, shape (n, n_features + 1), bias last) for the model
        rows ``rows``: the trees' values themselves without a blend."""
        return self._blended(trees, rows, self.linear_, self.blend_scales_)

    @staticmethod
    def _blended(trees: np.ndarray, rows: np.ndarray, linear: LinearPart | None,
                 scales: tuple[float, float]) -> np.ndarray:
        if linear is None:
            return trees
        tree_factor, linear_factor = scales
        if trees.ndim == 1:
            return tree_factor * trees + linear_factor * linear.predict(rows)
        out = tree_factor * trees
        out[:, :-1] += linear_factor * linear.contributions(rows)
        return out

    def _margin(self, X: np.ndarray,
                parts: tuple[xgb.Booster, LinearPart | None, tuple[float, float]] | None = None,
                ) -> np.ndarray:
        """The margin of rows ``X``: of the fitted model, or of the parts given
        (:meth:`_fit_parts`)."""
        booster, linear, scales = parts or (self.booster_, self.linear_, self.blend_scales_)
        trees = booster.predict(self._matrix(X), output_margin=True).astype(float)
        return self._blended(trees, X, linear, scales)

    def predict(self, X: object) -> np.ndarray:
        """Log relative hazard (higher means worse)."""
        return self._margin(self._rows(X))

    def predict_survival(self, X: object, times_months: object) -> np.ndarray:
        """Probability of no event by each of ``times_months``, shape (n, n_times)."""
        times = check_array(np.atleast_1d(times_months), ensure_2d=False)
        return self.baseline_.survival(self.predict(X), times)

    def contributions(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Exact contributions to the margin, shape (n, n_features + 1): the trees' TreeSHAP
        contributions (and, in a blend, the linear part's per feature); the last column is the
        bias, so each row sums to ``predict``."""
        return self.blend(self._booster_contributions(X), self._rows(X))
