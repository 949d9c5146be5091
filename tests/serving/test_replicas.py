"""Two replicas of ``mbcrisk serve`` sharing one PostgreSQL state database (``make
test-long``; ``.ci/run`` starts the server with ``.ci/postgres`` and passes its URL in
``MBCRISK_TEST_POSTGRES_URL``): a key created once works on both, a key revoked once is refused
by both within a second, 2,000 answers leave exactly 2,000 audit records, and a replica killed
with SIGKILL under load loses no audited answer while the other keeps answering. Also: MLflow's
tracking and registry on the same PostgreSQL server, and ``mbcrisk serve`` loading its
champions from that MLflow server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, func, select, text

from serving.settings import SERVED_MODELS
from serving.state import audit
from tests.serving.conftest import EXAMPLE, free_port, running_server, server_processes

pytestmark = [pytest.mark.slow, pytest.mark.long]
MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))


@pytest.fixture(scope="module")
def postgres_server() -> str:
    """The PostgreSQL server ``MBCRISK_TEST_POSTGRES_URL`` names."""
    server = os.environ.get("MBCRISK_TEST_POSTGRES_URL")
    if not server:
        pytest.fail("MBCRISK_TEST_POSTGRES_URL is not set: start a server with "
                    "`.ci/postgres start DIR` (.ci/run does)")
    return server


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new database on ``server`` (its URL), dropped afterwards."""
    name = f"mbcrisk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres(postgres_server: str) -> Iterator[str]:
    with fresh_database(postgres_server) as url:
        yield url


def _keys(action: str, name: str, env: dict[str, str]) -> str:
    done = subprocess.run([MBCRISK, "keys", action, name], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout.strip().splitlines()[0]


def _audited(url: str, key_name: str) -> Counter:
    engine = create_engine(url)
    with engine.connect() as db:
        rows = db.execute(select(audit.c.status, func.count()).where(
            audit.c.key_name == key_name).group_by(audit.c.status)).all()
    engine.dispose()
    return Counter(dict(rows))


async def _load(bases: list[str], key: str, total: int, concurrency: int,
                kill: tuple[int, list[psutil.Process]] | None = None) -> dict[str, Counter]:
    """``total`` one-patient /explain requests spread over ``bases`` round-robin at
    ``concurrency``; per base, the count of each status (or exception name). With ``kill``
    (after how many answers, which processes), that replica is killed with SIGKILL, workers
    and all."""
    outcome: dict[str, Counter] = {base: Counter() for base in bases}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)
    answered = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal answered
        while not queue.empty():
            n = queue.get_nowait()
            base = bases[n % len(bases)]
            try:
                response = await client.post(f"{base}/explain", json={"patients": [EXAMPLE]},
                                             headers={"Authorization": f"Bearer {key}"})
                outcome[base][response.status_code] += 1
            except httpx.HTTPError as error:
                outcome[base][type(error).__name__] += 1
            answered += 1
            if kill is not None and answered == kill[0]:
                for process in kill[1]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        process.send_signal(signal.SIGKILL)

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return outcome


def test_two_replicas_share_keys_revocations_and_one_audit_trail(
        served: dict, postgres: str, tmp_path: Path) -> None:
    env = {"MBCRISK_STATE_URL": postgres}
    cli_env = {**served["env"], **env}
    with running_server(served, tmp_path / "a.log", env={
            **env, "MBCRISK_STATE_DIR": str(tmp_path / "a")}) as first, running_server(
            served, tmp_path / "b.log", env={**env, "MBCRISK_STATE_DIR": str(tmp_path / "b")},
    ) as second:
        bases = [first.base, second.base]
        key = _keys("create", "replica-app", cli_env)
        served["secrets"].append(key)
        for base in bases:
            assert httpx.post(f"{base}/metadata", json={}, timeout=30, headers={
                "Authorization": f"Bearer {key}"}).status_code == 200
        outcome = asyncio.run(_load(bases, key, 2000, 16))
        assert all(set(c) == {200} for c in outcome.values()), outcome
        assert sum(c[200] for c in outcome.values()) == 2000
        assert _audited(postgres, "replica-app") == Counter({200: 2000 + 2})

        _keys("revoke", "replica-app", cli_env)
        revoked = time.monotonic()
        refused: set[str] = set()
        while refused != set(bases):
            assert time.monotonic() - revoked < 1.0, f"still honoured by {set(bases) - refused}"
            for base in set(bases) - refused:
                if httpx.post(f"{base}/metadata", json={}, timeout=30, headers={
                        "Authorization": f"Bearer {key}"}).status_code == 401:
                    refused.add(base)
            time.sleep(0.02)

        killed_key = _keys("create", "replica-kill", cli_env)
        served["secrets"].append(killed_key)
        replica = server_processes(first.process)
        assert len(replica) >= 2  # the server and its worker(s)
        outcome = asyncio.run(_load(bases, killed_key, 1000, 16, kill=(200, replica)))
        answered = sum(c[200] for c in outcome.values())
        audited = _audited(postgres, "replica-kill")[200]
        # every answer a client got is audited; the audit may hold a few more (answers the
        # killed replica committed but never sent)
        assert answered <= audited <= answered + 16, (outcome, _audited(postgres,
                                                                         "replica-kill"))
        assert set(outcome[second.base]) == {200}, outcome  # the other kept answering
        assert outcome[second.base][200] == 500
        assert outcome[first.base][200] >= 90
        # it was killed indeed: its later requests failed, and nothing answers on its port
        assert sum(n for status, n in outcome[first.base].items() if status != 200) > 0
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                       for p in replica)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{first.base}/readyz", timeout=5)


def test_serve_loads_its_champions_from_an_mlflow_server_on_postgresql(
        served: dict, postgres: str, postgres_server: str, tmp_path: Path) -> None:
    import mlflow

    from serving.keys import KeyStore
    from tests.support.champions import train_quick_champions

    port = free_port()
    tracking = f"http://127.0.0.1:{port}"
    env = {"MLFLOW_TRACKING_URI": tracking, "BENTOML_HOME": str(tmp_path / "bentoml"),
           "MBCRISK_STATE_URL": postgres}
    with fresh_database(postgres_server) as registry, (tmp_path / "mlflow.log").open("w") as log:
        mlflow_server = subprocess.Popen(
            [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1",
             "--port", str(port), "--backend-store-uri", registry,
             "--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)
        try:
            _wait_for(f"{tracking}/health", tmp_path / "mlflow.log")
            with pytest.MonkeyPatch.context() as patch:
                for name, value in env.items():
                    patch.setenv(name, value)
                patch.chdir(tmp_path)
                mlflow.set_tracking_uri(tracking)
                train_quick_champions(tmp_path)  # trained, registered and promoted over HTTP
            key = KeyStore(postgres).create("mlflow-server")
            served["secrets"].append(key)
            with running_server(served, tmp_path / "serve.log", env=env) as server:
                metadata = httpx.post(f"{server.base}/metadata", json={}, timeout=30,
                                      headers={"Authorization": f"Bearer {key}"})
            assert metadata.status_code == 200, metadata.text
            assert set(metadata.json()) == set(SERVED_MODELS)  # every champion, from it
            client = mlflow.MlflowClient(tracking)
            for task, described in metadata.json().items():
                run = client.get_run(described["model"]["run_id"])  # a run of that server
                assert run.info.status == "FINISHED", task
                alias = client.get_model_version_by_alias(described["model"]["name"],
                                                          "champion")
                assert alias.version == described["model"]["version"], task
        finally:
            os.killpg(mlflow_server.pid, signal.SIGTERM)
            mlflow_server.wait(timeout=60)
            mlflow.set_tracking_uri(served["env"]["MLFLOW_TRACKING_URI"])


def _wait_for(url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.5)
