"""Grouped splitting (no patient on both sides) and no test-fold information in fitted steps."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from features.cohorts import load_cohort
from features.design import build_design
from features.labels import relapse_labels
from features.pipeline import GeneFrequencyFilter, pandas_pipeline
from models.estimators.factory import build_pipelines
from training.config import CVConfig, TrainConfig
from training.evaluation.cross_validation import evaluate, subgroup_factors
from training.evaluation.splits import patient_folds
from training.horizons import with_served_horizons


def test_folds_group_patients_and_cover_each_once_per_repeat() -> None:
    patients = np.repeat(np.arange(60), 2)  # two rows per patient
    strata = np.tile([0, 1], 60)
    seen = {}
    for fold in patient_folds(patients, strata, n_splits=5, n_repeats=3, random_state=1):
        assert not set(patients[fold.train]) & set(patients[fold.test])
        seen.setdefault(fold.repeat, []).extend(fold.test)
    for tests in seen.values():
        assert sorted(tests) == list(range(120))


def test_folds_are_stratified_and_deterministic() -> None:
    patients = np.arange(200)
    strata = (np.arange(200) < 50).astype(int)
    first = list(patient_folds(patients, strata, 5, 2, random_state=3))
    again = list(patient_folds(patients, strata, 5, 2, random_state=3))
    assert all(np.array_equal(a.test, b.test) for a, b in zip(first, again, strict=True))
    for fold in first:
        assert strata[fold.test].sum() == 10
    assert not np.array_equal(first[0].test, first[5].test)  # repeats reshuffle


class RowSpy(TransformerMixin, BaseEstimator):
    """Writes the patients each fit saw to a new file in ``record_dir`` (files, because the
    fits may run in worker processes)."""

    def __init__(self, record_dir: str = "") -> None:
        self.record_dir = record_dir

    def fit(self, X: pd.DataFrame, y: object = None) -> RowSpy:
        (Path(self.record_dir) / f"{uuid.uuid4().hex}.json").write_text(
            json.dumps(sorted(X.index.tolist())), encoding="utf-8")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_in_


@pytest.mark.parametrize("jobs", [1, 2])
def test_fitted_steps_see_only_training_rows(tmp_path: Path, jobs: int) -> None:
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    config, _ = with_served_horizons(
        TrainConfig(cv=CVConfig(n_splits=3, n_repeats=1, n_jobs=jobs)), labels)
    pipelines = build_pipelines("survival", model_params={"n_estimators": 20},
                                min_gene_frequency=0.02, min_gene_count=5,
                                cox_alphas=(1.0,), logistic_cs=(1.0,), random_state=0)
    spied = {"model": pandas_pipeline([("spy", RowSpy(str(tmp_path))),
                                       *pipelines["model"].steps])}
    evaluation = evaluate(X, labels, spied, config, subgroup_factors(
        cohort.patients, cohort.samples, X.index))
    folds = list(patient_folds(X.index.to_numpy(), labels.y["event"].to_numpy(dtype=int), 3, 1,
                               0))
    seen = sorted(json.loads(path.read_text(encoding="utf-8"))
                  for path in tmp_path.glob("*.json"))
    assert seen == sorted(sorted(X.index[fold.train].tolist()) for fold in folds)
    assert evaluation.summary["model"]["harrell_c"].n == 3


def test_folds_fitted_in_parallel_give_the_same_evaluation_in_order() -> None:
    """Two worker processes or one: the same fold metrics and out-of-fold predictions, and
    ``on_fold`` sees every fold once, in order, with every pipeline's metrics."""
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    pipelines = build_pipelines("survival", model_params={"n_estimators": 20},
                                min_gene_frequency=0.02, min_gene_count=5,
                                cox_alphas=(1.0,), logistic_cs=(1.0,), random_state=0)
    factors = subgroup_factors(cohort.patients, cohort.samples, X.index)
    runs, seen = {}, {}
    for jobs in (1, 2):
        config, _ = with_served_horizons(
            TrainConfig(cv=CVConfig(n_splits=3, n_repeats=2, n_jobs=jobs)), labels)
        seen[jobs] = []
        runs[jobs] = evaluate(X, labels, pipelines, config, factors, on_fold=lambda fold, res,
                              j=jobs: seen[j].append(((fold.repeat, fold.fold), sorted(res))))
    pd.testing.assert_frame_equal(runs[1].fold_metrics, runs[2].fold_metrics, check_exact=True)
    for name in pipelines:
        np.testing.assert_array_equal(runs[1].oof[name], runs[2].oof[name])
    np.testing.assert_array_equal(runs[1].oof_survival, runs[2].oof_survival)
    assert seen[1] == seen[2]
    assert [key for key, _ in seen[2]] == [(r, f) for r in range(2) for f in range(3)]
    assert all(names == sorted([*pipelines, "kaplan_meier"]) for _, names in seen[2])


def test_zero_parallel_fits_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="n_jobs: 0 is not a number of workers"):
        CVConfig(n_jobs=0)


def test_gene_selection_counts_training_rows_only() -> None:
    X = pd.DataFrame({"mut__RARE": [0.0] * 95 + [1.0] * 5, "clin__age": np.arange(100.0)})
    train = X.iloc[:95]  # the 5 mutated patients are all in the test rows
    selected = GeneFrequencyFilter(min_frequency=0.02, min_count=3).fit(train)
    assert list(selected.get_feature_names_out()) == ["clin__age"]
    assert list(GeneFrequencyFilter(0.02, 3).fit(X).get_feature_names_out()) == [
        "mut__RARE", "clin__age"]


def test_informative_missingness_is_flagged() -> None:
    from features.labels import Labels
    from training.evaluation.missingness import informative_missingness

    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 400)
    y = pd.DataFrame({"label": label, "time_months": 1.0, "event": label.astype(bool)})
    X = pd.DataFrame({
        "tracks_outcome": np.where(label == 1, np.nan, 1.0),  # missing exactly when positive
        "random_gaps": np.where(rng.random(400) < 0.3, np.nan, 1.0),
    })
    labels = Labels("t", "binary", "", "diagnosis", y, pd.Series(0.0, index=y.index), ())
    table = informative_missingness(X, labels).set_index("feature")
    assert table.loc["tracks_outcome", "flagged"]
    assert table.loc["tracks_outcome", "concordance"] == 1.0
    assert not table.loc["random_gaps", "flagged"]
