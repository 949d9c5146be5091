"""The linear part of a blended survival model: a ridge Cox model on the clinical features.

A boosted model with a small learning rate and shallow trees captures smooth, additive effects
(age, size, nodes, the Nottingham index) only slowly; a penalised Cox model captures them at
once. The blend (:class:`models.estimators.risk.RiskModel` with ``blend_weight`` above 0) adds this
part's log relative hazard to the trees' margin. It works on the same feature columns as the trees,
so an explanation stays one contribution per feature: here ``coef * (value - training mean)``,
summed over the feature's value and, when it was ever missing in training, its missing indicator;
the contributions of a row sum to its linear predictor (centred at the training means, so this part
adds nothing to the base value).

Inside ``fit`` only: the clinical columns (``clin__``) with a training value, in the
functional forms of :data:`FUNCTIONAL_FORMS` (log(1 + x) of skewed measurements, a quadratic
term for age), the training median for a missing value plus a missing indicator,
standardisation, and the ridge penalty chosen by inner cross-validation
(:class:`models.estimators.cox.PenalizedCox`). The coefficient of an established adverse
factor (:mod:`models.estimators.constraints`) may not fall below 0 and such a factor has no
quadratic term, so the blend keeps the monotone constraints of the trees (log(1 + x) is increasing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.labels import survival_target
from models.estimators.constraints import ADVERSE_FEATURES, monotone_constraints
from models.estimators.cox import PenalizedCox

#: Ridge penalties tried by the inner cross-validation (the training default of the baselines).
ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class FunctionalForm:
    """How the linear part enters one clinical feature besides linearly: ``log`` (its value
    is log(1 + x), x >= 0) or ``quadratic`` (a second term, the squared distance from the
    training median), and why."""

    feature: str
    form: str
    source: str


_SAUERBREI_ROYSTON = ("Sauerbrei and Royston 1999 (JRSS A 162:71-94), fractional polynomials "
                      "on the GBSG trial")
#: The reviewable table of the linear part's non-linear forms; other features enter linearly.
FUNCTIONAL_FORMS = (
    FunctionalForm("clin__positive_nodes", "log",
                   f"{_SAUERBREI_ROYSTON}: the hazard rises steeply over the first positive "
                   "nodes and flattens after (they use exp(-0.12 nodes); log(1 + x) has that "
                   "shape)"),
    FunctionalForm("clin__pr_fmol_mg", "log",
                   f"{_SAUERBREI_ROYSTON}: progesterone receptor enters as log(PgR + 1)"),
    FunctionalForm("clin__er_fmol_mg", "log",
                   "a receptor concentration skewed like progesterone receptor's "
                   f"({_SAUERBREI_ROYSTON})"),
    FunctionalForm("clin__tumor_size_mm", "log",
                   "a skewed size whose largest values would otherwise dominate a linear term"),
    FunctionalForm("clin__age_years", "quadratic",
                   f"{_SAUERBREI_ROYSTON}: age acts non-monotonically, the youngest patients "
                   "at the highest risk (they use a second-degree fractional polynomial; a "
                   "quadratic term is the simplest non-monotone form)"),
)
_LOG_FEATURES = frozenset(f.feature for f in FUNCTIONAL_FORMS if f.form == "log")
_QUADRATIC_FEATURES = frozenset(f.feature for f in FUNCTIONAL_FORMS if f.form == "quadratic")
if _QUADRATIC_FEATURES & set(ADVERSE_FEATURES):
    raise AssertionError("an adverse factor must stay monotone: no quadratic term")


@dataclass(frozen=True)
class LinearPart:
    """Per used column (positions among the model's features): whether it enters as
    log(1 + x), its training median (on that scale), and the coefficient and training mean of
    its value, of its missing indicator (0 when the column had no missing value in training) and
    of its quadratic term (0 without one). Coefficients are per unit of the feature on its
    scale; their sum over a row is a log relative hazard (higher means worse)."""

    columns: np.ndarray
    log_scaled: np.ndarray
    medians: np.ndarray
    value_coef: np.ndarray
    value_mean: np.ndarray
    missing_coef: np.ndarray
    missing_mean: np.ndarray
    square_coef: np.ndarray
    square_mean: np.ndarray

    def __setstate__(self, state: dict) -> None:
        """A part pickled before the functional forms: every column linear, none squared."""
        n = len(state["columns"])
        state.setdefault("log_scaled", np.zeros(n, dtype=bool))
        state.setdefault("square_coef", np.zeros(n))
        state.setdefault("square_mean", np.zeros(n))
        self.__dict__.update(state)

    @classmethod
    def fit(cls, X: np.ndarray, names: list[str], time: np.ndarray, event: np.ndarray,
            random_state: int) -> LinearPart | None:
        """Fit on the model's training rows ``X`` (NaN = missing) with feature ``names``;
        None when no clinical feature has a training value (the model is its trees)."""
        columns = np.array([k for k, name in enumerate(names) if name.startswith("clin__")
                            and not np.isnan(X[:, k]).all()], dtype=int)
        if not len(columns):
            return None
        used = [names[k] for k in columns]
        log_scaled = np.array([name in _LOG_FEATURES for name in used], dtype=bool)
        squared = np.array([name in _QUADRATIC_FEATURES for name in used], dtype=bool)
        values = _on_scale(X[:, columns], log_scaled)
        missing = np.isnan(values)
        medians = np.nanmedian(values, axis=0)
        imputed = np.where(missing, medians, values)
        has_missing = missing.any(axis=0)
        design = np.hstack([imputed, missing[:, has_missing].astype(float),
                            (imputed[:, squared] - medians[squared]) ** 2])
        mean, scale = design.mean(axis=0), design.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        adverse = np.array(monotone_constraints(used), dtype=int) > 0
        n, n_missing = len(columns), int(has_missing.sum())
        nonnegative = (*adverse.tolist(), *([False] * (design.shape[1] - n)))
        cox = PenalizedCox(alphas=ALPHAS, random_state=random_state, nonnegative=nonnegative)
        cox.fit((design - mean) / scale, survival_target(time, event))
        coef = cox.coef_ / scale
        missing_coef, missing_mean = np.zeros(n), np.zeros(n)
        missing_coef[has_missing] = coef[n:n + n_missing]
        missing_mean[has_missing] = mean[n:n + n_missing]
        square_coef, square_mean = np.zeros(n), np.zeros(n)
        square_coef[squared], square_mean[squared] = coef[n + n_missing:], mean[n + n_missing:]
        return cls(columns, log_scaled, medians, coef[:n], mean[:n], missing_coef, missing_mean,
                   square_coef, square_mean)

    def _terms(self, X: np.ndarray) -> np.ndarray:
        """Per row, the contribution of each used column, shape (n, len(columns)): its value,
        missing indicator and quadratic terms together."""
        values = _on_scale(X[:, self.columns], self.log_scaled)
        missing = np.isnan(values)
        imputed = np.where(missing, self.medians, values)
        return (self.value_coef * (imputed - self.value_mean)
                + self.missing_coef * (missing - self.missing_mean)
                + self.square_coef * ((imputed - self.medians) ** 2 - self.square_mean))

    def forms(self, names: list[str]) -> list[FunctionalForm]:
        """The entries of :data:`FUNCTIONAL_FORMS` of the columns this part uses, given the
        model's feature ``names``."""
        used = {names[k] for k in self.columns}
        return [form for form in FUNCTIONAL_FORMS if form.feature in used]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per row and model feature, this part's contribution to the log relative hazard
        (higher means worse), shape ``X.shape``; 0 for the columns it does not use."""
        out = np.zeros(X.shape)
        out[:, self.columns] = self._terms(X)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """This part's log relative hazard of each row (centred at the training means)."""
        return self._terms(X).sum(axis=1)


def _on_scale(values: np.ndarray, log_scaled: np.ndarray) -> np.ndarray:
    """``values`` (rows x used columns, NaN = missing) with the log-scaled columns as
    log(1 + x); a negative value counts as 0 there."""
    if not log_scaled.any():
        return values
    out = values.copy()
    out[:, log_scaled] = np.log1p(np.maximum(out[:, log_scaled], 0.0))
    return out
