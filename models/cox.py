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

from models.breslow import BreslowBaseline
from models.survival_target import check_survival_target


def _risk_set_terms(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort order by time (ascending) and, per sorted row, the index of its first tie."""
    order = np.argsort(time, kind="stable")
    sorted_time = time[order]
    first_of_tie = np.searchsorted(sorted_time, sorted_time, side="left")
    return order, first_of_tie


def partial_log_likelihood(beta: np.ndarray, X: np.ndarray, time: np.ndarray,
                           event: np.ndarray) -> tuple[float, np.ndarray]:
    """Breslow partial log-likelihood and its gradient at ``beta``."""
    order, first = _risk_set_terms(time)
    Xs, ev = X[order], event[order]
    eta = Xs @ beta
    shift = eta.max()
    w = np.exp(eta - shift)
    risk_sum = np.cumsum(w[::-1])[::-1][first]  # sum over T_j >= T_i, ties included
    weighted_x = np.cumsum((w[:, None] * Xs)[::-1], axis=0)[::-1][first]
    loglik = float(np.sum(ev * (eta - shift - np.log(risk_sum))))
    gradient = (ev[:, None] * (Xs - weighted_x / risk_sum[:, None])).sum(axis=0)
    return loglik, gradient


class PenalizedCox(BaseEstimator):
    """Cox model with a ridge penalty; ``predict`` is the log relative hazard (higher = worse).

    ``alphas``: candidate penalties; with more than one, ``alpha_`` is picked by ``cv``-fold
    cross-validated partial likelihood within the training data. Features should be scaled.
    """

    def __init__(self, alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0), cv: int = 3,
                 max_iter: int = 500, random_state: int = 0) -> None:
        self.alphas = alphas
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def _solve(self, X: np.ndarray, time: np.ndarray, event: np.ndarray,
               alpha: float) -> np.ndarray:
        def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
            loglik, gradient = partial_log_likelihood(beta, X, time, event)
            return -loglik + 0.5 * alpha * beta @ beta, -gradient + alpha * beta

        result = minimize(objective, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
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
