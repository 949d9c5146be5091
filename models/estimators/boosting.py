"""What the xgboost estimators share: NaN-tolerant input checks, the feature-named matrix, the
tree hyperparameters as xgboost training parameters, and TreeSHAP contributions.

Each estimator keeps its hyperparameters explicit in its own ``__init__`` (scikit-learn reads
them from the signature); this base only uses the ones they all have.
"""

from __future__ import annotations

import numpy as np
import xgboost as xgb
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from models.estimators.constraints import monotone_constraints


class BoostedTrees(BaseEstimator):
    """Base of the xgboost estimators. NaN is a value, not an error: it means "not profiled"
    or "unknown" and follows the trees' learned default directions (declared to scikit-learn
    through the ``allow_nan`` input tag)."""

    #: The fitted attribute that says the estimator was fitted.
    _fitted_attribute = "booster_"
    #: Whether the booster was trained on a matrix with the design's feature names.
    _named_matrix = True

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _rows(self, X: object) -> np.ndarray:
        """``X`` checked against the fitted columns, as float64 (NaN allowed)."""
        check_is_fitted(self, self._fitted_attribute)
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan",
                             dtype=np.float64)

    def _booster_feature_names(self) -> list[str] | None:
        """The design's column names, which the booster checks every matrix against; None
        for a booster trained on unnamed arrays (or columns without names)."""
        if self._named_matrix and hasattr(self, "feature_names_in_"):
            return [str(n) for n in self.feature_names_in_]
        return None

    def _matrix(self, X: np.ndarray) -> xgb.DMatrix:
        """An xgboost matrix of checked rows to predict on; NaN is missing."""
        return xgb.DMatrix(X, missing=np.nan, feature_names=self._booster_feature_names(),
                           nthread=self.n_jobs)

    def _trained(self, params: dict[str, object], X: np.ndarray,
                 label: np.ndarray | None = None,
                 bounds: tuple[np.ndarray, np.ndarray] | None = None) -> xgb.Booster:
        """An xgboost booster trained for ``n_estimators`` rounds on checked rows ``X`` (and
        ``label``, or AFT interval ``bounds`` in months). The training matrix carries no
        feature names, because xgboost re-reads and re-checks a matrix's names at every
        boosting round (about a quarter of a booster's training time, measured on the synthetic
        cohort's 726 x 63 design); the booster is given them after,
        so every matrix it predicts on is checked against them as before. The trees are the
        same either way."""
        matrix = xgb.DMatrix(X, label=label, missing=np.nan, nthread=self.n_jobs)
        if bounds is not None:
            matrix.set_float_info("label_lower_bound", bounds[0])
            matrix.set_float_info("label_upper_bound", bounds[1])
        booster = xgb.train(params, matrix, num_boost_round=self.n_estimators)
        booster.feature_names = self._booster_feature_names()
        return booster

    #: +1 when the booster's margin is the risk (higher = worse), -1 when the risk is minus it.
    _margin_sign = 1

    def monotone_params(self) -> dict[str, object]:
        """``monotone_constraints`` on the adverse factors among the fitted columns
        (:mod:`models.estimators.constraints`) when ``monotone`` is on and the columns are named."""
        names = getattr(self, "feature_names_in_", None)
        if not getattr(self, "monotone", False) or names is None:
            return {}
        constraints = monotone_constraints([str(n) for n in names], self._margin_sign)
        return {"monotone_constraints": "(" + ",".join(map(str, constraints)) + ")"} if any(
            constraints) else {}

    def tree_params(self) -> dict[str, object]:
        """The xgboost training parameters of the tree hyperparameters all models share."""
        return {
            **self.monotone_params(),
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "lambda": self.reg_lambda,
            "seed": self.random_state,
            "nthread": self.n_jobs,
            "tree_method": "hist",
        }

    def blend(self, trees: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The model's margins or contributions from the booster's (``trees``) for the model
        rows ``rows``: the booster's own unless the model adds a part (:class:`RiskModel`'s
        blend)."""
        return trees

    def _booster_contributions(self, X: object) -> np.ndarray:
        """Exact TreeSHAP contributions to the booster's margin, shape (n, n_features + 1),
        bias last."""
        rows = self._rows(X)
        return self.booster_.predict(self._matrix(rows), pred_contribs=True).astype(float)
