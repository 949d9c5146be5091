"""Model cards: rendered from the run alone, every number traceable, self-contained HTML."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from cli import main
from features.cohorts.cbioportal.dialect_writer import write_study_dialect
from features.cohorts.sources import load_cohort
from features.cohorts.synthetic import build_synthetic_cohort
from features.labels import labels_for_task
from models.loading import load_registered_bundle
from tests.conftest import REPO
from tests.support.card_checks import check_facts, external_resources, unaccounted_numbers
from training.config import load_config
from training.horizons import TASK_HORIZONS, choose_horizons
from training.reporting.card.render import render_markdown, write_card
from training.reporting.card_source import load_card_source
from training.train import train

#: A design column's raw name (``clin__er_fmol_mg``, ``rclass__esr1``) in a card's text.
RAW_NAME = re.compile(r"\b(?:clin|mut|hot|cna|path|rclass|evo)__\w+")
pytestmark = pytest.mark.slow


@pytest.fixture
def gbsg2_version(gbsg2_relapse: str) -> str:
    """A relapse model trained on GBSG2 (once for this module's tests, which only read it)."""
    return gbsg2_relapse


def test_every_number_in_the_gbsg2_card_is_the_runs(gbsg2_version: str) -> None:
    source = load_card_source(gbsg2_version)
    markdown, facts = render_markdown(source)
    assert check_facts(source, facts) > 60
    assert unaccounted_numbers(markdown, facts) == []
    for section in ("## Model details", "## Intended use", "## Training data (Table 1)",
                    "## Outcome", "## Predictors and their handling", "## Model and validation",
                    "## Performance", "## Calibration", "## Subgroups and fairness",
                    "**Fairness statement.**", "## What drives the predictions",
                    "## Limitations and caveats", "## TRIPOD+AI items", "to be filled by the"
                    " study team", "sole basis of a treatment decision"):
        assert section in markdown, section
    assert "SYNTHETIC" not in markdown
    assert RAW_NAME.findall(markdown) == []  # people's names for predictors, everywhere
    low, high = load_registered_bundle(gbsg2_version).bundle.risk_group_cutpoints
    assert (f"out-of-fold risk score, cut at {float(format(low, '.4g')):g}, "
            f"{float(format(high, '.4g')):g}") in markdown  # the groups' cut-offs, stated
    reading = [line for line in markdown.splitlines() if line.startswith("| model minus ")]
    assert reading
    for line in reading:  # each paired difference read by its interval
        low = float(line.split("(")[1].split(" to ")[0])
        high = float(line.split(" to ")[1].split(")")[0])
        expected = ("better" if low > 0 else "worse" if high < 0
                    else "no difference shown")
        assert expected in line.split("|")[3], line
    assert "the risk score is fitted to the first 120 months of follow-up" in markdown
    # GBSG2's follow-up ends before 120 months: the card says the horizon changed nothing
    cohort, _ = load_cohort("gbsg2")
    y = labels_for_task(cohort, "relapse").y
    last = y.loc[y["event"].astype(bool), "time_months"].max()
    assert last < 120
    assert f"this cohort's last event is at {last:.1f} months, so here it censors none" in markdown


def test_the_registry_description_summarises_the_card_and_links_it(
        gbsg2_version: str) -> None:
    name, version = gbsg2_version.split("/")
    registered = MlflowClient().get_model_version(name, version)
    description = registered.description
    metrics = MlflowClient().get_run(registered.run_id).data.metrics
    assert "trained on gbsg2 (real data)" in description
    c = [metrics[f"model.harrell_c.{k}"] for k in ("mean", "ci_low", "ci_high")]
    assert f"Harrell's C: {c[0]:.3f} ({c[1]:.3f} to {c[2]:.3f})" in description
    assert "Calibration: slope " in description
    card = f"runs:/{registered.run_id}/model_card/model_card.md"
    assert description.endswith(f"Model card: {card}")
    assert mlflow.artifacts.download_artifacts(card).endswith("model_card.md")


def test_a_blended_model_s_card_says_so_and_every_number_is_the_runs(
        mlflow_store: str, quick_config: Path) -> None:
    quick_config.write_text(quick_config.read_text()
                            + "\n[model.relapse]\nblend_weight = 0.25\nfit_until_months = 42\n")
    result = train("gbsg2", load_config(quick_config, task="relapse"))
    source = load_card_source(f"{result.model_name}/{result.model_version}")
    markdown, facts = render_markdown(source)
    assert check_facts(source, facts) > 60
    assert unaccounted_numbers(markdown, facts) == []
    assert "blended with a ridge Cox model on the clinical features" in markdown
    assert "weight 0.25 on the Cox model" in markdown
    # the run's own horizon, and GBSG2 has relapses after it: no "censors none" note
    assert ("the risk score is fitted to the first 42 months of follow-up (later events "
            "censored there; the baseline hazard uses the whole follow-up)") in markdown


def test_train_logs_the_card_and_html_is_self_contained(gbsg2_version: str,
                                                        tmp_path: Path) -> None:
    run_id = MlflowClient().get_model_version(*gbsg2_version.split("/")).run_id
    logged = {a.path for a in MlflowClient().list_artifacts(run_id, "model_card")}
    assert logged == {"model_card/model_card.md", "model_card/model_card.html"}
    page = Path(mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="model_card/model_card.html")).read_text()
    external, images = external_resources(page)
    assert external == []
    assert images >= 5


def test_card_cli_writes_both_files(gbsg2_version: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["card", "--model", "mbcrisk-relapse@challenger", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "model_card.md").read_text().startswith(
        "# Model card: mbcrisk-relapse, version 1")
    assert (tmp_path / "model_card.html").stat().st_size > 50_000


def test_synthetic_card_says_synthetic_and_renders(mlflow_store: str, quick_config: Path,
                                                   tmp_path: Path) -> None:
    result = train("synthetic", load_config(quick_config, task="resistance"))
    source = load_card_source(f"{result.model_name}/{result.model_version}")
    md_path, html_path, facts = write_card(source, tmp_path)
    markdown = md_path.read_text()
    assert "**SYNTHETIC DATA.**" in markdown
    check_facts(source, facts)
    assert unaccounted_numbers(markdown, facts) == []
    assert external_resources(html_path.read_text())[0] == []


@pytest.mark.realdata
@pytest.mark.long  # trains on METABRIC (~15 s): `make test-long` (CI)
def test_metabric_proxy_card_states_the_caveat(mlflow_store: str, quick_config: Path,
                                               metabric_dir: Path, tmp_path: Path) -> None:
    result = train(str(metabric_dir), load_config(quick_config, task="resistance"))
    source = load_card_source(f"{result.model_name}/{result.model_version}")
    markdown, facts = render_markdown(source)
    assert "**Caveat: this is a PROXY label**" in markdown
    check_facts(source, facts)
    assert unaccounted_numbers(markdown, facts) == []


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _CountingHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
def test_html_card_opens_in_headless_chromium_with_no_other_request(
        gbsg2_version: str, tmp_path: Path) -> None:
    browser = _chromium()
    assert browser, "chromium is needed for this test (.ci/run installs it)"
    write_card(load_card_source(gbsg2_version), tmp_path)
    _CountingHandler.requests = []
    handler = lambda *a: _CountingHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        shot = tmp_path / "card.png"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1200,4000", f"--screenshot={shot}",
             f"http://127.0.0.1:{server.server_port}/model_card.html"],
            check=True, capture_output=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert _CountingHandler.requests == ["/model_card.html"]
    assert shot.stat().st_size > 100_000
    keep = REPO / "bench-results"
    keep.mkdir(exist_ok=True)
    shutil.copy(shot, keep / "model_card_screenshot.png")


@pytest.mark.long  # trains a progression model (~25 s): `make test-long` (CI)
def test_progression_card_states_its_question_constraints_and_ablation(
        mlflow_store: str, quick_config: Path) -> None:
    quick_config.write_text(quick_config.read_text()
                            + "\n[model.relapse]\nfit_until_months = inf\n")
    result = train("synthetic", load_config(quick_config, task="progression"))
    assert result.model_name == "mbcrisk-progression"
    source = load_card_source(f"{result.model_name}/{result.model_version}")
    markdown, facts = render_markdown(source)
    assert "risk score is fitted to the first" not in markdown  # the whole follow-up
    assert "fit_until_months inf" in markdown
    assert "progression on the current metastatic line" in markdown
    bundle = load_registered_bundle(f"{result.model_name}/{result.model_version}").bundle
    labels = labels_for_task(load_cohort("synthetic")[0], "progression")
    served = choose_horizons("progression", (), labels.y["time_months"].to_numpy()).served
    assert bundle.horizons_months == served
    assert set(served) <= set(TASK_HORIZONS["progression"])
    table = markdown.split("## Calibration", 1)[1].split("\n\n![", 1)[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines()
            if line.startswith("| ") and line[2].isdigit()]
    assert rows == [f"{h:g}" for h in served]  # calibration shown at exactly those horizons
    assert "Time origin: start of the current metastatic line" in markdown
    assert ("Monotone constraints: the boosted model's risk never falls as one of these "
            "established adverse factors worsens") in markdown
    assert "positive lymph nodes (Carter, Allen, Henson 1989" in markdown
    assert ("forms other than linear: positive lymph nodes as log(1 + x) (Sauerbrei and "
            "Royston 1999") in markdown  # the blend's linear part
    assert "age with a quadratic term" in markdown
    forms = markdown.split("forms other than linear: ", 1)[1].split("), weight", 1)[0]
    assert "ER level" not in forms  # the synthetic cohort has no concentrations
    assert "| model minus model_clinical |" in markdown  # the ablation, same folds
    assert "**Do the genomic features earn their place?**" in markdown
    folds = pd.read_csv(mlflow.artifacts.download_artifacts(
        run_id=source.run.info.run_id, artifact_path="cv_fold_metrics.csv"))
    c = folds[folds["metric"] == "harrell_c"].pivot_table(index=["repeat", "fold"],
                                                          columns="model", values="value")
    assert source.metrics["difference.model_minus_model_clinical.harrell_c.mean"] == \
        pytest.approx((c["model"] - c["model_clinical"]).mean())
    check_facts(source, facts)
    assert unaccounted_numbers(markdown, facts) == []


@pytest.mark.parametrize("task", [
    "relapse", pytest.param("resistance", marks=pytest.mark.long)])  # ~9 s each
def test_a_clinical_only_study_trains_and_its_card_says_so(
        mlflow_store: str, quick_config: Path, tmp_path: Path, task: str) -> None:
    folder = write_study_dialect(build_synthetic_cohort(800, 4), tmp_path / "clinical",
                                 "clinical")
    assert sorted(p.name for p in folder.glob("data_*")) == ["data_clinical_patient.txt"]
    result = train(str(folder), load_config(quick_config, task=task))
    assert result.evaluation.summary["model"]
    source = load_card_source(f"{result.model_name}/{result.model_version}")
    assert source.tags["mbcrisk.genomic_data"] == "none"
    markdown, facts = render_markdown(source)
    assert "No genomic data was available" in markdown
    assert unaccounted_numbers(markdown, facts) == []
