"""One training run: labels, design, cross-validated evaluation against baselines, the final
refit, MLflow logging and registration as the ``challenger``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone

from features.actionability.cohort import cohort_view
from features.cohorts.sources import load_cohort
from features.design import build_design
from features.labels import Labels, labels_for_task, survival_target
from features.time_origin import eligible_samples
from models.bundles.bundle import ModelBundle
from models.estimators.factory import build_pipelines
from training.config import TrainConfig
from training.evaluation.cross_validation import Evaluation, evaluate, subgroup_factors
from training.evaluation.shortcut import SHORTCUT_LIMIT, shortcut_notes
from training.evaluation.splits import Fold
from training.horizons import with_served_horizons
from training.sample_size import (
    EVENTS_PER_VARIABLE,
    SampleSize,
    model_params,
    regularises,
    sample_size,
)
from training.tracking.run_records import (
    RunContext,
    TrainResult,
    build_bundle,
    cohort_summary,
    record_run,
)

__all__ = ["TrainResult", "train"]


def train(source: str, config: TrainConfig, *, register: bool = True,
          on_fold: Callable[[Fold], None] | None = None,
          on_start: Callable[[int], None] | None = None,
          scheduler: str | None = None, n_workers: int = 2) -> TrainResult:
    """Train and evaluate the configured task on cohort ``source``; log it to MLflow and, if
    ``register``, register the refitted model as the new ``challenger``. With
    ``config.engine == "dask"``, on the Dask cluster at ``scheduler`` (default: a LocalCluster
    of ``n_workers`` processes; see :mod:`training.distributed.train`)."""
    if config.engine == "dask":
        from training.distributed.train import train_on_dask

        return train_on_dask(source, config, register=register, on_fold=on_fold,
                             on_start=on_start, scheduler=scheduler, n_workers=n_workers)
    if config.engine != "local":
        raise ValueError(f"unknown engine {config.engine!r}; choose local or dask")
    cohort, report = load_cohort(source, config.cohort.load_options())
    digest = cohort.digest()  # hashing every table: once per run
    labels = labels_for_task(cohort, config.task_name, config.endpoint)
    config, horizons = with_served_horizons(config, labels)
    X = build_design(cohort, labels.time_origin)
    samples = eligible_samples(cohort, labels.eligible_sample_types, labels.origin_months)
    factors = subgroup_factors(cohort.patients, samples, X.index)
    genomic = any(not column.startswith("clin__") for column in X.columns)
    size = sample_size(labels, X)
    pipelines = _pipelines(labels, config, ablation=genomic, size=size)
    name = str(cohort.metadata.get("name", source))
    summary = cohort_summary(cohort.metadata, cohort.synthetic, digest, labels,
                             cohort.patients.loc[labels.y.index], X.isna().mean(),
                             cohort.summary())
    summary["actionability"] = cohort_view(cohort)
    summary["sample_size"] = {"events": size.events, "candidate_features": size.candidates,
                              "events_per_variable": round(size.events_per_variable, 3),
                              "threshold": EVENTS_PER_VARIABLE, "small_cohort": size.small,
                              "regularised": size.small and regularises(labels.task, labels.kind)}
    context = RunContext(str(source), name, cohort.synthetic, digest, labels, config, summary,
                         report.to_dict(), X, labels,
                         tags={"mbcrisk.genomic_data": "yes" if genomic else "none",
                               "mbcrisk.small_cohort": "true" if size.small else "false",
                               "mbcrisk.shortcut_limit": f"{SHORTCUT_LIMIT:g}"})

    def final_bundle(evaluation: Evaluation) -> tuple[ModelBundle, pd.DataFrame]:
        fitted = clone(pipelines["model"]).fit(X, _target(labels))
        bundle = build_bundle(fitted, list(X.columns), labels,
                              {"name": cohort.metadata.get("name"),
                               "synthetic": cohort.synthetic},
                              digest, evaluation, config, X)
        return bundle, X

    result = record_run(
        context, config.cv.n_splits * config.cv.n_repeats,
        lambda log_fold: evaluate(X, labels, pipelines, config, factors, on_fold=log_fold),
        final_bundle if register else None, pipelines["model"][-1], on_fold, on_start)
    regularised = regularises(labels.task, labels.kind)
    return dataclasses.replace(result, notes=(size.describe(regularised), *(
        [horizons.describe()] if horizons is not None else []), *shortcut_notes(
            result.evaluation)))



def _target(labels: Labels) -> np.ndarray:
    if labels.kind == "survival":
        return survival_target(labels.y["time_months"].to_numpy(),
                               labels.y["event"].to_numpy())
    return labels.y["label"].to_numpy(dtype=int)


def _pipelines(labels: Labels, config: TrainConfig, ablation: bool = False,
               size: SampleSize | None = None) -> dict:
    """The task's pipelines; with ``ablation`` (a cohort with genomic data), also the boosted
    model on clinical features only and the shortcut model on missingness alone; for a
    treatment task (progression, resistance), also the linear baseline on the clinical
    features and the known resistance markers. With ``size``, a small cohort's boosted model
    takes the regularised defaults (:mod:`training.sample_size`)."""
    params = config.model.relapse if labels.kind == "survival" else config.model.resistance
    if size is not None and regularises(labels.task, labels.kind):
        params = model_params(labels.kind, params, size)
    return build_pipelines(
        labels.kind, model_params=dict(params),
        min_gene_frequency=config.features.min_gene_frequency,
        min_gene_count=config.features.min_gene_count, cox_alphas=config.model.cox_alphas,
        logistic_cs=config.model.logistic_cs, random_state=config.cv.random_state,
        ablation=ablation, markers=labels.task != "relapse", shortcut=ablation)
