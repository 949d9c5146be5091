"""Nested tuning of the boosted models: how the defaults were found, rerunnable.

Outer loop: K-fold split of the cohort (the test folds are never seen by the tuning). Inner
loop: K-fold CV on each outer training set ranks every candidate by the primary metric (Harrell's
C or AUROC); the winner is refitted on the outer training set and scored on the outer test fold.
The outer scores estimate the performance of *the tuning procedure*; the candidate chosen most
often across outer folds (and cohorts) becomes the class default (see docs/tuning.md).

Survival candidates also include blends of the boosted risk with the ridge Cox risk on clinical
features (``cox_clinical``): ``(1 - w) * boosted / sd + w * cox / sd``, each risk divided by its
standard deviation on the training rows, for each weight ``w`` of :data:`BLEND_WEIGHTS`. The
deployable model is one booster (its explanations are its exact TreeSHAP contributions), so
each outer fold makes two choices from the same inner scores: the best boosted candidate
(w = 0), refitted and scored as ``outer_score``, which sets the defaults; and the best
candidate blends included (``blend_choice``, ``blend_weight``), scored as
``blend_outer_score``, which measures honestly whether a blend would help. A blend is reported,
not served.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from features.labels import Labels, survival_target
from models.factory import build_pipelines
from training.config import FeatureConfig, ModelConfig
from training.evaluation.splits import patient_folds
from training.evaluation.survival_metrics import harrell_c

#: Candidate hyperparameters (a full grid): depth x rounds x learning rate x leaf weight.
GRIDS: dict[str, dict[str, tuple]] = {
    "survival": {"max_depth": (1, 2, 3), "n_estimators": (200, 500),
                 "learning_rate": (0.02, 0.05), "min_child_weight": (10.0, 30.0)},
    "binary": {"max_depth": (1, 2, 3), "n_estimators": (100, 300),
               "learning_rate": (0.02, 0.05), "min_child_weight": (5.0, 20.0)},
}


#: Weights of the ridge Cox (clinical) risk in the blended candidates; 0 is the boosted model.
BLEND_WEIGHTS: dict[str, tuple[float, ...]] = {"survival": (0.0, 0.25, 0.5, 0.75),
                                               "binary": (0.0,)}
#: The baseline blended with the boosted model.
BLEND_BASELINE = "cox_clinical"


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


def _fit_predict(kind: str, params: dict | None, X: pd.DataFrame, labels: Labels,
                 train: np.ndarray, test: np.ndarray, random_state: int,
                 ) -> tuple[np.ndarray, float]:
    """The predictions on ``test`` of the boosted model with ``params`` (None: the blend's
    baseline, :data:`BLEND_BASELINE`) fitted on ``train``, and the standard deviation of its
    predictions on ``train`` (the blend's scale)."""
    # candidates are ranked by C or AUROC, which the survival curves' recalibration never moves
    fitted_params = ({**(params or {}), "recalibrate": False} if kind == "survival"
                     else params or {})
    features, models = FeatureConfig(), ModelConfig()  # the training defaults
    pipelines = build_pipelines(kind, model_params=fitted_params,
                                min_gene_frequency=features.min_gene_frequency,
                                min_gene_count=features.min_gene_count,
                                cox_alphas=models.cox_alphas, logistic_cs=models.logistic_cs,
                                random_state=random_state)
    pipeline = pipelines["model" if params is not None else BLEND_BASELINE]
    fitted = clone(pipeline).fit(X.iloc[train], _target(kind, labels, train))
    if kind == "survival":
        return fitted.predict(X.iloc[test]), float(np.std(fitted.predict(X.iloc[train])))
    return fitted.predict_proba(X.iloc[test])[:, 1], 1.0


def _blend(boosted: tuple[np.ndarray, float], baseline: tuple[np.ndarray, float] | None,
           weight: float) -> np.ndarray | None:
    """The blended risk of weight ``weight`` on the baseline (0: the boosted risk itself);
    None when a blended model's training predictions are constant (no scale to divide by)."""
    if weight == 0.0 or baseline is None:
        return boosted[0]
    (risk, scale), (base_risk, base_scale) = boosted, baseline
    if not (scale > 0 and base_scale > 0):
        return None
    return (1.0 - weight) * risk / scale + weight * base_risk / base_scale


def _blend_score(kind: str, labels: Labels, rows: np.ndarray,
                 prediction: np.ndarray | None) -> float:
    """The candidate's score; minus infinity for a blend that does not exist."""
    return -np.inf if prediction is None else _score(kind, labels, rows, prediction)


def nested_tuning(X: pd.DataFrame, labels: Labels, outer_splits: int = 5,
                  inner_splits: int = 3, random_state: int = 0,
                  on_step: Callable[[], None] | None = None) -> TuningResult:
    """Run the nested procedure on one cohort's design ``X`` and ``labels``."""
    kind = labels.kind
    strata = (labels.y["event"] if kind == "survival" else labels.y["label"]).to_numpy(int)
    grid = candidates(kind)
    weights = BLEND_WEIGHTS[kind]
    blends = any(w > 0 for w in weights)
    rows = []
    counts: Counter = Counter()
    ids = labels.y.index.to_numpy()
    for outer in patient_folds(ids, strata, outer_splits, 1, random_state):
        inner_scores = np.zeros((len(grid), len(weights)))
        for inner in patient_folds(ids[outer.train], strata[outer.train], inner_splits, 1,
                                   random_state + 1):
            train, test = outer.train[inner.train], outer.train[inner.test]
            baseline = (_fit_predict(kind, None, X, labels, train, test, random_state)
                        if blends else None)
            for k, params in enumerate(grid):
                boosted = _fit_predict(kind, params, X, labels, train, test, random_state)
                for j, weight in enumerate(weights):
                    inner_scores[k, j] += _blend_score(kind, labels, test, _blend(
                        boosted, baseline, weight)) / inner_splits
                if on_step is not None:
                    on_step()
        # the deployable choice: the boosted model alone (w = 0), which sets the defaults
        best = int(np.argmax(inner_scores[:, 0]))
        boosted = _fit_predict(kind, grid[best], X, labels, outer.train, outer.test,
                               random_state)
        outer_score = _score(kind, labels, outer.test, boosted[0])
        counts[tuple(sorted(grid[best].items()))] += 1
        row = {"outer_fold": outer.fold, **grid[best],
               "inner_score": float(inner_scores[best, 0]), "outer_score": outer_score}
        if blends:  # the measurement: the best candidate, blends included
            k, j = np.unravel_index(int(np.argmax(inner_scores)), inner_scores.shape)
            if (k, j) == (best, 0):
                blend_score = outer_score
            else:
                chosen = _fit_predict(kind, grid[k], X, labels, outer.train, outer.test,
                                      random_state) if k != best else boosted
                baseline = _fit_predict(kind, None, X, labels, outer.train, outer.test,
                                        random_state) if j > 0 else None
                blend_score = _blend_score(kind, labels, outer.test,
                                           _blend(chosen, baseline, weights[j]))
            row |= {"blend_choice": ",".join(f"{v:g}" for v in grid[k].values()),
                    "blend_weight": weights[j], "blend_outer_score": blend_score}
        rows.append(row)
    return TuningResult(pd.DataFrame(rows), counts)
