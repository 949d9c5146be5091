"""Faults: a training killed mid-run, corrupted or swapped model artifacts, a tracking store
that is locked or unreachable, and a server restart under the audit log."""

from __future__ import annotations

import hashlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient

from serving.audit import AuditLog
from serving.settings import Settings
from tests.serving.conftest import EXAMPLE, auth, free_port, running_server

pytestmark = pytest.mark.slow

MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))


def _mbcrisk(served: dict, *args: str, env: dict | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([MBCRISK, *args], env={**served["env"], **(env or {})},
                          cwd=served["root"], capture_output=True, text=True, timeout=timeout,
                          check=False)


def _champion_version(name: str) -> str:
    return MlflowClient().get_model_version_by_alias(name, "champion").version


@pytest.mark.long  # a training killed in a subprocess (~18 s each): test-long (CI)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_training_leaves_the_champion_untouched(served: dict, how: signal.Signals,
                                                       ) -> None:
    client = MlflowClient()
    name = "mbcrisk-relapse"
    champion = _champion_version(name)
    versions = {v.version for v in client.search_model_versions(f"name = '{name}'")}
    experiment = client.get_experiment_by_name("mbcrisk-relapse")
    before = {r.info.run_id for r in client.search_runs([experiment.experiment_id])}
    # many folds, so the run is surely still going when the signal comes (a quick run could
    # finish between its first fold and the signal)
    long_run = served["root"] / f"long-{how.name}.toml"
    long_run.write_text("[cv]\nn_splits = 5\nn_repeats = 20\n")
    process = subprocess.Popen([MBCRISK, "train", "--cohort", "synthetic", "--config",
                                str(long_run)], env=served["env"], cwd=served["root"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # kill it once it has logged a fold run under a new parent run
            runs = [r for r in client.search_runs([experiment.experiment_id])
                    if r.info.run_id not in before]
            if any("mlflow.parentRunId" in r.data.tags for r in runs):
                break
            assert process.poll() is None, "training ended before it could be killed"
            assert time.monotonic() < deadline, "training never logged a fold"
            time.sleep(0.2)
        process.send_signal(how)
        process.wait(timeout=300)  # generous: a busy machine slows the run's cleanup
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()  # reaped here, not by a later test's garbage collection
    parents = [r for r in client.search_runs([experiment.experiment_id])
               if r.info.run_id not in before and "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    expected = "RUNNING" if how == signal.SIGKILL else "FAILED"  # unfinished, or marked failed
    assert parents[0].info.status == expected
    assert _champion_version(name) == champion
    assert {v.version for v in client.search_model_versions(f"name = '{name}'")} == versions


@contextmanager
def _registered_bundle_replaced(served: dict, name: str, data: bytes) -> Iterator[Path]:
    """The champion's bundle file in the MLflow artifact store, holding ``data`` for a while."""
    version = MlflowClient().get_model_version_by_alias(name, "champion")
    expected = version.tags["mbcrisk.bundle_sha256"]
    matches = [p for p in served["root"].glob("mlruns/**/bundle.pkl")
               if hashlib.sha256(p.read_bytes()).hexdigest() == expected]
    assert matches, "the champion's bundle file was not found in the artifact store"
    originals = {p: p.read_bytes() for p in matches}
    try:
        for path in matches:
            path.write_bytes(data)
        yield matches[0]
    finally:
        for path, original in originals.items():
            path.write_bytes(original)


def _bundle_of(served: dict, name: str) -> bytes:
    expected = MlflowClient().get_model_version_by_alias(name, "champion").tags[
        "mbcrisk.bundle_sha256"]
    return next(p.read_bytes() for p in served["root"].glob("mlruns/**/bundle.pkl")
                if hashlib.sha256(p.read_bytes()).hexdigest() == expected)


@pytest.mark.parametrize("fault", [
    "corrupted",  # the other two faults start the CLI too (~6 s each): `make test-long` (CI)
    pytest.param("truncated", marks=pytest.mark.long),
    pytest.param("swapped", marks=pytest.mark.long)])
def test_serve_refuses_a_corrupted_or_swapped_model(served: dict, fault: str) -> None:
    original = _bundle_of(served, "mbcrisk-relapse")
    data = {"corrupted": original[:100] + b"\x00" + original[101:],
            "truncated": original[: len(original) // 2],
            "swapped": _bundle_of(served, "mbcrisk-resistance-endocrine")}[fault]
    with _registered_bundle_replaced(served, "mbcrisk-relapse", data):
        result = _mbcrisk(served, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "differs from the" in result.stderr
    assert "recorded at registration" in result.stderr


@pytest.mark.long  # the CLI in a subprocess waiting on the lock (~11 s): test-long (CI)
def test_a_locked_tracking_store_gives_a_clear_error(served: dict, tmp_path: Path) -> None:
    store = tmp_path / "locked.db"
    shutil.copy(served["root"] / "mlflow.db", store)
    holder = sqlite3.connect(store, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        started = time.monotonic()
        result = _mbcrisk(served, "promote", "mbcrisk-relapse", timeout=180,
                          env={"MLFLOW_TRACKING_URI": f"sqlite:///{store}"})
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "tracking store" in result.stderr
    assert "locked" in result.stderr
    assert elapsed < 120


@pytest.mark.long  # the CLI in a subprocess waiting on the server (~9 s): test-long (CI)
def test_an_unreachable_tracking_server_gives_a_clear_error(served: dict) -> None:
    started = time.monotonic()
    result = _mbcrisk(served, "promote", "mbcrisk-relapse", timeout=180,
                      env={"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "tracking store http://127.0.0.1:" in result.stderr
    assert "cannot be used" in result.stderr
    assert time.monotonic() - started < 120


@pytest.mark.long  # two server starts (~30 s): run by `make test-long` (CI)
def test_the_audit_log_survives_a_server_restart(served: dict, tmp_path: Path) -> None:
    audit = AuditLog(Settings.from_env().store_url)
    before = len(audit.records())
    digests = []
    for round_ in range(2):
        with running_server(served, tmp_path / f"serve-{round_}.log") as server:
            for k in range(5):
                body = {"patients": [{**EXAMPLE, "age_years": 40 + 10 * round_ + k}]}
                response = httpx.post(f"{server.base}/predict", json=body,
                                      headers=auth(served), timeout=60)
                assert response.status_code == 200
                digests.append(hashlib.sha256(response.request.content).hexdigest())
    records = audit.records()[before:]
    assert [r.request_sha256 for r in records] == digests
    assert all(r.status == 200 and r.endpoint == "predict" for r in records)
