"""``mbcrisk train --engine dask``: the relapse model trained on a Dask cluster from a
partitioned Parquet cohort, recorded exactly like a single-machine run (same MLflow run layout,
bundle, registry and card; :mod:`training.tracking.run_records`).

What differs, and why (docs/distributed.md): the model is the AFT model (exact on split rows);
the evaluation is K-fold over whole partitions (grouped by patient, one repeat) against the
clinical-only AFT model and the Kaplan-Meier reference; the dataset record, the missingness
check, the applicability domain and the explanation plots use a seeded random sample of at
most :data:`SAMPLE_SIZE` patients, drawn on the workers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd

from features.cohorts.errors import CohortError
from features.cohorts.parquet import is_parquet_cohort, read_manifest, read_partition
from features.cohorts.report import Exclusion, LoadReport
from features.labels import Labels
from models.bundles.bundle import ModelBundle
from models.estimators.aft import AFTRiskModel
from training.config import TrainConfig
from training.distributed.cohort import DaskCohort, PartitionFacts, dask_client
from training.distributed.evaluation import evaluate_on_dask, fit_model, partition_folds
from training.evaluation.cross_validation import Evaluation
from training.evaluation.splits import Fold
from training.horizons import with_served_horizons
from training.tracking.run_records import (
    RunContext,
    TrainResult,
    build_bundle,
    cohort_summary,
    record_run,
)

#: Patients sampled for the dataset record, missingness check, applicability domain and plots.
SAMPLE_SIZE = 20_000


def train_on_dask(source: str, config: TrainConfig, *, register: bool = True,
                  on_fold: Callable[[Fold], None] | None = None,
                  on_start: Callable[[int], None] | None = None,
                  scheduler: str | None = None, n_workers: int = 2) -> TrainResult:
    """Train, evaluate and (if ``register``) register the relapse model of the partitioned
    cohort in folder ``source``, on the cluster at ``scheduler`` or a new LocalCluster."""
    if config.task != "relapse":
        raise ValueError("--engine dask trains the relapse model; train resistance with "
                         "--engine local")
    if not is_parquet_cohort(source):
        raise CohortError("--engine dask reads a partitioned Parquet cohort (a folder with "
                          "cohort.json, as written by mbcrisk synth --format parquet)",
                          file=str(source))
    source = str(Path(source).resolve())  # workers of a remote cluster read it themselves
    manifest = read_manifest(source)
    if manifest["partitions"] < 2:
        raise CohortError("--engine dask evaluates on folds of partitions: the cohort needs at "
                          "least 2 (write it with a smaller --partition-size)", file=source)
    readers = [partial(read_partition, source, k) for k in range(manifest["partitions"])]
    with dask_client(scheduler, n_workers) as client:
        cohort = DaskCohort(client, readers, config.endpoint)
        n_folds = len(partition_folds(cohort.sizes(), config.cv.n_splits))
        config = replace(config, cv=replace(config.cv, n_splits=n_folds, n_repeats=1))
        labels = pooled_labels(cohort.facts)
        config, _ = with_served_horizons(config, labels)
        factors = pooled_factors(cohort.facts)
        sample = cohort.sample(SAMPLE_SIZE, config.cv.random_state)
        metadata = dict(manifest["metadata"])
        digest = pooled_digest(cohort.facts)
        context = RunContext(
            str(source), str(metadata.get("name", source)), bool(metadata.get("synthetic")),
            digest, labels, config,
            cohort_summary(metadata, bool(metadata.get("synthetic")), digest, labels,
                           pd.concat([f.patients for f in cohort.facts]),
                           missing_shares(cohort, len(labels.y)),
                           {"partitions": cohort.n_partitions,
                            **{f"n_{k}": v for k, v in pooled_counts(cohort.facts).items()}}),
            load_report(source, cohort.facts), sample,
            replace(labels, y=labels.y.loc[sample.index],
                    origin_months=labels.origin_months.loc[sample.index]),
            tags={"mbcrisk.dask_scheduler": scheduler or f"LocalCluster({n_workers} workers)",
                  "mbcrisk.dask_workers": str(len(client.scheduler_info()["workers"])),
                  "mbcrisk.design_sample": str(len(sample))})

        def final_bundle(evaluation: Evaluation) -> tuple[ModelBundle, pd.DataFrame]:
            fit = fit_model(cohort, list(range(cohort.n_partitions)), config)
            bundle = build_bundle(fit.pipeline, cohort.columns, labels,
                                  {"name": metadata.get("name"),
                                   "synthetic": bool(metadata.get("synthetic"))},
                                  digest, evaluation, config, sample)
            return bundle, sample

        return record_run(
            context, n_folds,
            lambda log_fold: evaluate_on_dask(cohort, labels, config, factors, log_fold),
            final_bundle if register else None,
            AFTRiskModel(**{"random_state": config.cv.random_state,
                            **config.model.relapse_aft}),
            on_fold, on_start)


def pooled_labels(facts: list[PartitionFacts]) -> Labels:
    """The partitions' labels as one (patients laid end to end, exclusions summed)."""
    first = facts[0].labels
    counts: dict[tuple[str, str], int] = {}
    for part in facts:
        for exclusion in part.labels.exclusions:
            key = (exclusion.table, exclusion.reason)
            counts[key] = counts.get(key, 0) + exclusion.count
    return replace(first, y=pd.concat([f.labels.y for f in facts]),
                   origin_months=pd.concat([f.labels.origin_months for f in facts]),
                   exclusions=[Exclusion(table, reason, count)
                               for (table, reason), count in counts.items()])


def pooled_factors(facts: list[PartitionFacts]) -> pd.DataFrame:
    """Subgroup factors of every labelled patient; a factor constant over the whole cohort
    is dropped (as on one machine)."""
    factors = pd.concat([f.factors for f in facts])
    keep = [c for c in factors.columns
            if c in ("receptor_subtype", "age_band") or factors[c].nunique() > 1]
    return factors[keep]


def pooled_counts(facts: list[PartitionFacts]) -> dict[str, int]:
    """Table sizes summed over partitions."""
    return {key: int(sum(f.counts[key] for f in facts)) for key in facts[0].counts}


def pooled_digest(facts: list[PartitionFacts]) -> str:
    """SHA-256 over the partitions' digests, in partition order."""
    hasher = hashlib.sha256()
    for part in facts:
        hasher.update(part.digest.encode())
    return hasher.hexdigest()


def missing_shares(cohort: DaskCohort, n_patients: int) -> pd.Series:
    """Share of the labelled patients missing each design column (from the statistics)."""
    observed = sum(s["n_observed"].reindex(cohort.columns).fillna(0) for s in cohort.statistics)
    return 1.0 - observed / max(1, n_patients)


def load_report(source: str, facts: list[PartitionFacts]) -> dict:
    """The load report of a partitioned cohort: its table sizes."""
    report = LoadReport(source=str(source))
    report.counts.update({**pooled_counts(facts), "partitions": len(facts)})
    return report.to_dict()


