"""Training on a Dask LocalCluster (2 worker processes) with xgboost.dask, from a partitioned
Parquet cohort: partition designs equal the whole cohort's design, the distributed model
discriminates on held-out patients within 0.01 of the single-machine models, metrics from
distributed predictions equal the one-machine computation, and ``train --engine dask`` records,
registers and documents its model like a single-machine run."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster
from mlflow import MlflowClient

from cli import main
from features.cohorts.parquet import PARTITION_FILE, load_parquet_cohort, read_partition
from features.cohorts.synthetic.partitioned import write_synthetic_partitions
from features.design import build_design
from features.labels import relapse_labels, survival_target
from features.time_origin import eligible_samples
from models.estimators.aft import AFTRiskModel
from models.estimators.factory import build_pipelines, predict_survival
from models.explanation.explain import check_additivity
from models.loading import load_registered_bundle
from models.scoring import predict
from tests.support.card_checks import check_facts, unaccounted_numbers
from tests.support.design_explanation import explain_design, model_margin
from training.config import load_config
from training.distributed.cohort import DaskCohort, dask_client
from training.distributed.evaluation import evaluate_on_dask, fit_model, partition_folds
from training.distributed.train import pooled_factors, pooled_labels
from training.evaluation.cross_validation import (
    subgroup_factors,
    subgroup_metrics,
    survival_fold_metrics,
)
from training.evaluation.survival_metrics import harrell_c
from training.reporting.card.render import render_markdown
from training.reporting.card_source import load_card_source

pytestmark = pytest.mark.slow

N_PARTITIONS = 5
#: Partition without treatment lines, and partition without genomic samples (so without
#: labelled patients: the relapse task requires a profiled primary sample).
NO_LINES, NO_SAMPLES = 2, 4
#: A gene profiled only by whole-exome sequencing, removed from partition 0's mutations.
REMOVED_GENE = "TTN"


@pytest.fixture(scope="module")
def cohort_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("distributed") / "cohort"
    write_synthetic_partitions(7500, 11, folder, partition_size=1500)
    # partition 0 without any mutation of one exome gene: its own design would have no
    # column for it; the whole cohort's design has 0 (profiled, wild type) for its patients
    path = folder / "mutations" / PARTITION_FILE.format(0)
    mutations = pd.read_parquet(path)
    assert (mutations["gene"] == REMOVED_GENE).any()
    mutations[mutations["gene"] != REMOVED_GENE].to_parquet(path)
    # the whole cohort has lines and samples, so it reads these partitions by its own rules
    tables = [("treatments", NO_LINES), *[(t, NO_SAMPLES) for t in
                                          ("samples", "mutations", "copy_number")]]
    for table, partition in tables:
        path = folder / table / PARTITION_FILE.format(partition)
        pd.read_parquet(path).iloc[0:0].to_parquet(path)
    return folder


@pytest.fixture(scope="module")
def prepared(cohort_folder: Path):
    readers = [partial(read_partition, cohort_folder, k) for k in range(N_PARTITIONS)]
    with dask_client(n_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        yield client, DaskCohort(client, readers)


@pytest.fixture(scope="module")
def whole(cohort_folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole cohort's relapse design and labels, on one machine."""
    cohort, _ = load_parquet_cohort(cohort_folder)
    labels = relapse_labels(cohort)
    return build_design(cohort, labels.time_origin), labels.y


@pytest.fixture(scope="module")
def whole_labels_and_factors(cohort_folder: Path):
    cohort, _ = load_parquet_cohort(cohort_folder)
    labels = relapse_labels(cohort)
    samples = eligible_samples(cohort, labels.eligible_sample_types, labels.origin_months)
    return labels, subgroup_factors(cohort.patients, samples, labels.y.index)


@pytest.mark.long  # a Dask cluster of two workers (~16 s to start): `make test-long` (CI)
def test_partition_labels_and_designs_are_the_whole_cohorts(
        prepared, whole, whole_labels_and_factors) -> None:
    client, cohort = prepared
    X, y = whole
    labels, factors = whole_labels_and_factors
    pooled = pooled_labels(cohort.facts)
    pd.testing.assert_frame_equal(pooled.y, y)  # same patients, order and outcomes
    assert sorted((e.reason, e.count) for e in pooled.exclusions) == sorted(
        (e.reason, e.count) for e in labels.exclusions)
    assert cohort.sizes()[NO_SAMPLES] == 0
    pd.testing.assert_frame_equal(pooled_factors(cohort.facts), factors)
    designs = pd.concat(client.compute(cohort.designs, sync=True))
    assert set(cohort.columns) == set(X.columns)
    features = designs[cohort.columns]
    pd.testing.assert_frame_equal(features, X.loc[features.index, cohort.columns])
    # the removed gene: wild type (0) for partition 0's profiled patients, not unknown
    first = client.compute(cohort.designs[0]).result()
    assert (first[f"mut__{REMOVED_GENE}"] == 0).sum() > 100
    # no lines in a partition of a cohort with lines: no adjuvant line, not the patient flags
    no_lines = client.compute(cohort.designs[NO_LINES]).result()
    assert (no_lines["clin__adjuvant_endocrine"] == 0).all()


@pytest.mark.long  # on the module's Dask cluster: `make test-long` (CI)
def test_distributed_model_matches_the_single_machine_models(prepared, whole) -> None:
    client, cohort = prepared
    X, y = whole
    config = load_config(None)
    fit = fit_model(cohort, [0, 1, 2], config)
    risk = cohort.predict_risk(fit, [3])
    held_out = cohort.facts[3].labels.y
    train_ids = pd.concat([f.labels.y for f in cohort.facts[:3]]).index
    time, event = held_out["time_months"].to_numpy(), held_out["event"].to_numpy(dtype=bool)
    target = survival_target(y.loc[train_ids, "time_months"].to_numpy(),
                             y.loc[train_ids, "event"].to_numpy())
    # one machine, same model class, same training patients (whole-cohort design)
    aft = build_pipelines("survival", model_params={}, min_gene_frequency=0.02,
                          min_gene_count=5, cox_alphas=(1.0,), logistic_cs=(1.0,),
                          random_state=0)["model"]
    aft.steps[-1] = ("model", AFTRiskModel(random_state=0))
    aft.fit(X.loc[train_ids], target)
    # one machine, the single-machine engine's model (boosted Cox)
    cox = build_pipelines("survival", model_params={}, min_gene_frequency=0.02,
                          min_gene_count=5, cox_alphas=(1.0,), logistic_cs=(1.0,),
                          random_state=0)["model"].fit(X.loc[train_ids], target)
    assert fit.model_features == list(aft[0].get_feature_names_out())  # filter fitted once
    c_dask = harrell_c(time, event, risk)
    c_aft = harrell_c(time, event, aft.predict(X.loc[held_out.index]))
    c_cox = harrell_c(time, event, cox.predict(X.loc[held_out.index]))
    print(f"\nheld-out Harrell's C: distributed AFT {c_dask:.4f}, one-machine AFT {c_aft:.4f}, "
          f"one-machine Cox {c_cox:.4f}")
    assert c_dask > 0.55
    assert abs(c_dask - c_aft) <= 0.01
    assert abs(c_dask - c_cox) <= 0.01


@pytest.mark.long  # on the module's Dask cluster: `make test-long` (CI)
def test_metrics_from_distributed_predictions_equal_one_machine(
        prepared, whole, whole_labels_and_factors) -> None:
    client, cohort = prepared
    X, _ = whole
    config = load_config(None)
    labels = pooled_labels(cohort.facts)
    evaluation = evaluate_on_dask(cohort, labels, config, pooled_factors(cohort.facts))
    folds = partition_folds(cohort.sizes(), config.cv.n_splits)
    assert len(folds) == N_PARTITIONS - 1  # the partition without labelled patients sits out
    fold = folds[1].fold
    assert (folds[1].train, folds[1].test) == ([0, 2, 3], [1])
    fit = fit_model(cohort, folds[1].train, config)
    X_test = X.loc[labels.y.index[fold.test]]
    risk = fit.pipeline.predict(X_test)  # the same model, scored on one machine
    np.testing.assert_allclose(evaluation.oof["model"][0, fold.test], risk, atol=1e-5)
    local = survival_fold_metrics(
        labels.y, fold, risk, partial(predict_survival, fit.pipeline, X_test),
        tuple(config.evaluation.horizons_months), evaluation.tau_months)
    logged = evaluation.fold_metrics.query("fold == 1 and model == 'model'")
    distributed = dict(zip(logged["metric"], logged["value"], strict=True))
    assert set(distributed) == set(local)
    for name, value in local.items():
        assert distributed[name] == pytest.approx(value, abs=1e-6), name
    assert {"model", "aft_clinical", "kaplan_meier"} == set(evaluation.summary)
    # subgroups from the pooled out-of-fold scores, with the factors of the whole cohort
    _, factors = whole_labels_and_factors
    expected = subgroup_metrics(labels, evaluation.oof, factors,
                                config.evaluation.min_subgroup_size)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(evaluation.subgroups, expected)


def test_partition_folds_group_whole_partitions() -> None:
    folds = partition_folds([3, 2, 4, 1, 5], 3)
    # partitions of 3, 2, 4, 1 and 5 rows: fold k tests partitions k and k + 3
    assert [f.fold.test.tolist() for f in folds] == [[0, 1, 2, 9], [3, 4, 10, 11, 12, 13, 14],
                                                     [5, 6, 7, 8]]
    assert [(f.train, f.test) for f in folds] == [([1, 2, 4], [0, 3]), ([0, 2, 3], [1, 4]),
                                                  ([0, 1, 3, 4], [2])]
    for fold in (f.fold for f in folds):
        assert set(fold.train).isdisjoint(fold.test)
        assert sorted([*fold.train, *fold.test]) == list(range(15))
    assert sorted(np.concatenate([f.fold.test for f in folds]).tolist()) == list(range(15))
    assert len(partition_folds([5, 5], 5)) == 2
    empty_between = partition_folds([3, 0, 2], 5)  # the empty partition takes no part
    assert [(f.train, f.test, f.fold.test.tolist()) for f in empty_between] == [
        ([2], [0], [0, 1, 2]), ([0], [2], [3, 4])]
    with pytest.raises(ValueError, match="at least 2 partitions"):
        partition_folds([10, 0], 5)


@pytest.mark.long  # trains, registers and documents end to end on Dask: `make test-long`
def test_train_on_dask_records_registers_and_documents(
        cohort_folder: Path, mlflow_store: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "dask.toml"
    config.write_text("[cv]\nn_splits = 2\n\n[model.relapse_aft]\nn_estimators = 50\n")
    assert main(["train", "--cohort", str(cohort_folder), "--engine", "dask",
                 "--config", str(config), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["model_name"], result["model_version"]) == ("mbcrisk-relapse", "1")
    assert {"model", "aft_clinical", "kaplan_meier"} == set(result["metrics"])
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    assert run.data.tags["mbcrisk.engine"] == "dask"
    assert run.data.params["cv.n_splits"] == "2"
    assert run.data.params["cv.n_repeats"] == "1"
    assert run.data.params["model.effective.n_estimators"] == "50"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"cohort_summary.json", "labels.json", "load_report.json", "cv_fold_metrics.csv",
            "missingness_check.csv", "plots", "explanations", "model_card"} <= artifacts
    folds = client.search_runs([run.info.experiment_id],
                               f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert len(folds) == 2
    version = client.get_model_version_by_alias("mbcrisk-relapse", "challenger")
    assert str(version.version) == "1"
    # the registered bundle serves: loaded by hash, it predicts from a plain design
    bundle = load_registered_bundle("mbcrisk-relapse@challenger").bundle
    assert isinstance(bundle.pipeline[-1], AFTRiskModel)
    assert bundle.cohort["n_patients"] == result["n_patients"]
    partition = read_partition(cohort_folder, 2)
    design = build_design(partition, relapse_labels(partition).time_origin)
    predicted = predict(bundle, design.head(20))
    assert predicted["risk_score"].notna().all()
    surv = predicted[[f"relapse_free_{h:g}m" for h in bundle.horizons_months]].to_numpy()
    assert (np.diff(surv, axis=1) <= 1e-12).all()  # survival falls with time
    assert "minus the predicted log relapse-free time" in bundle.score_meaning
    explanation = explain_design(bundle, design.head(20))
    check_additivity(explanation, model_margin(explanation))
    assert explanation.scale == "minus log relapse-free time"
    # the card: every number a fact of the run, the Dask plan stated
    source = load_card_source("mbcrisk-relapse/1")
    markdown, facts = render_markdown(source)
    check_facts(source, facts)
    assert unaccounted_numbers(markdown, facts) == []
    assert "`survival:aft`" in markdown
    assert "Parquet partitions" in markdown
    assert "| aft_clinical |" in markdown


@pytest.mark.long  # starts its own Dask cluster (~15 s): `make test-long` (CI)
def test_an_existing_scheduler_is_used(cohort_folder: Path, mlflow_store: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(mlflow_store.removeprefix("sqlite:///")).with_name("quick.toml")
    config.write_text("[cv]\nn_splits = 2\n\n[model.relapse_aft]\nn_estimators = 20\n")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        assert main(["evaluate", "--cohort", str(cohort_folder), "--engine", "dask",
                     "--scheduler", cluster.scheduler_address, "--config", str(config),
                     "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        run = MlflowClient().get_run(result["run_id"])
        assert run.data.tags["mbcrisk.dask_scheduler"] == cluster.scheduler_address
        assert run.data.tags["mbcrisk.dask_workers"] == "1"
        assert result["model_version"] is None  # evaluate registers nothing
        # the cluster is the caller's: still up after the run
        assert cluster.scheduler_info["workers"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--cohort", "synthetic"], "partitioned Parquet cohort"),
    (["--task", "resistance"], "relapse model"),
    (["--scheduler", "tcp://127.0.0.1:1", "--engine", "local"], "--scheduler needs"),
])
def test_dask_engine_refuses_what_it_cannot_train(
        cohort_folder: Path, mlflow_store: str, extra: list[str], message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "--cohort", str(cohort_folder), "--engine", "dask", *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err
