"""Classifier and calibration metrics as pure functions of arrays (probabilities of the event,
higher means worse)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS))


def _weighted_log_loss(params: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray,
                       offset_slope: bool) -> float:
    intercept, slope = (params[0], 1.0) if offset_slope else (params[0], params[1])
    p = expit(intercept + slope * x)
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray,
                                weight: np.ndarray | None = None) -> tuple[float, float]:
    """Logistic recalibration: the slope of logit(p) (1 = ideal, < 1 = too extreme) and the
    calibration-in-the-large intercept with the slope fixed at 1 (0 = ideal, > 0 = risks
    under-predicted). ``weight`` allows IPCW weights for outcomes at a horizon."""
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    keep = w > 0
    x, y, w = _logit(p)[keep], y[keep], w[keep]
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    slope_fit = minimize(_weighted_log_loss, np.zeros(2), args=(x, y, w, False), method="BFGS")
    intercept_fit = minimize(_weighted_log_loss, np.zeros(1), args=(x, y, w, True),
                             method="BFGS")
    return float(slope_fit.x[1]), float(intercept_fit.x[0])


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUROC, AUPRC (average precision), Brier score, calibration slope and intercept."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    slope, intercept = calibration_slope_intercept(y, p)
    both = len(np.unique(y)) == 2
    return {
        "auroc": float(roc_auc_score(y, p)) if both else float("nan"),
        "auprc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "cal_slope": slope,
        "cal_intercept": intercept,
        "prevalence": float(y.mean()),
    }


def auroc_within(y: np.ndarray, p: np.ndarray, strata: np.ndarray) -> float:
    """AUROC over the (resistant, not resistant) pairs within each stratum only (a panel, an
    assay era): each stratum's AUROC weighted by its number of pairs. NaN without a pair."""
    y, p, strata = np.asarray(y, dtype=int), np.asarray(p, dtype=float), np.asarray(strata)
    total = pairs = 0.0
    for stratum in np.unique(strata):
        rows = strata == stratum
        positives = int(y[rows].sum())
        count = positives * (int(rows.sum()) - positives)
        if count:
            total += roc_auc_score(y[rows], p[rows]) * count
            pairs += count
    return total / pairs if pairs else float("nan")


def net_benefit(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Decision-curve net benefit of treating patients whose probability exceeds each
    threshold: TP/n - FP/n * t / (1 - t)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    n = len(y)
    out = np.empty(len(thresholds))
    for k, t in enumerate(thresholds):
        treat = p >= t
        out[k] = np.sum(treat & (y == 1)) / n - np.sum(treat & (y == 0)) / n * t / (1 - t)
    return out


def calibration_table(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None,
                      groups: int = 10) -> list[dict[str, float]]:
    """Observed vs mean predicted risk by quantile group of predicted risk (for plots)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = []
    for b in np.unique(bins):
        mask = (bins == b) & (w > 0)
        if mask.sum() == 0:
            continue
        rows.append({"predicted": float(np.average(p[mask], weights=w[mask])),
                     "observed": float(np.average(y[mask], weights=w[mask])),
                     "n": int(((bins == b)).sum())})
    return rows
