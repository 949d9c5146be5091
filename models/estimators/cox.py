"""Ridge-penalised Cox proportional-hazards model (Breslow ties), the linear survival baseline.

The penalty ``alpha / 2 * ||beta||^2`` is chosen among ``alphas`` by the cross-validated partial
log-likelihood of Verweij and van Houwelingen (1993), on folds of the training data only.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from models.estimators.breslow import BreslowBaseline
from models.estimators.survival_target import check_survival_target


class _SortedData:
    """Rows sorted by time, with each row's first and last tie: computed once per fit."""

    def __init__(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        order = np.argsort(time, kind="stable")
        sorted_time = time[order]
        self.X, self.event = X[order], event[order].astype(float)
        self.first = np.searchsorted(sorted_time, sorted_time, side="left")
        self.last = np.searchsorted(sorted_time, sorted_time, side="right") - 1
        self.event_x = self.event @ self.X


def partial_log_likelihood(beta: np.ndarray, X: np.ndarray, time: np.ndarray,
                           event: np.ndarray) -> tuple[float, np.ndarray]:
    """Breslow partial log-likelihood and its gradient at ``beta``."""
    return _sorted_log_likelihood(beta, _SortedData(X, time, event))


def _sorted_log_likelihood(beta: np.ndarray, data: _SortedData) -> tuple[float, np.ndarray]:
    """The partial log-likelihood and gradient in O(n p): the gradient's risk-set averages are
    rewritten as X^T (event - w * c), c_j = sum of event_i / R_i over T_i <= T_j."""
    eta = data.X @ beta
    shift = eta.max()
    w = np.exp(eta - shift)
    risk_sum = np.cumsum(w[::-1])[::-1][data.first]  # sum over T_j >= T_i, ties included
    loglik = float(np.sum(data.event * (eta - shift - np.log(risk_sum))))
    c = np.cumsum(data.event / risk_sum)[data.last]
    gradient = data.event_x - (w * c) @ data.X
    return loglik, gradient


class PenalizedCox(BaseEstimator):
    """Cox model with a ridge penalty; ``predict`` is the log relative hazard (higher = worse).

    ``alphas``: candidate penalties; with more than one, ``alpha_`` is picked by ``cv``-fold
    cross-validated partial likelihood within the training data. Features should be scaled.
    ``nonnegative``: per column, whether its coefficient may not fall below 0 (empty: none).
    """

    def __init__(self, alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0), cv: int = 3,
                 max_iter: int = 500, random_state: int = 0,
                 nonnegative: tuple[bool, ...] = ()) -> None:
        self.alphas = alphas
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state
        self.nonnegative = nonnegative

    def _solve(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
               alpha: float) -> np.ndarray:
        data = _SortedData(X, time, event)

        def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
            loglik, gradient = _sorted_log_likelihood(beta, data)
            return -loglik + 0.5 * alpha * beta @ beta, -gradient + alpha * beta

        floor = tuple(getattr(self, "nonnegative", ()))
        bounds = ([(0.0, None) if positive else (None, None) for positive in floor]
                  if any(floor) else None)
        result = minimize(objective, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                          bounds=bounds,
                          options={"maxiter": self.max_iter, "gtol": 1e-9, "ftol": 1e-13})
        return result.x

    def _choose_alpha(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> float:
        alphas = tuple(self.alphas)
        if len(alphas) == 1:
            return float(alphas[0])
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        scores = np.zeros(len(alphas))
        for train, _ in folds.split(X, event):
            for i, alpha in enumerate(alphas):
                beta = self._solve(X[train], time[train], event[train], alpha)
                full, _ = partial_log_likelihood(beta, X, time, event)
                part, _ = partial_log_likelihood(beta, X[train], time[train], event[train])
                scores[i] += full - part
        return float(alphas[int(np.argmax(scores))])

    def fit(self, X: object, y: object) -> PenalizedCox:
        """Fit on features ``X`` and a structured survival target ``y`` (months)."""
        X = validate_data(self, X, ensure_all_finite=True)
        time, event = check_survival_target(y, X.shape[0])
        self.alpha_ = self._choose_alpha(X, time, event)
        self.coef_ = self._solve(X, time, event, self.alpha_)
        self.baseline_ = BreslowBaseline.fit(time, event, X @ self.coef_)
        return self

    def predict(self, X: object) -> np.ndarray:
        """Log relative hazard (higher means worse)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, ensure_all_finite=True)
        return X @ self.coef_

    def predict_survival(self, X: object, times_months: object) -> np.ndarray:
        """Probability of no event by each of ``times_months``, shape (n, n_times)."""
        times = check_array(np.atleast_1d(times_months), ensure_2d=False)
        return self.baseline_.survival(self.predict(X), times)
