"""Cross-validated evaluation on a Dask cluster: folds of whole partitions.

A partition holds whole patients, so folds of partitions are grouped by patient; every fitted
step (the gene filter, the model) is fitted on the training partitions only. The model and its
baselines (the same AFT model on clinical features only, and the Kaplan-Meier curve as the
no-covariate reference of the Brier score) are evaluated on the same folds, by the same metric
functions as the single-machine path, from risk scores computed on the workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.labels import Labels
from training.config import TrainConfig
from training.distributed.cohort import DaskCohort, DistributedFit
from training.evaluation.cross_validation import (
    KM_REFERENCE,
    Evaluation,
    km_reference_ibs,
    subgroup_metrics,
    summarise,
    survival_fold_metrics,
    truncation_time,
)
from training.evaluation.splits import Fold

#: The models compared on the Dask path, with the feature prefixes each one may use.
DASK_MODELS: dict[str, tuple[str, ...] | None] = {"model": None, "aft_clinical": ("clin__",)}


@dataclass(frozen=True)
class PartitionFold:
    """One fold: its rows (positions of the partitions' labelled patients laid end to end) and
    its training and test partitions."""

    fold: Fold
    train: list[int]
    test: list[int]


def partition_folds(sizes: list[int], n_splits: int) -> list[PartitionFold]:
    """K folds of whole partitions from the partitions' labelled-patient counts ``sizes``:
    partitions with patients, in order, go to folds 0, 1, ..., K-1, 0, ... (K is at most their
    number); a partition without labelled patients takes no part."""
    used = [k for k, size in enumerate(sizes) if size > 0]
    if len(used) < 2:
        raise ValueError("evaluation on Dask needs at least 2 partitions with labelled patients "
                         "(write the cohort with a smaller --partition-size)")
    n_folds = min(n_splits, len(used))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rows = {k: np.arange(starts[k], starts[k + 1]) for k in used}
    folds = []
    for fold in range(n_folds):
        test = [k for j, k in enumerate(used) if j % n_folds == fold]
        train = [k for j, k in enumerate(used) if j % n_folds != fold]
        folds.append(PartitionFold(Fold(0, fold, np.concatenate([rows[k] for k in train]),
                                        np.concatenate([rows[k] for k in test])),
                                   train, test))
    return folds


def fit_model(cohort: DaskCohort, partitions: list[int], config: TrainConfig,
              prefixes: tuple[str, ...] | None = None) -> DistributedFit:
    """The configured relapse model fitted on ``partitions``."""
    return cohort.fit(partitions, {"random_state": config.cv.random_state,
                                   **config.model.relapse_aft},
                      config.features.min_gene_frequency, config.features.min_gene_count,
                      prefixes)


def evaluate_on_dask(cohort: DaskCohort, labels: Labels, config: TrainConfig,
                     factors: pd.DataFrame,
                     on_fold: Callable[[Fold, dict[str, dict[str, float]]], None] | None = None,
                     ) -> Evaluation:
    """Partition-fold evaluation of the AFT model and its baselines; ``labels`` and
    ``factors`` are the partitions' labelled patients laid end to end."""
    y = labels.y
    folds = partition_folds(cohort.sizes(), config.cv.n_splits)
    horizons = tuple(config.evaluation.horizons_months)
    tau = truncation_time(y, config)
    oof = {name: np.full((1, len(y)), np.nan) for name in DASK_MODELS}
    oof_survival = np.full((1, len(y), len(horizons)), np.nan)
    rows: list[dict] = []
    for partition_fold in folds:
        fold, train, test = partition_fold.fold, partition_fold.train, partition_fold.test
        results: dict[str, dict[str, float]] = {}
        for name, prefixes in DASK_MODELS.items():
            fit = fit_model(cohort, train, config, prefixes)
            risk = cohort.predict_risk(fit, test)

            def survival_at(times: np.ndarray, risk: np.ndarray = risk,
                            fit: DistributedFit = fit) -> np.ndarray:
                return fit.model.baseline_.survival(risk, times)

            results[name] = survival_fold_metrics(y, fold, risk, survival_at, horizons, tau)
            oof[name][0, fold.test] = risk
            if name == "model":
                oof_survival[0, fold.test] = survival_at(np.asarray(horizons))
        results[KM_REFERENCE] = {"ibs": km_reference_ibs(y, fold, tau)}
        rows.extend({"repeat": 0, "fold": fold.fold, "model": model, "metric": metric,
                     "value": value}
                    for model, metrics in results.items() for metric, value in metrics.items())
        if on_fold is not None:
            on_fold(fold, results)
    fold_metrics = pd.DataFrame(rows)
    summary = summarise(fold_metrics, 1.0 / len(folds),
                        config.evaluation.interval_level_percent)
    subgroups = subgroup_metrics(labels, oof, factors, config.evaluation.min_subgroup_size)
    return Evaluation("survival", fold_metrics, summary, oof, oof_survival, subgroups, tau,
                      horizons)
