"""The relapse model on a Dask cluster with ``xgboost.dask``, from a partitioned cohort.

The cohort is read partition by partition (each partition holds whole patients, see
:mod:`features.cohorts.parquet`); everything per patient (labels, the design) is computed on the
workers, once, and kept there. The design's columns come from the vocabulary of all partitions,
so a partition's design is the rows the whole cohort's design would have. The one fitted
preprocessing step, the gene-frequency filter, is fitted from per-partition column statistics
summed on the client (exactly the fit on all rows), then shipped to the partitions. The model
is :class:`models.estimators.aft.AFTRiskModel` trained by ``xgboost.dask.train`` (``survival:aft``,
a sum
over patients, so exact when rows are split across workers). Only small things travel to the
client: column statistics, each patient's outcome and subgroup factors, risk scores, a bounded
random sample of design rows, and the trained booster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import xgboost as xgb
import xgboost.dask  # noqa: F401 - registers xgb.dask
from distributed import Client, LocalCluster
from sklearn.pipeline import Pipeline

from features.cohorts.cohort import Cohort
from features.design import DesignVocabulary, build_design
from features.labels import Labels, relapse_labels
from features.pipeline import GeneFrequencyFilter, column_statistics, combine_statistics
from features.time_origin import eligible_samples
from models.estimators.aft import AFTRiskModel, aft_bounds
from training.evaluation.cross_validation import subgroup_factors

#: A partition of the cohort, as a function the workers call (so data is read where used).
PartitionReader = Callable[[], Cohort]
#: Columns carried beside the features of a partition's design: interval labels (months).
LABEL_COLUMNS = ["_lower", "_upper"]


@contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of a new ``LocalCluster`` of
    ``n_workers`` single-threaded worker processes on 127.0.0.1 (closed on exit)."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        yield client


@dataclass
class PartitionFacts:
    """What one partition tells the run besides its design: table sizes, digest, labels
    (outcomes, exclusions) and each labelled patient's subgroup factors."""

    digest: str
    counts: dict[str, int]
    labels: Labels
    patients: pd.DataFrame  # receptor_subtype, age_years of the labelled patients
    factors: pd.DataFrame


def partition_vocabulary(read: PartitionReader) -> DesignVocabulary:
    """The design vocabulary (genes, PAM50 levels) of one partition."""
    return DesignVocabulary.of(read())


def prepare_partition(read: PartitionReader, vocabulary: DesignVocabulary,
                      endpoint: str | None = None) -> tuple[pd.DataFrame, PartitionFacts]:
    """One partition's relapse design (features, then the interval labels ``_lower`` and
    ``_upper``, months) and its facts."""
    cohort = vocabulary.apply_to(read())
    labels = relapse_labels(cohort, endpoint)
    X = build_design(cohort, labels.time_origin, vocabulary)
    lower, upper = aft_bounds(labels.y["time_months"].to_numpy(dtype=float),
                              labels.y["event"].to_numpy(dtype=bool))
    samples = eligible_samples(cohort, labels.eligible_sample_types, labels.origin_months)
    facts = PartitionFacts(
        digest=cohort.digest(),
        counts={"patients": len(cohort.patients), "samples": len(cohort.samples),
                "mutations": len(cohort.mutations), "cna_calls": len(cohort.copy_number),
                "treatment_lines": len(cohort.treatments)},
        labels=labels,
        patients=cohort.patients.loc[X.index, ["receptor_subtype", "age_years"]],
        factors=subgroup_factors(cohort.patients, samples, X.index, drop_constant=False))
    return X.assign(_lower=lower, _upper=upper), facts


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=LABEL_COLUMNS)


def _select(frame: pd.DataFrame, columns: list[str], selector: GeneFrequencyFilter,
            ) -> pd.DataFrame:
    """One partition aligned to the global columns, then filtered, labels kept."""
    features = _features(frame).reindex(columns=columns)
    return pd.concat([selector.transform(features), frame[LABEL_COLUMNS]], axis=1)


def _sample(frame: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    return _features(frame).sample(frac=fraction, random_state=seed)


@dataclass
class DistributedFit:
    """A fitted relapse pipeline: the gene filter, then the AFT model."""

    pipeline: Pipeline

    @property
    def model(self) -> AFTRiskModel:
        """The AFT model (the pipeline's last step)."""
        return self.pipeline[-1]

    @property
    def model_features(self) -> list[str]:
        """The features the model sees (after the filter)."""
        return list(self.pipeline[0].get_feature_names_out())


class DaskCohort:
    """A partitioned cohort prepared on a Dask cluster: each partition read, labelled and
    designed once, its design kept on its worker for every fit and prediction."""

    def __init__(self, client: Client, partitions: list[PartitionReader],
                 endpoint: str | None = None) -> None:
        self.client = client
        vocabularies = client.compute([dask.delayed(partition_vocabulary)(read)
                                       for read in partitions], sync=True)
        vocabulary = DesignVocabulary.union(vocabularies)
        prepared = [dask.delayed(prepare_partition, nout=2)(read, vocabulary, endpoint)
                    for read in partitions]
        persisted = client.persist([p[0] for p in prepared] + [p[1] for p in prepared])
        self.designs = persisted[:len(partitions)]
        self.facts: list[PartitionFacts] = client.compute(persisted[len(partitions):],
                                                          sync=True)
        self.statistics: list[pd.DataFrame] = client.compute(
            [dask.delayed(column_statistics)(dask.delayed(_features)(d)) for d in self.designs],
            sync=True)
        self.columns = list(combine_statistics(self.statistics).index)

    @property
    def n_partitions(self) -> int:
        """Number of partitions."""
        return len(self.designs)

    def sizes(self) -> list[int]:
        """Labelled patients per partition."""
        return [len(f.labels.y) for f in self.facts]

    def fit(self, partitions: list[int], model_params: dict[str, Any] | None = None,
            min_gene_frequency: float = 0.02, min_gene_count: int = 5,
            prefixes: tuple[str, ...] | None = None) -> DistributedFit:
        """Fit the filter (from the statistics of ``partitions`` only) and the AFT model (with
        ``xgboost.dask`` on those partitions' rows; partitions without labelled patients take
        no part); ``prefixes`` restricts the features (``("clin__",)``: clinical only)."""
        partitions = self._labelled(partitions)
        statistics = combine_statistics([self.statistics[k] for k in partitions])
        selector = GeneFrequencyFilter(min_gene_frequency, min_gene_count, prefixes)
        selector.fit_statistics(statistics.reindex(self.columns).fillna(
            {"n_observed": 0, "altered": 0}))
        kept = list(selector.get_feature_names_out())
        frame = self._frame([self.designs[k] for k in partitions], selector)
        model = AFTRiskModel(**(model_params or {}))
        model.feature_names_in_ = np.asarray(kept, dtype=object)  # names the constraints too
        model.n_features_in_ = len(kept)
        matrix = xgb.dask.DaskDMatrix(self.client, frame[kept], label_lower_bound=frame["_lower"],
                                      label_upper_bound=frame["_upper"], missing=np.nan,
                                      feature_names=kept)
        trained = xgb.dask.train(self.client, {**model.booster_params(), "nthread": 1}, matrix,
                                 num_boost_round=model.n_estimators)
        model.set_booster(trained["booster"])
        pipeline = Pipeline([("select", selector), ("model", model)]).set_output(
            transform="pandas")
        return DistributedFit(pipeline)

    def predict_risk(self, fit: DistributedFit, partitions: list[int]) -> np.ndarray:
        """Risk scores (-mu(x), higher = worse) of every labelled patient of ``partitions``
        (in partition order), computed on the workers."""
        selector = fit.pipeline[0]
        partitions = self._labelled(partitions)
        if not partitions:
            return np.empty(0)
        frame = self._frame([self.designs[k] for k in partitions], selector)
        margin = xgb.dask.predict(self.client, fit.model.booster_, frame[fit.model_features],
                                  output_margin=True)
        return -np.asarray(margin.compute(), dtype=float)

    def sample(self, size: int, seed: int = 0) -> pd.DataFrame:
        """A uniform random sample of about ``size`` design rows (all of them if fewer),
        drawn on the workers, in the global column order."""
        fraction = min(1.0, size / max(1, sum(self.sizes())))
        parts = self.client.compute([dask.delayed(_sample)(d, fraction, seed + k)
                                     for k, d in enumerate(self.designs)], sync=True)
        return pd.concat(parts).reindex(columns=self.columns)

    def _labelled(self, partitions: list[int]) -> list[int]:
        """``partitions`` without those that have no labelled patient (they take no part)."""
        sizes = self.sizes()
        return [k for k in partitions if sizes[k] > 0]

    def _frame(self, designs: list, selector: GeneFrequencyFilter) -> dd.DataFrame:
        kept = list(selector.get_feature_names_out())
        meta = pd.DataFrame({c: pd.Series(dtype=float) for c in [*kept, *LABEL_COLUMNS]})
        return dd.from_delayed([dask.delayed(_select)(d, self.columns, selector)
                                for d in designs], meta=meta, verify_meta=False)
