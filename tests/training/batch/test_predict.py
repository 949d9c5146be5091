"""``mbcrisk predict``: whole cohorts scored to a file with the shift report, partition by
partition locally or on Dask, and bad input refused with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from cli import main
from features.actionability.cohort import patient_findings
from features.cohorts import load_cbioportal_study
from features.cohorts.cbioportal.dialect_writer import write_study_dialect
from features.cohorts.parquet import read_partition
from features.cohorts.sources import load_cohort
from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import labels_for_task, task_population
from models.explanation.explain import top_groups
from models.loading import load_registered_bundle
from models.scoring import predict
from tests.support.design_explanation import explain_design

pytestmark = pytest.mark.slow
MODEL = "mbcrisk-relapse@challenger"


def _predict(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["predict", "--model", MODEL, *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def gbsg2_model(gbsg2_relapse: str) -> None:
    """A relapse model trained on GBSG2, registered as the challenger (once for this
    module's tests: scoring only reads it)."""


def test_a_gbsg2_model_scores_gbsg2_as_the_design_path_does(
        gbsg2_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gbsg2.csv"
    summary = _predict(capsys, "--cohort", "gbsg2", "--out", str(out), "--explain", "--top",
                       "3")
    table = pd.read_csv(out)
    assert list(table.columns) == summary["output"]["columns"]
    assert len(table) == summary["counts"]["scored"] == 686
    bundle = load_registered_bundle(MODEL).bundle
    cohort, _ = load_cohort("gbsg2")
    X = build_design(cohort, labels_for_task(cohort, "relapse").time_origin)
    expected = predict(bundle, X)
    assert table["patient_id"].tolist() == X.index.tolist()
    # explained, the risk score is the sum of the exact contributions: the booster's own
    # float32 margin (models.scoring.predict) to within 1e-6, the response contract
    np.testing.assert_allclose(table["risk_score"], expected["risk_score"], atol=1e-6)
    np.testing.assert_allclose(table["relapse_free_60m"], expected["relapse_free_60m"],
                               atol=1e-6)
    assert (table["risk_score_meaning"] == bundle.score_meaning).all()
    explanation = explain_design(bundle, X)  # the design path, not the scorer's
    for row in (0, 17, 685):
        drivers = top_groups(explanation, row, 3)
        for rank, driver in enumerate(drivers, start=1):
            assert table.loc[row, f"driver_{rank}_group"] == driver["group"]
            assert table.loc[row, f"driver_{rank}_value"] == driver["value_shown"]
            assert table.loc[row, f"driver_{rank}_contribution"] == pytest.approx(
                driver["contribution"], abs=1e-6)
            assert table.loc[row, f"driver_{rank}_sentence"] == driver["sentence"]
    assert (table["in_domain"] == (table["out_of_domain_reasons"].fillna("") == "")).all()
    # its own training patients: no shift at all
    shift = summary["shift"]["features"]
    assert len(shift) == len(bundle.model_features)
    assert all(abs(f["standardised_difference"]) < 1e-9 for f in shift)
    assert all(f["missingness_change"] == 0 for f in shift)
    assert (tmp_path / "gbsg2.csv.summary.json").read_text() == json.dumps(summary, indent=2) \
        + "\n"


@pytest.mark.realdata
def test_a_gbsg2_model_scores_metabric_and_reports_the_shift(
        gbsg2_model: None, metabric_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    summary = _predict(capsys, "--cohort", "gbsg2", "--out", str(tmp_path / "gbsg2.csv"))
    bundle = load_registered_bundle(MODEL).bundle
    metabric = _predict(capsys, "--cohort", str(metabric_dir), "--out",
                        str(tmp_path / "metabric.parquet"))
    scored = pd.read_parquet(tmp_path / "metabric.parquet")
    # METABRIC patients without what the GBSG2 model learned its stage from (tumour size and
    # nodes, or the T and N categories derived from them) or without ER are not scored
    met_cohort, _ = load_cbioportal_study(metabric_dir)
    population = task_population(met_cohort, "relapse", bundle.origin,
                                 bundle.origin_sample_types)
    known = build_design(met_cohort, population.origin).notna()
    enough = known["clin__er_positive"] & (
        (known["clin__tumor_size_mm"] & known["clin__positive_nodes"])
        | (known["clin__t_category"] & known["clin__n_category"]))
    assert not {"clin__her2_positive", "clin__stage"} & bundle.learned_features  # not in GBSG2
    assert len(scored) == metabric["counts"]["scored"] == int(enough.sum())
    reasons = {e["reason"]: e["count"] for e in metabric["exclusions"]}
    assert reasons.pop("metastatic at diagnosis: no relapse-free interval") == 11
    assert all(r.startswith("insufficient data: ") for r in reasons)
    assert sum(reasons.values()) == int((~enough).sum()) > 0
    assert "driver_1_group" not in scored.columns  # no --explain
    assert metabric["out_of_domain"]["share"] > 2 * summary["out_of_domain"]["share"]
    assert metabric["out_of_domain"]["share"] == pytest.approx(1 - scored["in_domain"].mean(),
                                                               abs=1e-4)
    by_feature = {f["feature"]: f for f in metabric["shift"]["features"]}
    assert by_feature["clin__er_fmol_mg"]["missingness_change"] == 1.0  # not in METABRIC
    strengths = [max(abs(f["standardised_difference"] or 0), abs(f["missingness_change"]))
                 for f in metabric["shift"]["features"]]
    assert strengths == sorted(strengths, reverse=True)
    assert metabric["shift"]["features_above_notable"] >= 3


@pytest.mark.long  # starts a Dask cluster (~11 s): `make test-long` (CI)
def test_partitions_scored_locally_and_on_dask_agree_and_log_to_mlflow(
        gbsg2_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "parts"
    assert main(["synth", "--n", "1500", "--format", "parquet", "--partition-size", "500",
                 "--out", str(cohort)]) == 0
    capsys.readouterr()
    local = _predict(capsys, "--cohort", str(cohort), "--out", str(tmp_path / "local.parquet"),
                     "--explain", "--log")
    dask = _predict(capsys, "--cohort", str(cohort), "--out", str(tmp_path / "dask.parquet"),
                    "--explain", "--engine", "dask")
    a = pd.read_parquet(tmp_path / "local.parquet")
    b = pd.read_parquet(tmp_path / "dask.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == local["counts"]["scored"]
    assert local["counts"]["scored"] + local["counts"]["excluded"] == 1500
    assert a["patient_id"].is_unique
    for key in ("counts", "exclusions", "out_of_domain", "shift", "actionability"):
        assert local[key] == dask[key]
    # each patient's ESCAT findings from every sample, as the cohort view finds them
    expected = pd.concat([patient_findings(read_partition(str(cohort), k)) for k in range(3)])
    found = a.set_index("patient_id")[list(expected.columns)]
    pd.testing.assert_frame_equal(found, expected.loc[found.index], check_names=False)
    actionable = int(((a["escat_tier_i"] + a["escat_tier_ii"]) > 0).sum())
    assert local["counts"]["with_escat_tier_i_or_ii"] == actionable > 0
    assert local["actionability"]["scored_with_tier_i_or_ii"] == actionable
    runs = MlflowClient().search_runs(
        [MlflowClient().get_experiment_by_name("mbcrisk-predict").experiment_id])
    assert len(runs) == 1
    assert runs[0].data.metrics["scored"] == local["counts"]["scored"]


def test_bad_input_exits_2_and_leaves_nothing_behind(
        gbsg2_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def refused(*args: str, message: str) -> None:
        assert main(["predict", *args]) == 2
        assert message in capsys.readouterr().err

    tmp_path = tmp_path / "outputs"  # the store lives in the working directory
    tmp_path.mkdir()
    out = str(tmp_path / "out.csv")
    refused("--model", "mbcrisk-nonexistent", "--cohort", "gbsg2", "--out", out,
            message="no registered model mbcrisk-nonexistent")
    refused("--model", "mbcrisk-relapse/9", "--cohort", "gbsg2", "--out", out,
            message="with version 9")
    refused("--model", MODEL, "--cohort", "gbsg2", "--out", str(tmp_path / "out.xlsx"),
            message="must end in .parquet or .csv")
    refused("--model", MODEL, "--cohort", "gbsg2", "--out", str(tmp_path / "no" / "out.csv"),
            message="cannot be written")
    (tmp_path / "folder.csv").mkdir()
    refused("--model", MODEL, "--cohort", "gbsg2", "--out", str(tmp_path / "folder.csv"),
            message="is a folder")
    refused("--model", MODEL, "--cohort", str(tmp_path / "absent"), "--out", out,
            message="not found")
    refused("--model", MODEL, "--cohort", "gbsg2", "--out", out, "--top", "3",
            message="--top goes with --explain")
    # a partition that breaks after the first was written: no table, no summary, no partial
    cohort = tmp_path / "parts"
    assert main(["synth", "--n", "1000", "--format", "parquet", "--partition-size", "500",
                 "--out", str(cohort)]) == 0
    capsys.readouterr()
    shutil.copy(cohort / "cohort.json", cohort / "patients" / "part-00001.parquet")
    refused("--model", MODEL, "--cohort", str(cohort), "--out", out,
            message="part-00001.parquet")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["folder.csv", "parts"]  # nothing written, nothing half-written


def test_a_cohort_without_the_models_main_inputs_is_refused_not_scored_alike(
        gbsg2_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = write_study_dialect(build_synthetic_cohort(200, 3), tmp_path / "s", "cbioportal")
    path = study / "data_clinical_patient.txt"
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    table = table.drop(columns=["TUMOR_STAGE", "TUMOR_SIZE", "LYMPH_NODES_EXAMINED_POSITIVE"])
    table.to_csv(path, sep="\t", index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", "--model", MODEL, "--cohort", str(study), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "minimum data of the relapse model" in error
    assert "tumor_size_mm and positive_lymph_nodes" in error
    assert not out.exists()
