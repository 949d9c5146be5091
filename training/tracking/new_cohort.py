"""Champion against challenger on the challenger's cohort, for a challenger trained on another
cohort than the champion (a researcher's own study, say).

The two evaluations cannot be compared as they stand: each was cross-validated on its own
cohort. So the challenger's cohort is read again (its digest must equal the one its run
recorded), its design and folds are rebuilt from the run's parameters, and the champion's
bundle (fixed: fitted once on its own cohort, never refitted here) is scored on the test rows
of every fold the challenger was evaluated on. Per fold, the challenger's cross-validated
metric (from its run) faces the champion's metric on the same patients; the difference gets
the same corrected interval as every other metric. Subgroups are compared on the pooled
predictions, as the same-cohort gate does.

The champion is scored on patients it has never seen only when the two cohorts share none:
patients present in both (the same study loaded twice under different options) would favour
the champion, which makes the comparison conservative for the challenger.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.entities import Run
from sklearn.metrics import roc_auc_score

from features.cohorts.options import LoadOptions
from features.cohorts.sources import load_cohort
from features.design import build_design
from features.labels import Labels, labels_for_task
from features.time_origin import eligible_samples
from models.bundles.bundle import ModelBundle
from models.bundles.run_artifacts import read_run_artifact
from models.scoring import predict
from training.evaluation.cross_validation import (
    PRIMARY_METRIC,
    subgroup_factors,
    subgroup_metrics,
)
from training.evaluation.splits import patient_folds
from training.evaluation.summary import Stat, corrected_interval
from training.evaluation.survival_metrics import harrell_c
from training.tracking.store import COHORT_SOURCE_TAG


@dataclass(frozen=True)
class CohortComparison:
    """Champion and challenger on the challenger's folds: per fold, overall and by subgroup."""

    metric: str
    cohort: str
    folds: pd.DataFrame  # repeat, fold, n_test, challenger, champion
    difference: Stat  # challenger minus champion, corrected interval over folds
    subgroups: list[dict[str, Any]]  # scope, n, challenger, champion

    @property
    def challenger_mean(self) -> float:
        """The challenger's mean fold metric."""
        return float(self.folds["challenger"].mean())

    @property
    def champion_mean(self) -> float:
        """The champion's mean fold metric on the same test rows."""
        return float(self.folds["champion"].mean())

    def as_json(self) -> dict[str, Any]:
        """What the registry tag and the model card record."""
        return {"metric": self.metric, "cohort": self.cohort, "n_folds": len(self.folds),
                "challenger": round(self.challenger_mean, 4),
                "champion": round(self.champion_mean, 4),
                "difference": {k: round(v, 4) for k, v in self.difference.as_dict().items()
                               if k != "n"}}


def compare_on_challenger_cohort(champion: ModelBundle, challenger: Run,
                                 min_subgroup_size: int) -> CohortComparison:
    """Score ``champion`` on the folds of the ``challenger`` run's cohort; ValueError when the
    run cannot be re-evaluated (not the local engine, no recorded source, or a cohort that
    changed since training)."""
    params, tags = challenger.data.params, challenger.data.tags
    if tags.get("mbcrisk.engine", "local") != "local":
        raise ValueError("the challenger was trained on Dask (folds of partitions): the "
                         "new-cohort comparison needs a local-engine run")
    source = tags.get(COHORT_SOURCE_TAG)
    if not source:
        raise ValueError(f"the challenger's run records no cohort source ({COHORT_SOURCE_TAG}):"
                         " train it again with this version of mbcrisk")
    options = LoadOptions(*(Path(params[key]) if params.get(key, "None") != "None" else None
                            for key in ("cohort.panels", "cohort.columns")))
    cohort, _ = load_cohort(source, options)
    if cohort.digest() != tags.get("mbcrisk.cohort_digest"):
        raise ValueError(f"the challenger's cohort {source} changed since it was trained "
                         "(its digest differs): train the challenger again")
    endpoint = params.get("endpoint")
    labels = labels_for_task(cohort, tags["mbcrisk.task"],
                             None if endpoint in (None, "None") else endpoint)
    X = build_design(cohort, labels.time_origin)
    survival = labels.kind == "survival"
    metric = PRIMARY_METRIC[labels.kind]
    risk = predict(champion, X)["risk_score"].to_numpy(dtype=float)
    y = labels.y
    outcome = (y["event"] if survival else y["label"]).to_numpy(dtype=int)
    rows = []
    for fold in patient_folds(y.index.to_numpy(), outcome, int(params["cv.n_splits"]),
                              int(params["cv.n_repeats"]), int(params["cv.random_state"])):
        rows.append({"repeat": fold.repeat, "fold": fold.fold, "n_test": len(fold.test),
                     "champion": _metric(y, fold.test, risk, survival)})
    folds = pd.DataFrame(rows).merge(_challenger_folds(challenger, metric),
                                     on=["repeat", "fold"], how="left", validate="one_to_one")
    if folds["challenger"].isna().any():
        raise ValueError("the challenger's run lacks fold metrics for some of its folds")
    level = float(params.get("evaluation.interval_level_percent", 95))
    difference = corrected_interval((folds["challenger"] - folds["champion"]).to_numpy(),
                                    1.0 / int(params["cv.n_splits"]), level)
    samples = eligible_samples(cohort, labels.eligible_sample_types, labels.origin_months)
    factors = subgroup_factors(cohort.patients, samples, X.index)
    return CohortComparison(metric, str(cohort.metadata.get("name", source)), folds,
                            difference, _subgroups(challenger, labels, risk, factors,
                                                   min_subgroup_size))


def _metric(y: pd.DataFrame, rows: np.ndarray, risk: np.ndarray, survival: bool) -> float:
    if survival:
        return harrell_c(y["time_months"].to_numpy()[rows],
                         y["event"].to_numpy(dtype=bool)[rows], risk[rows])
    return float(roc_auc_score(y["label"].to_numpy()[rows], risk[rows]))


def _challenger_folds(run: Run, metric: str) -> pd.DataFrame:
    table = pd.read_csv(io.StringIO(read_run_artifact(run.info.run_id, "cv_fold_metrics.csv")))
    table = table[(table["model"] == "model") & (table["metric"] == metric)]
    return table[["repeat", "fold"]].assign(challenger=table["value"].to_numpy())


def _subgroups(run: Run, labels: Labels, risk: np.ndarray, factors: pd.DataFrame,
               min_size: int) -> list[dict[str, Any]]:
    champion = subgroup_metrics(labels, {"champion": risk[None, :]}, factors, min_size)
    challenger = pd.read_csv(io.StringIO(read_run_artifact(run.info.run_id,
                                                           "subgroup_metrics.csv")))
    challenger = challenger[challenger["model"] == "model"]
    keys = ["factor", "level"]
    both = challenger.astype({"level": str}).merge(champion, on=keys, suffixes=("", "_champ"))
    both = both[both["n"] >= min_size]
    return [{"scope": f"{row.factor}={row.level}", "n": int(row.n),
             "challenger": float(row.mean), "champion": float(row.mean_champ)}
            for row in both.itertuples(index=False)]


def comparison_tag(comparison: CohortComparison) -> str:
    """The comparison as the JSON of a registry tag."""
    return json.dumps(comparison.as_json())
