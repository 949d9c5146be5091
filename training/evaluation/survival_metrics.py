"""Survival metrics as pure functions of arrays (times in months, events as booleans, risk
scores where higher means worse, survival probabilities S(t)).

Conventions follow the usual definitions (and scikit-survival's, against which the tests
check these to 1e-6): the censoring distribution G is the Kaplan-Meier estimate of the
*censoring* times of the training data, where at tied times events leave the risk set first;
G(t) is right-continuous and includes the drop at t.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TIED_TOL = 1e-8


def kaplan_meier(time: np.ndarray, event: np.ndarray,
                 reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Distinct times and the Kaplan-Meier survival just after each.

    ``reverse=True`` estimates the censoring distribution: censorings are the "events", and
    subjects with an event at the same time leave the risk set before them.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    unique, inverse = np.unique(time, return_inverse=True)
    n_events = np.bincount(inverse, weights=event.astype(float), minlength=len(unique))
    n_total = np.bincount(inverse, minlength=len(unique)).astype(float)
    at_risk = len(time) - np.r_[0.0, np.cumsum(n_total)[:-1]]
    if reverse:
        at_risk = at_risk - n_events
        n_events = n_total - n_events
    ratio = np.divide(n_events, at_risk, out=np.zeros(len(unique)), where=n_events > 0)
    return unique, np.cumprod(1.0 - ratio)


def step_at(knots: np.ndarray, values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A right-continuous step function (1 before the first knot) evaluated at ``times``;
    beyond the last knot it keeps the last value."""
    index = np.searchsorted(knots, np.asarray(times, dtype=float), side="right")
    return np.r_[1.0, values][index]


def censoring_survival(train_time: np.ndarray, train_event: np.ndarray,
                       times: np.ndarray) -> np.ndarray:
    """G(t): probability of remaining uncensored beyond ``times``, from training data."""
    if np.all(train_event):
        return np.ones(len(np.atleast_1d(times)))
    knots, values = kaplan_meier(train_time, train_event, reverse=True)
    return step_at(knots, values, times)


@njit(cache=True)
def _concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray,
                 weight: np.ndarray, tol: float) -> tuple[float, float]:
    """Weighted concordant (+ half tied) and comparable pair sums; rows sorted by time.

    O(n log n): times are swept from the latest down, and a Fenwick tree over the risk order
    holds everyone still at risk beyond the current time (plus those censored at it), so each
    event's comparable partners are counted by rank instead of pair by pair."""
    n = len(time)
    order = np.argsort(risk, kind="mergesort")
    sorted_risk = risk[order]
    position = np.empty(n, dtype=np.int64)
    for k in range(n):
        position[order[k]] = k
    tree = np.zeros(n + 1, dtype=np.int64)
    in_tree = 0
    numerator = 0.0
    denominator = 0.0
    end = n
    while end > 0:
        start = end - 1
        while start > 0 and time[start - 1] == time[end - 1]:
            start -= 1
        for i in range(start, end):  # censored at this time: comparable to its events
            if not event[i]:
                _fenwick_add(tree, position[i] + 1)
                in_tree += 1
        for i in range(start, end):
            if event[i] and weight[i] != 0.0 and in_tree > 0:
                below = _fenwick_sum(tree, np.searchsorted(sorted_risk, risk[i] - tol))
                up_to = _fenwick_sum(tree, np.searchsorted(sorted_risk, risk[i] + tol,
                                                           side="right"))
                numerator += weight[i] * (below + 0.5 * (up_to - below))
                denominator += weight[i] * in_tree
        for i in range(start, end):
            if event[i]:
                _fenwick_add(tree, position[i] + 1)
                in_tree += 1
        end = start
    return numerator, denominator


@njit(cache=True)
def _fenwick_add(tree: np.ndarray, index: int) -> None:
    while index < len(tree):
        tree[index] += 1
        index += index & -index


@njit(cache=True)
def _fenwick_sum(tree: np.ndarray, count: int) -> int:
    """How many inserted rows have a risk rank below ``count``."""
    total = 0
    while count > 0:
        total += tree[count]
        count -= count & -count
    return total


def _sorted_concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray,
                        weight: np.ndarray) -> float:
    order = np.argsort(time, kind="stable")
    numerator, denominator = _concordance(
        np.ascontiguousarray(time[order], dtype=np.float64),
        np.ascontiguousarray(event[order], dtype=np.bool_),
        np.ascontiguousarray(risk[order], dtype=np.float64),
        np.ascontiguousarray(weight[order], dtype=np.float64), TIED_TOL)
    if denominator == 0:
        return float("nan")
    return numerator / denominator


def harrell_c(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's concordance index: among comparable pairs (the earlier time is an event), the
    share where the earlier failure has the higher risk; tied risks count one half."""
    time, event, risk = _arrays(time, event, risk)
    return _sorted_concordance(time, event, risk, np.ones(len(time)))


def harrell_c_within(time: np.ndarray, event: np.ndarray, risk: np.ndarray,
                     strata: np.ndarray) -> float:
    """Harrell's C over the comparable pairs within each stratum only (a panel, an assay
    era): what the risk knows beyond which stratum a patient is in. NaN without any pair."""
    time, event, risk = _arrays(time, event, risk)
    strata = np.asarray(strata)
    numerator = denominator = 0.0
    for stratum in np.unique(strata):
        rows = strata == stratum
        order = np.argsort(time[rows], kind="stable")
        n, d = _concordance(
            np.ascontiguousarray(time[rows][order], dtype=np.float64),
            np.ascontiguousarray(event[rows][order], dtype=np.bool_),
            np.ascontiguousarray(risk[rows][order], dtype=np.float64),
            np.ones(int(rows.sum())), TIED_TOL)
        numerator, denominator = numerator + n, denominator + d
    return numerator / denominator if denominator else float("nan")


def uno_c(train_time: np.ndarray, train_event: np.ndarray, time: np.ndarray,
          event: np.ndarray, risk: np.ndarray, tau: float) -> float:
    """Uno's IPCW concordance index truncated at ``tau`` months: pairs weighted by 1/G(T_i)^2,
    events at or after ``tau`` not counted as the earlier member of a pair."""
    time, event, risk = _arrays(time, event, risk)
    g = censoring_survival(train_time, train_event, time)
    weight = np.where(event & (time < tau), 1.0 / np.square(np.where(g > 0, g, np.nan)), 0.0)
    weight = np.nan_to_num(weight, nan=0.0)
    return _sorted_concordance(time, event, risk, weight)


def cumulative_dynamic_auc(train_time: np.ndarray, train_event: np.ndarray, time: np.ndarray,
                           event: np.ndarray, risk: np.ndarray,
                           times: np.ndarray) -> tuple[np.ndarray, float]:
    """Cumulative/dynamic AUC at each of ``times`` (cases: event by t, weighted 1/G(T_i);
    controls: still event-free after t) and its mean weighted by the test Kaplan-Meier."""
    time, event, risk = _arrays(time, event, risk)
    times = np.unique(np.asarray(times, dtype=float))
    g = censoring_survival(train_time, train_event, time)
    ipcw = np.where(event, 1.0 / np.where(g > 0, g, np.inf), 0.0)
    scores = np.empty(len(times))
    for k, t in enumerate(times):
        cases = event & (time <= t)
        controls = np.sort(risk[time > t])
        lower = np.searchsorted(controls, risk[cases] - TIED_TOL, side="left")
        upper = np.searchsorted(controls, risk[cases] + TIED_TOL, side="right")
        wins = lower + 0.5 * (upper - lower)
        scores[k] = np.sum(ipcw[cases] * wins) / (np.sum(ipcw[cases]) * len(controls))
    if len(times) == 1:
        return scores, float(scores[0])
    knots, values = kaplan_meier(time, event)
    surv = step_at(knots, values, times)
    drop = -np.diff(np.r_[1.0, surv])
    return scores, float(np.sum(scores * drop) / (1.0 - surv[-1]))


def brier_scores(train_time: np.ndarray, train_event: np.ndarray, time: np.ndarray,
                 event: np.ndarray, survival: np.ndarray, times: np.ndarray) -> np.ndarray:
    """IPCW Brier score at each of ``times``; ``survival[:, k]`` is S(times[k] | x)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    survival = np.asarray(survival, dtype=float).reshape(len(time), -1)
    g_t = censoring_survival(train_time, train_event, times)
    g_y = censoring_survival(train_time, train_event, time)
    inv_g_t = np.where(g_t > 0, 1.0 / np.where(g_t > 0, g_t, 1.0), 0.0)
    inv_g_y = np.where(g_y > 0, 1.0 / np.where(g_y > 0, g_y, 1.0), 0.0)
    scores = np.empty(len(times))
    for k, t in enumerate(times):
        case = (time <= t) & event
        control = time > t
        scores[k] = np.mean(np.square(survival[:, k]) * case * inv_g_y
                            + np.square(1.0 - survival[:, k]) * control * inv_g_t[k])
    return scores


def integrated_brier_score(train_time: np.ndarray, train_event: np.ndarray,
                           time: np.ndarray, event: np.ndarray, survival: np.ndarray,
                           times: np.ndarray) -> float:
    """Brier score integrated over ``times`` (trapezoid rule) and divided by their range."""
    times = np.asarray(times, dtype=float)
    scores = brier_scores(train_time, train_event, time, event, survival, times)
    return float(np.trapezoid(scores, times) / (times[-1] - times[0]))


def observed_risk(time: np.ndarray, event: np.ndarray, horizon: float) -> float:
    """Kaplan-Meier risk of an event by ``horizon`` months (1 - S(horizon))."""
    knots, values = kaplan_meier(time, event)
    return float(1.0 - step_at(knots, values, np.array([horizon]))[0])


def horizon_status(train_time: np.ndarray, train_event: np.ndarray, time: np.ndarray,
                   event: np.ndarray, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Outcome by ``horizon`` (1 = event by then, 0 = event-free after) and IPCW weights;
    patients censored before the horizon get weight 0."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    case = event & (time <= horizon)
    control = time > horizon
    g_y = censoring_survival(train_time, train_event, time)
    g_h = censoring_survival(train_time, train_event, np.array([horizon]))[0]
    weight = np.where(case, 1.0 / np.where(g_y > 0, g_y, np.inf), 0.0)
    weight = np.where(control, 1.0 / g_h if g_h > 0 else 0.0, weight)
    return case.astype(float), weight


def _arrays(time: object, event: object, risk: object) -> tuple[np.ndarray, ...]:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    risk = np.asarray(risk, dtype=float)
    if not (len(time) == len(event) == len(risk)):
        raise ValueError("time, event and risk must have the same length")
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk scores must be finite (a NaN or inf has no rank)")
    return time, event, risk
