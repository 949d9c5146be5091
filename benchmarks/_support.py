"""Shared by the benchmarks (not one itself): HTTP load, result tables, a served state."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench-results"
# The helpers shared with the tests (tests/support) are imported from the repository.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def median_seconds(repeats: int, work: Callable[[], object], warm_up: int = 1) -> float:
    """Median wall time (s) of ``repeats`` calls of ``work`` after ``warm_up`` calls."""
    for _ in range(warm_up):
        work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, body: dict, headers: dict | None = None, timeout: float = 120.0,
               ) -> None:
    """Poll ``url`` with ``body`` until it answers 200; RuntimeError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, json=body, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become ready in {timeout:.0f} s")


def run_load(url: str, body: dict, requests: int, concurrency: int,
             headers: dict | None = None) -> dict:
    """``requests`` POSTs of ``body`` by ``concurrency`` clients; throughput (requests/s),
    latency percentiles (ms) and the count of failed requests (non-200 or transport error)."""
    return _summary(concurrency, *asyncio.run(_load(url, body, requests, concurrency,
                                                    headers or {})))


async def _load(url: str, body: dict, requests: int, concurrency: int, headers: dict,
                ) -> tuple[list[float], float, int]:
    """Latency of every request (s), the elapsed time (s) and the failed requests."""
    latencies: list[float] = []
    errors = 0
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        async def worker() -> None:
            nonlocal errors
            for _ in queue:
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body, headers=headers)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, errors


def _summary(concurrency: int, latencies: list[float], elapsed: float, errors: int) -> dict:
    ms = np.array(latencies) * 1000
    return {"requests": len(latencies), "concurrency": concurrency,
            "throughput_rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "errors": errors}


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Rows as an aligned text table (first column left, the rest right)."""
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) + 2 for c in columns]
    print("".join(c.ljust(w) if i == 0 else c.rjust(w)
                  for i, (c, w) in enumerate(zip(columns, widths, strict=True))))
    for r in rows:
        print("".join(str(r[c]).ljust(w) if i == 0 else str(r[c]).rjust(w)
                      for i, (c, w) in enumerate(zip(columns, widths, strict=True))))


def write_results(name: str, payload: object) -> Path:
    """``payload`` as ``bench-results/<name>.json``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def served_state(root: Path) -> tuple[dict[str, str], str]:
    """Quick champions of every task (synthetic cohort, 3-fold CV;
    :func:`tests.support.champions.train_quick_champions`) trained into an MLflow store under
    ``root`` and imported into BentoML's store, and an API key. Returns the environment a
    server needs and the key. Sets ``os.environ`` and moves into ``root`` (MLflow's artifacts
    go under the working directory)."""
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
           "MBCRISK_STATE_DIR": str(root / "state"), "BENTOML_HOME": str(root / "bentoml"),
           "BENTOML_DO_NOT_TRACK": "true"}
    os.environ.update(env)
    os.chdir(root)
    import mlflow

    from serving.keys import KeyStore
    from serving.settings import Settings
    from tests.support.champions import train_quick_champions

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    train_quick_champions(root)
    key = KeyStore(Settings.from_env().store_url).create(_key_name())
    return {**os.environ, **env}, key


def make_run_state(root: Path) -> tuple[dict[str, str], str]:
    """The champions ``make run`` registered (``mlflow.db`` in the repository) imported into a
    BentoML store under ``root``, and an API key: the served state the issue's figures are
    measured on. Sets ``os.environ`` and moves into ``root``."""
    store = REPO / "mlflow.db"
    if not store.is_file():
        raise SystemExit(f"no {store}: run `make run` first (or pass --champions quick)")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{store}", "MBCRISK_STATE_DIR": str(root / "state"),
           "BENTOML_HOME": str(root / "bentoml"), "BENTOML_DO_NOT_TRACK": "true",
           "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    os.environ.update(env)
    os.chdir(root)
    from serving.keys import KeyStore
    from serving.settings import Settings
    from serving.store import import_champions

    import_champions()
    key = KeyStore(Settings.from_env().store_url).create(_key_name())
    return {**os.environ, **env}, key


def _key_name() -> str:
    """A key name no earlier run used (a PostgreSQL state store outlives the run)."""
    return f"benchmark-{time.time_ns()}"


LOAD_COLUMNS = ["server", "concurrency", "requests", "throughput_rps", "p50_ms", "p95_ms",
                "p99_ms", "errors"]


@dataclass(frozen=True)
class Served:
    """A server process to measure: its label, process, URL and request headers."""

    name: str
    process: subprocess.Popen
    url: str
    headers: dict[str, str] = field(default_factory=dict)


#: Rounds of each concurrency's load, the servers taking turns within each.
ROUNDS = 5


def measure_in_turns(servers: list[Served], body: dict, requests: int,
                     concurrencies: list[int], rounds: int = ROUNDS) -> list[dict]:
    """Every server (all running at once; an idle one costs nothing) waited for and warmed
    up; then, per concurrency, ``rounds`` rounds in which the servers take turns, each sending
    its share of ``requests`` (the order reversed every other round), so that the shared
    machine's drift falls on every side alike. One row per server and concurrency, pooled
    over the rounds (throughput: requests over the time spent on them). Every server is
    stopped at the end."""
    try:
        for served in servers:
            wait_ready(served.url, body, served.headers)
            run_load(served.url, body, 50, 8, served.headers)  # warm up
        rows = []
        for concurrency in concurrencies:
            pooled = {s.name: ([], 0.0, 0) for s in servers}
            for k in range(rounds):
                for served in (servers if k % 2 == 0 else servers[::-1]):
                    latencies, elapsed, errors = asyncio.run(_load(
                        served.url, body, max(1, requests // rounds), concurrency,
                        served.headers))
                    kept, spent, failed = pooled[served.name]
                    pooled[served.name] = (kept + latencies, spent + elapsed, failed + errors)
            rows += [{"server": name, **_summary(concurrency, *totals)}
                     for name, totals in pooled.items()]
        return rows
    finally:
        for served in servers:
            served.process.terminate()
        for served in servers:
            served.process.wait(timeout=60)


def print_ratios(rows: list[dict], ours: str, reference: str) -> None:
    """Throughput and p99 of server ``ours`` over ``reference``, at each concurrency."""
    by_key = {(r["server"], r["concurrency"]): r for r in rows}
    for (server, concurrency), mine in by_key.items():
        if server != ours:
            continue
        other = by_key[(reference, concurrency)]
        print(f"concurrency {concurrency}: {ours}/{reference} throughput "
              f"{mine['throughput_rps'] / other['throughput_rps']:.2f}, p99 "
              f"{mine['p99_ms'] / other['p99_ms']:.2f}")
