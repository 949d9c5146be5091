"""Serving fixtures: champions trained and registered in a real MLflow store, imported into a
real BentoML model store, an API key; all under one temporary state directory."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import mlflow
import psutil
import pytest

from serving.keys import KeyStore
from serving.settings import Settings
from tests.support.champions import train_quick_champions
from tests.support.leftovers import model_copies_in

EXAMPLE = {
    "patient_id": "study-0042", "age_years": 61, "menopausal_status": "post",
    "er_status": "positive", "pr_status": "positive", "her2_status": "negative",
    "grade": 2, "tumor_size_mm": 28, "positive_lymph_nodes": 2, "setting": "metastatic",
    "months_since_diagnosis": 40, "metastatic_sites": ["bone", "liver"],
    "current_therapy": "endocrine_cdk46", "prior_therapies": ["endocrine"],
    "sample_type": "metastasis", "tmb": 4.2,
    "alterations": [{"gene": "ESR1", "kind": "mutation", "protein_change": "D538G"}],
    "profiled_genes": ["ESR1", "PIK3CA", "TP53", "NF1", "ERBB2"],
}


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Environment of a ready service: trained champions imported, one key created."""
    root = tmp_path_factory.mktemp("serving")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
           "MBCRISK_STATE_DIR": str(root / "state"), "BENTOML_HOME": str(root / "bentoml"),
           "BENTOML_DO_NOT_TRACK": "true", "MBCRISK_MAX_BATCH": "5",
           "MBCRISK_MAX_BODY_BYTES": "300000"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.chdir(root)
        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        train_quick_champions(root)
        key = KeyStore(Settings.from_env().store_url).create("test-app")
        yield {"env": {**os.environ, **env}, "key": key, "root": Path(root), "secrets": []}


def auth(served: dict, key: str | None = None) -> dict[str, str]:
    """The Authorization header for ``key`` (default: the fixture's valid key)."""
    return {"Authorization": f"Bearer {key or served['key']}"}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_processes(process: subprocess.Popen) -> list[psutil.Process]:
    """The server process and all its descendants (workers included, whatever their
    session), the server first."""
    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@dataclass
class RealServer:
    """A running ``mbcrisk serve`` process: its base URL, process and combined output file."""

    base: str
    process: subprocess.Popen
    log: Path


@contextmanager
def running_server(served: dict, log: Path, env: dict[str, str] | None = None,
                   ready_timeout: float = 120.0, command: list[str] | None = None,
                   cwd: Path | None = None) -> Iterator[RealServer]:
    """``mbcrisk serve`` (or ``command``, to which ``--host`` and ``--port`` are added) on
    127.0.0.1 and a free port, ready (``/readyz``) on entry, stopped (SIGTERM, then waited for)
    on exit; stdout and stderr go to ``log``. The server gets its own temporary folder
    (``TMPDIR``): once it is up, no copy of a model or card may be left there (start-up
    downloads them; the exec into BentoML runs no clean-up)."""
    port = free_port()
    scratch = log.with_name(f"{log.stem}-tmp")
    scratch.mkdir(exist_ok=True)
    command = command or [str(Path(sys.executable).with_name("mbcrisk")), "serve"]
    with log.open("a") as out:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env={**served["env"], "TMPDIR": str(scratch), **(env or {})},
            cwd=cwd or served["root"], stdout=out, stderr=subprocess.STDOUT)
    server = RealServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not become ready: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        left = model_copies_in(scratch)
        assert not left, f"serve start-up left model copies in its temporary folder: {left}"
        yield server
    finally:
        tree = server_processes(process)  # BentoML's workers run in sessions of their own
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        for child in tree[1:]:  # none may outlive the server (one holding the port did)
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
    leaked = secrets_in(log.read_text(errors="replace"), served)
    assert not leaked, f"the server's output holds secrets: {leaked}"


#: Patient identifiers the serving tests send; none may reach a log.
PATIENT_IDS = ("study-0042", "secret-pid-")
_LOGGERS = ("", "serving", "bentoml", "_bentoml_impl", "_bentoml_sdk", "uvicorn", "mlflow")


def secrets_in(text: str, served: dict) -> list[str]:
    """Which API keys or patient identifiers occur in ``text`` (shown truncated)."""
    found = [s for s in (served["key"], *served["secrets"]) if s in text]
    return [s[:6] + "..." for s in found] + [p for p in PATIENT_IDS if p in text]


@pytest.fixture(autouse=True)
def no_secrets_in_logs(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture,
                       capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Every serving test: log records (INFO and up, everywhere) and the test's captured
    stdout and stderr hold no API key and no patient identifier."""
    for name in _LOGGERS:
        caplog.set_level(logging.INFO, logger=name or None)
    yield
    if "served" not in request.fixturenames:
        return
    served = request.getfixturevalue("served")
    out, err = capfd.readouterr()
    sys.stdout.write(out)
    sys.stderr.write(err)
    assert not secrets_in(caplog.text, served), "a secret reached the logs"
    assert not secrets_in(out + err, served), "a secret reached stdout/stderr"
