"""Training the relapse model on a Dask cluster with ``xgboost.dask``.

The cohort is read partition by partition (each partition holds whole patients, see
:mod:`features.parquet_cohort`), and everything per patient (labels, the design) is computed on
the workers, partition-wise. The one fitted preprocessing step, the gene-frequency filter, is
fitted once from per-partition column statistics summed on the client, then shipped to every
partition. The model is :class:`models.aft.AFTRiskModel` trained by ``xgboost.dask.train``
(``survival:aft``, exact when rows are split across workers). No partition is ever gathered
into one process; only column statistics and the trained booster travel to the client.
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

from features.cohort import Cohort
from features.design import build_design
from features.labels import relapse_labels
from features.pipeline import GeneFrequencyFilter, column_statistics, combine_statistics
from models.aft import AFTRiskModel, aft_bounds

#: A partition of the cohort, as a function the workers call (so data is read where used).
PartitionReader = Callable[[], Cohort]


@contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of a new ``LocalCluster`` of
    ``n_workers`` single-threaded worker processes on 127.0.0.1 (closed on exit)."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def partition_design(read: PartitionReader) -> pd.DataFrame:
    """The relapse design of one partition, with the interval labels as the last columns
    (``_lower``, ``_upper``, months) and the event time and status (``_time``, ``_event``)."""
    cohort = read()
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    time = labels.y["time_months"].to_numpy(dtype=float)
    event = labels.y["event"].to_numpy(dtype=bool)
    lower, upper = aft_bounds(time, event)
    return X.assign(_lower=lower, _upper=upper, _time=time, _event=event.astype(float))


LABEL_COLUMNS = ["_lower", "_upper", "_time", "_event"]


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=LABEL_COLUMNS)


def _select(frame: pd.DataFrame, columns: list[str], selector: GeneFrequencyFilter,
            ) -> pd.DataFrame:
    """One partition aligned to the global columns (absent ones unknown), then filtered."""
    features = _features(frame).reindex(columns=columns)
    return pd.concat([selector.transform(features), frame[LABEL_COLUMNS]], axis=1)


@dataclass
class DistributedFit:
    """The fitted pipeline (filter + AFT model) and what the fit saw."""

    pipeline: Pipeline
    input_features: list[str]
    n_patients: int
    n_events: int


def fit_relapse_on_dask(client: Client, partitions: list[PartitionReader],
                        model_params: dict[str, Any] | None = None,
                        min_gene_frequency: float = 0.02, min_gene_count: int = 5,
                        ) -> DistributedFit:
    """Fit the relapse pipeline on ``partitions`` with the cluster behind ``client``."""
    # each partition is read and designed once, kept on its worker for both passes
    designs = client.persist([dask.delayed(partition_design)(read) for read in partitions])
    statistics = client.compute([dask.delayed(column_statistics)(dask.delayed(_features)(d))
                                 for d in designs], sync=True)
    combined = combine_statistics(statistics)
    columns = list(combined.index)
    selector = GeneFrequencyFilter(min_gene_frequency, min_gene_count).fit_statistics(combined)
    kept = list(selector.get_feature_names_out())
    meta = pd.DataFrame({c: pd.Series(dtype=float) for c in [*kept, *LABEL_COLUMNS]})
    frame = dd.from_delayed([dask.delayed(_select)(d, columns, selector) for d in designs],
                            meta=meta, verify_meta=False).persist()
    model = AFTRiskModel(**(model_params or {}))
    matrix = xgb.dask.DaskDMatrix(client, frame[kept], label_lower_bound=frame["_lower"],
                                  label_upper_bound=frame["_upper"], missing=np.nan,
                                  feature_names=kept)
    params = {**model.booster_params(), "nthread": 1}
    trained = xgb.dask.train(client, params, matrix, num_boost_round=model.n_estimators)
    model.feature_names_in_ = np.asarray(kept, dtype=object)
    model.n_features_in_ = len(kept)
    model.set_booster(trained["booster"])
    n_patients, n_events = dask.compute(frame["_event"].count(), frame["_event"].sum())
    pipeline = Pipeline([("select", selector), ("model", model)]).set_output(transform="pandas")
    return DistributedFit(pipeline, columns, int(n_patients), int(n_events))


def predict_on_dask(client: Client, fit: DistributedFit, partitions: list[PartitionReader],
                    ) -> pd.DataFrame:
    """Risk scores of every patient of ``partitions`` computed on the workers (xgboost.dask),
    with their relapse times and events: columns ``risk``, ``time_months``, ``event``."""
    selector = fit.pipeline.named_steps["select"]
    model: AFTRiskModel = fit.pipeline.named_steps["model"]
    kept = list(selector.get_feature_names_out())
    meta = pd.DataFrame({c: pd.Series(dtype=float) for c in [*kept, *LABEL_COLUMNS]})
    designs = [dask.delayed(partition_design)(read) for read in partitions]
    frame = dd.from_delayed([dask.delayed(_select)(d, fit.input_features, selector)
                             for d in designs], meta=meta, verify_meta=False).persist()
    margin = xgb.dask.predict(client, model.booster_, frame[kept], output_margin=True)
    risk = (-margin).compute()
    labels = frame[["_time", "_event"]].compute()
    return pd.DataFrame({"risk": np.asarray(risk, dtype=float),
                         "time_months": labels["_time"].to_numpy(),
                         "event": labels["_event"].to_numpy().astype(bool)})
