"""The linear part of a blended survival model: a ridge Cox model on the clinical features.

A boosted model with a small learning rate and shallow trees captures smooth, additive effects
(age, size, nodes, the Nottingham index) only slowly; a penalised Cox model captures them at
once. The blend (:class:`models.risk.RiskModel` with ``blend_weight`` above 0) adds this part's
log relative hazard to the trees' margin. It works on the same feature columns as the trees, so
an explanation stays one contribution per feature: here ``coef * (value - training mean)``,
summed over the feature's value and, when it was ever missing in training, its missing
indicator; the contributions of a row sum to its linear predictor (centred at the training
means, so this part adds nothing to the base value).

Inside ``fit`` only: the clinical columns (``clin__``) with a training value, the training
median for a missing value plus a missing indicator, standardisation, and the ridge penalty
chosen by inner cross-validation (:class:`models.cox.PenalizedCox`). The coefficient of an
established adverse factor (:mod:`models.constraints`) may not fall below 0, so the blend keeps
the monotone constraints of the trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.labels import survival_target
from models.constraints import monotone_constraints
from models.cox import PenalizedCox

#: Ridge penalties tried by the inner cross-validation (the training default of the baselines).
ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class LinearPart:
    """Per used column (positions among the model's features): training median, and the
    coefficient and training mean of its value and of its missing indicator (0 when the
    column had no missing value in training). Coefficients are per unit of the feature."""

    columns: np.ndarray
    medians: np.ndarray
    value_coef: np.ndarray
    value_mean: np.ndarray
    missing_coef: np.ndarray
    missing_mean: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, names: list[str], time: np.ndarray, event: np.ndarray,
            random_state: int) -> LinearPart | None:
        """Fit on the model's training rows ``X`` (NaN = missing) with feature ``names``;
        None when no clinical feature has a training value (the model is its trees)."""
        columns = np.array([k for k, name in enumerate(names) if name.startswith("clin__")
                            and not np.isnan(X[:, k]).all()], dtype=int)
        if not len(columns):
            return None
        values = X[:, columns]
        missing = np.isnan(values)
        medians = np.nanmedian(values, axis=0)
        imputed = np.where(missing, medians, values)
        has_missing = missing.any(axis=0)
        design = np.hstack([imputed, missing[:, has_missing].astype(float)])
        mean, scale = design.mean(axis=0), design.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        adverse = np.array(monotone_constraints([names[k] for k in columns]), dtype=int) > 0
        nonnegative = (*adverse.tolist(), *([False] * int(has_missing.sum())))
        cox = PenalizedCox(alphas=ALPHAS, random_state=random_state, nonnegative=nonnegative)
        cox.fit((design - mean) / scale, survival_target(time, event))
        coef = cox.coef_ / scale
        n = len(columns)
        missing_coef, missing_mean = np.zeros(n), np.zeros(n)
        missing_coef[has_missing], missing_mean[has_missing] = coef[n:], mean[n:]
        return cls(columns, medians, coef[:n], mean[:n], missing_coef, missing_mean)

    def _terms(self, X: np.ndarray) -> np.ndarray:
        """Per row, the contribution of each used column, shape (n, len(columns))."""
        values = X[:, self.columns]
        missing = np.isnan(values)
        imputed = np.where(missing, self.medians, values)
        return (self.value_coef * (imputed - self.value_mean)
                + self.missing_coef * (missing - self.missing_mean))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per row and model feature, this part's contribution to the log relative hazard
        (higher means worse), shape ``X.shape``; 0 for the columns it does not use."""
        out = np.zeros(X.shape)
        out[:, self.columns] = self._terms(X)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """This part's log relative hazard of each row (centred at the training means)."""
        return self._terms(X).sum(axis=1)
