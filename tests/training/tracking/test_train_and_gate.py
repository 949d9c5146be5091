"""Training against a real MLflow SQLite store: logging, registration, the gate, reproducibility."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from scipy import stats

from cli import main
from models.bundles.run_artifacts import read_run_artifact
from models.domain.unprofiled import averaged_input
from models.explanation.wording import feature_name
from models.loading import load_registered_bundle
from models.scoring import BundleScorer, predict
from tests.support.leftovers import model_copies_in
from tests.support.unprofiled_rule import rule_by_hand
from training.config import load_config
from training.reporting.explain_plots import UNPROFILED_ENTRY, waterfall_values
from training.tracking.registry import CHALLENGER, CHAMPION, alias_version, promote
from training.train import train

pytestmark = pytest.mark.slow


def _train_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["train", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_logs_runs_metrics_artifacts_and_registers(
        mlflow_store: str, quick_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _train_json(capsys, "--cohort", "gbsg2", "--task", "relapse", "--config",
                         str(quick_config))
    assert result["model_name"] == "mbcrisk-relapse"
    assert result["model_version"] == "1"
    assert (result["n_patients"], result["n_events"]) == (686, 299)
    assert {"model", "cox_clinical", "cox_all", "kaplan_meier"} <= set(result["metrics"])
    c = result["metrics"]["model"]["harrell_c"]
    assert c["ci_low"] < c["mean"] < c["ci_high"]
    client = MlflowClient()
    run = client.get_run(result["run_id"])
    # the model minus each baseline on the primary metric, paired by fold: recomputed here
    # from the logged per-fold metrics (3 folds x 2 repeats), with the corrected resampled-t
    # interval of the paired differences (an unpaired interval would differ)
    assert result["primary_metric"] == "harrell_c"
    assert set(result["differences"]) == set(result["metrics"]) - {"model", "kaplan_meier"}
    folds = pd.read_csv(io.StringIO(read_run_artifact(result["run_id"], "cv_fold_metrics.csv")))
    c_index = folds[folds["metric"] == "harrell_c"].set_index(["repeat", "fold"])
    ours = c_index.loc[c_index["model"] == "model", "value"]
    for other, difference in result["differences"].items():
        theirs = c_index.loc[c_index["model"] == other, "value"]
        paired = (ours - theirs).to_numpy()  # aligned on (repeat, fold)
        assert len(paired) == 6
        assert not np.isnan(paired).any()
        half = stats.t.ppf(0.975, 5) * np.sqrt((1 / 6 + 0.5) * paired.var(ddof=1))
        assert difference["mean"] == pytest.approx(paired.mean(), abs=1e-12)
        assert difference["ci_low"] == pytest.approx(paired.mean() - half, abs=1e-12)
        assert difference["ci_high"] == pytest.approx(paired.mean() + half, abs=1e-12)
        assert difference["mean"] == pytest.approx(
            run.data.metrics[f"difference.model_minus_{other}.harrell_c.mean"])
    assert run.data.params["cv.n_splits"] == "3"
    assert run.data.tags["mbcrisk.synthetic"] == "false"
    assert run.data.metrics["model.harrell_c.mean"] == pytest.approx(c["mean"])
    children = client.search_runs([run.info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{result['run_id']}'")
    assert len(children) == 6
    artifacts = {a.path for a in client.list_artifacts(result["run_id"])}
    assert {"cohort_summary.json", "load_report.json", "labels.json", "cv_fold_metrics.csv",
            "subgroup_metrics.csv", "missingness_check.csv", "plots"} <= artifacts
    plots = {a.path for a in client.list_artifacts(result["run_id"], "plots")}
    assert {"plots/km_by_risk_group.png", "plots/calibration_at_horizons.png",
            "plots/td_auc.png"} <= plots
    assert run.inputs.dataset_inputs[0].dataset.name == "gbsg2"
    assert alias_version("mbcrisk-relapse", CHALLENGER) == "1"
    model = mlflow.pyfunc.load_model("models:/mbcrisk-relapse@challenger")
    example = model.input_example
    predictions = model.predict(example)
    assert list(predictions.columns[:2]) == ["risk_score", "relapse_free_12m"]


def test_resistance_proxy_on_gbsg2_registers_under_its_name(
        mlflow_store: str, quick_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _train_json(capsys, "--cohort", "gbsg2", "--task", "resistance", "--config",
                         str(quick_config))
    assert result["model_name"] == "mbcrisk-resistance-endocrine"
    assert {"model", "logistic_clinical", "logistic_all"} <= set(result["metrics"])
    labels = json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=result["run_id"], artifact_path="labels.json")).read_text())
    assert labels["proxy"] is True
    assert "PROXY" in labels["definition"]


@pytest.mark.long  # trains the same run twice (~15 s): `make test-long` (CI)
def test_same_config_same_metrics_and_model_file(mlflow_store: str, quick_config: Path) -> None:
    config = load_config(quick_config, task="relapse")
    first = train("gbsg2", config)
    second = train("gbsg2", config)
    assert first.bundle_sha256 == second.bundle_sha256
    a, b = first.evaluation.fold_metrics, second.evaluation.fold_metrics
    assert a.equals(b)


def test_gate_promotes_first_refuses_worse_and_other_evaluations(
        mlflow_store: str, quick_config: Path, tmp_path: Path, python_tempdir: Path) -> None:
    name = "mbcrisk-relapse"
    config = load_config(quick_config, task="relapse")
    train("gbsg2", config)
    first = promote(name, margin=0.01, min_subgroup_size=50)
    assert first.promote
    assert alias_version(name, CHAMPION) == "1"
    weak = tmp_path / "weak.toml"
    weak.write_text(quick_config.read_text() + "\n[model.relapse]\nn_estimators = 1\n"
                    "max_depth = 1\ncolsample_bytree = 0.1\n")
    train("gbsg2", load_config(weak, task="relapse"))
    refused = promote(name, margin=0.0, min_subgroup_size=50)
    assert not refused.promote
    assert any("harrell_c" in reason for reason in refused.reasons)
    assert alias_version(name, CHAMPION) == "1"
    assert alias_version(name, CHALLENGER) == "2"
    other = tmp_path / "other.toml"
    other.write_text("[cv]\nn_splits = 3\nn_repeats = 1\n")
    train("gbsg2", load_config(other, task="relapse"))
    different = promote(name, margin=0.5, min_subgroup_size=50)
    assert not different.promote
    assert any("not the same evaluation" in reason for reason in different.reasons)
    train("gbsg2", config)
    equal = promote(name, margin=0.01, min_subgroup_size=50)
    assert equal.promote
    assert alias_version(name, CHAMPION) == "4"
    assert any(c["scope"] != "overall" for c in equal.comparisons)
    assert not model_copies_in(python_tempdir), "the gate left downloaded artifacts behind"


def test_promote_cli_prints_why(mlflow_store: str, quick_config: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    train("gbsg2", load_config(quick_config, task="relapse"))
    assert main(["promote", "mbcrisk-relapse"]) == 3  # GBSG2 gives receptor levels in fmol/mg
    out = capsys.readouterr().out
    assert "cannot supply: " in out
    assert "level (fmol/mg)" in out
    assert main(["promote", "mbcrisk-relapse", "--accept-unservable", "--reason",
                 "compared offline, not served"]) == 0
    out = capsys.readouterr().out
    assert "PROMOTED" in out
    assert "no champion yet" in out
    assert main(["promote", "mbcrisk-relapse"]) == 3  # nothing promoted: scripts can tell
    assert "already the champion" in capsys.readouterr().out
    assert main(["promote", "mbcrisk-nonexistent"]) == 2
    assert "no registered model named 'mbcrisk-nonexistent'" in capsys.readouterr().err
    assert main(["promote", "mbcrisk-resistance-endocrine"]) == 2  # not trained here


def test_unreachable_tracking_store_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, quick_config: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    uri = f"sqlite:///{tmp_path}/a_file/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert main(["train", "--cohort", "gbsg2", "--config", str(quick_config)]) == 2
    assert f"tracking store {uri} cannot be used" in capsys.readouterr().err


@pytest.mark.long  # trains, then runs the CLI three times (~21 s): `make test-long` (CI)
def test_explain_cli_cohort_and_patient(mlflow_store: str, quick_config: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from features.cohorts.sources import load_cohort
    from features.design import build_design
    from features.labels import resistance_labels

    train("synthetic", load_config(quick_config, task="resistance"))
    out = tmp_path / "expl"
    assert main(["explain", "--model", "mbcrisk-resistance-endocrine@challenger", "--cohort",
                 "synthetic", "--out", str(out), "--json"]) == 0
    cohort_view = json.loads(capsys.readouterr().out)
    assert cohort_view["additivity_gap"] <= 1e-5
    assert {"ESR1", "TMB"} <= set(cohort_view["importance_groups"])
    assert {"beeswarm.png", "importance_groups.csv", "importance_features.csv"} <= {
        p.name for p in out.iterdir()}
    cohort, _ = load_cohort("synthetic")
    patient = build_design(cohort, resistance_labels(cohort).time_origin).index[0]
    assert main(["explain", "--model", "mbcrisk-resistance-endocrine", "--cohort", "synthetic",
                 "--patient", patient, "--out", str(out), "--json"]) == 2  # no champion yet
    assert "no registered model mbcrisk-resistance-endocrine with alias 'champion'" in (
        capsys.readouterr().err)
    assert main(["explain", "--model", "mbcrisk-resistance-endocrine/1", "--cohort",
                 "synthetic", "--patient", patient, "--out", str(out), "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["groups"][0]["sentence"].endswith("the predicted risk")
    assert (out / f"waterfall_{patient}.png").is_file()
    # a patient whose panel left model genes unknown gets the API's answer: the rule's
    # average over the reference patients, reported apart, never a driver
    bundle = load_registered_bundle("mbcrisk-resistance-endocrine/1").bundle
    X = build_design(cohort, resistance_labels(cohort).time_origin)
    scorer = BundleScorer.of(bundle)
    rows = bundle.input_frame(X).to_numpy(dtype=float)
    averaged = [k for k, f in enumerate(scorer.features) if averaged_input(f)]
    unknown = np.isnan(rows[:, scorer.selected][:, averaged]).any(axis=1)
    assert unknown.any()
    row = int(np.flatnonzero(unknown)[0])
    assert main(["explain", "--model", "mbcrisk-resistance-endocrine/1", "--cohort",
                 "synthetic", "--patient", X.index[row], "--out", str(out), "--json"]) == 0
    unprofiled = json.loads(capsys.readouterr().out)
    margin, contributions = rule_by_hand(bundle, rows[row])
    assert unprofiled["margin"] == pytest.approx(margin, abs=1e-6)
    assert unprofiled["unprofiled"]["inputs"] > 0
    assert unprofiled["prediction"]["risk_score"] == pytest.approx(
        predict(bundle, X.iloc[[row]])["risk_score"].iloc[0], abs=1e-6)  # float32 margins
    assert unprofiled["base_value"] == pytest.approx(contributions[-1], abs=1e-6)
    own = {scorer.features[k] for k in range(len(scorer.features))
           if not (k in averaged and np.isnan(rows[row, scorer.selected][k]))}
    assert {d["feature"] for d in unprofiled["features"]} <= own
    waterfall = waterfall_values(scorer.score(rows[[row]]).explanation(), 0)
    entries = [n for n in waterfall.feature_names if n.startswith(UNPROFILED_ENTRY)]
    assert entries == [f"{UNPROFILED_ENTRY} ({unprofiled['unprofiled']['inputs']})"]
    assert set(waterfall.feature_names) - set(entries) <= {feature_name(f) for f in own}
    assert waterfall.base_values + waterfall.values.sum() == pytest.approx(margin, abs=1e-6)
    client = MlflowClient()
    run_id = client.get_model_version("mbcrisk-resistance-endocrine", "1").run_id
    logged = {a.path for a in client.list_artifacts(run_id, "explanations")}
    assert "explanations/waterfall_highest_risk.png" in logged


def test_evaluate_off_a_terminal_prints_progress_lines_and_whole_names(
        mlflow_store: str, quick_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--cohort", "gbsg2", "--config", str(quick_config)]) == 0
    captured = capsys.readouterr()
    steps = re.findall(r"relapse folds: (\d+)/(\d+) \(\d+ s\)", captured.err)
    assert steps
    assert steps[-1][0] == steps[-1][1]  # every fold reported, as plain lines
    for name in ("cox_clinical", "kaplan_meier", "harrell_c", "mean_td_auc", "cal_slope_60"):
        assert name in captured.out  # never cut, whatever the width
