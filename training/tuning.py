"""Nested tuning of the boosted models: how the defaults were found, rerunnable.

Outer loop: K-fold split of the cohort (the test folds are never seen by the tuning). Inner
loop: K-fold CV on each outer training set ranks every candidate by the primary metric (Harrell's
C or AUROC); the winner is refitted on the outer training set and scored on the outer test fold.
The outer scores estimate the performance of *the tuning procedure*; the candidate chosen most
often across outer folds (and cohorts) becomes the class default (see docs/tuning.md).

Survival candidates also include blends of the boosted margin with a ridge Cox model on the
clinical features (``blend_weight`` of :class:`models.estimators.risk.RiskModel`; 0 is the trees
alone): the deployable model itself, ranked like any other setting.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from features.labels import Labels, survival_target
from models.estimators.factory import build_pipelines
from training.config import FeatureConfig, ModelConfig
from training.evaluation.splits import patient_folds
from training.evaluation.survival_metrics import harrell_c
from training.parallel import check_n_jobs, in_workers

#: Candidate hyperparameters (a full grid): depth x rounds x learning rate x leaf weight, and
#: for survival models the weight of the linear part of a blend
#: (:mod:`models.estimators.linear_part`) and the follow-up the risk score is fitted to (months;
#: ``inf`` first, so a cohort whose follow-up ends before 120 months, where both are the same
#: model, keeps the whole follow-up).
GRIDS: dict[str, dict[str, tuple]] = {
    "survival": {"max_depth": (1, 2, 3), "n_estimators": (200, 500),
                 "learning_rate": (0.02, 0.05), "min_child_weight": (10.0, 30.0),
                 "blend_weight": (0.0, 0.25, 0.5), "fit_until_months": (math.inf, 120.0)},
    "binary": {"max_depth": (1, 2, 3), "n_estimators": (100, 300),
               "learning_rate": (0.02, 0.05), "min_child_weight": (5.0, 20.0)},
}


@dataclass
class TuningResult:
    """Per outer fold: the chosen candidate, its inner score and its outer test score."""

    folds: pd.DataFrame
    choice_counts: Counter

    @property
    def most_chosen(self) -> dict:
        """The candidate chosen in the most outer folds."""
        return dict(self.choice_counts.most_common(1)[0][0])


def candidates(kind: str) -> list[dict]:
    """Every combination of the grid of ``kind``."""
    grid = GRIDS[kind]
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def _score(kind: str, labels: Labels, rows: np.ndarray, prediction: np.ndarray) -> float:
    y = labels.y.iloc[rows]
    if kind == "survival":
        return harrell_c(y["time_months"].to_numpy(), y["event"].to_numpy(dtype=bool),
                         prediction)
    return float(roc_auc_score(y["label"].to_numpy(), prediction))


def _target(kind: str, labels: Labels, rows: np.ndarray) -> np.ndarray:
    y = labels.y.iloc[rows]
    if kind == "survival":
        return survival_target(y["time_months"].to_numpy(), y["event"].to_numpy())
    return y["label"].to_numpy(dtype=int)


def _fit_score(kind: str, params: dict, X: pd.DataFrame, labels: Labels, train: np.ndarray,
               test: np.ndarray, random_state: int) -> float:
    # candidates are ranked by C or AUROC, which the survival curves' recalibration never moves
    fitted_params = {**params, "recalibrate": False} if kind == "survival" else params
    features, models = FeatureConfig(), ModelConfig()  # the training defaults
    pipeline = build_pipelines(kind, model_params=fitted_params,
                               min_gene_frequency=features.min_gene_frequency,
                               min_gene_count=features.min_gene_count,
                               cox_alphas=models.cox_alphas, logistic_cs=models.logistic_cs,
                               random_state=random_state)["model"]
    fitted = clone(pipeline).fit(X.iloc[train], _target(kind, labels, train))
    if kind == "survival":
        prediction = fitted.predict(X.iloc[test])
    else:
        prediction = fitted.predict_proba(X.iloc[test])[:, 1]
    return _score(kind, labels, test, prediction)


def nested_tuning(X: pd.DataFrame, labels: Labels, outer_splits: int = 5,
                  inner_splits: int = 3, random_state: int = 0,
                  on_step: Callable[[], None] | None = None, n_jobs: int = -1) -> TuningResult:
    """Run the nested procedure on one cohort's design ``X`` and ``labels``. The inner fits
    of each outer fold run ``n_jobs`` at a time in worker processes (:mod:`training.parallel`;
    -1: one per core); ``on_step`` is called in this process as each completes. The choice
    does not depend on ``n_jobs``."""
    check_n_jobs(n_jobs, "n_jobs")
    kind = labels.kind
    strata = (labels.y["event"] if kind == "survival" else labels.y["label"]).to_numpy(int)
    grid = candidates(kind)
    rows = []
    counts: Counter = Counter()
    ids = labels.y.index.to_numpy()
    for outer in patient_folds(ids, strata, outer_splits, 1, random_state):
        inner_fits = [(k, outer.train[inner.train], outer.train[inner.test])
                      for inner in patient_folds(ids[outer.train], strata[outer.train],
                                                 inner_splits, 1, random_state + 1)
                      for k in range(len(grid))]
        scores = in_workers(_fit_score, [(kind, grid[k], X, labels, train, test, random_state)
                                         for k, train, test in inner_fits], n_jobs)
        inner_scores = np.zeros(len(grid))
        for (k, _, _), score in zip(inner_fits, scores, strict=True):
            inner_scores[k] += score / inner_splits
            if on_step is not None:
                on_step()
        best = int(np.argmax(inner_scores))
        outer_score = _fit_score(kind, grid[best], X, labels, outer.train, outer.test,
                                 random_state)
        counts[tuple(sorted(grid[best].items()))] += 1
        rows.append({"outer_fold": outer.fold, **grid[best],
                     "inner_score": float(inner_scores[best]), "outer_score": outer_score})
    return TuningResult(pd.DataFrame(rows), counts)
