"""Load and soak: many explained predictions against a real server on 127.0.0.1. Zero errors,
every request in the audit log exactly once, and the server's memory (all its processes)
compared between the end of the first window of requests and the end of the last.

Both runs start a real server and are marked ``long`` (``make test-long``, run by CI): the
short one (600 requests) and the 20,000-request soak, each bounded by count and by a deadline.
In ``make test``, the gateway's exactly-once audit under 64 concurrent requests is checked in
process (``tests/serving/test_gateway_audit.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest

from serving.audit import AuditLog
from serving.settings import Settings
from tests.serving.conftest import EXAMPLE, auth, running_server

pytestmark = pytest.mark.slow


def _body(i: int) -> dict:
    """A distinct request per ``i`` (so its digest names it in the audit log)."""
    return {"patients": [{**EXAMPLE, "patient_id": f"secret-pid-{i}",
                          "age_years": 30 + i % 70, "tmb": round(0.1 * (i % 97), 1)}]}


async def _send(base: str, headers: dict, numbers: range, concurrency: int,
                deadline: float) -> tuple[list[str], list[int | str]]:
    """POST /explain for every number; the digests of the bodies sent and the statuses (the
    exception's class name and message where no HTTP answer came)."""
    digests, statuses = [], []
    queue = iter(numbers)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=120) as client:
        async def worker() -> None:
            for i in queue:
                if time.monotonic() > deadline:
                    return
                request = client.build_request("POST", "/explain", json=_body(i))
                digests.append(hashlib.sha256(request.content).hexdigest())
                try:
                    statuses.append((await client.send(request)).status_code)
                except httpx.HTTPError as error:
                    statuses.append(f"{type(error).__name__}: {error}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return digests, statuses


def _problems(log: Path) -> list[str]:
    """The server log's warnings, errors and traceback lines (at most 60), for a failure."""
    marks = ("WARNING", "ERROR", "Traceback", "Error", "Exception", "  File ")
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if any(mark in line for mark in marks)][:60]


def _server_rss(process: psutil.Process) -> int:
    """Resident memory of the server and all its child processes, bytes."""
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def run_load(served: dict, log: Path, total: int, concurrency: int, window: int,
             limit_s: float) -> dict:
    audit = AuditLog(Settings.from_env().store_url)
    before = len(audit.records())
    started = time.monotonic()
    deadline = started + limit_s
    with running_server(served, log) as server:
        process = psutil.Process(server.process.pid)
        sent, statuses = [], []
        marks = {}
        for start in range(0, total, window):
            stop = min(start + window, total)
            digests, codes = asyncio.run(_send(server.base, auth(served), range(start, stop),
                                               concurrency, deadline))
            sent += digests
            statuses += codes
            marks[stop] = _server_rss(process)
    elapsed = time.monotonic() - started
    records = audit.records()[before:]
    first, last = marks[window], marks[total]
    figures = {"requests": len(sent), "concurrency": concurrency, "seconds": round(elapsed, 1),
               "requests_per_s": round(len(sent) / elapsed, 1),
               "errors": sum(code != 200 for code in statuses),
               "rss_after_first_mib": round(first / 2**20, 1),
               "rss_after_last_mib": round(last / 2**20, 1),
               "rss_growth_percent": round(100 * (last - first) / first, 2),
               "rss_mib_by_requests": {n: round(rss / 2**20, 1) for n, rss in marks.items()}}
    print(f"\nload: {figures}")
    assert len(sent) == total, f"stopped by the deadline after {len(sent)} requests"
    assert figures["errors"] == 0, (Counter(statuses), _problems(log))
    audited = Counter(r.request_sha256 for r in records)
    assert audited == Counter(sent), "the audit log misses or repeats requests"
    assert set(audited.values()) == {1}
    assert all(r.status == 200 and r.endpoint == "explain" and r.n_patients == 1
               for r in records)
    return figures


@pytest.mark.long  # ~20 s; the 20,000-request soak is its long form: `make test-long` (CI)
def test_load_short(served: dict, tmp_path: Path) -> None:
    run_load(served, tmp_path / "serve.log", total=600, concurrency=16, window=150,
             limit_s=600)


@pytest.mark.long
def test_soak_20000_explained_predictions(served: dict, tmp_path: Path) -> None:
    """20,000 explained requests at concurrency 32, RSS read after every 2,500. A leak keeps
    growing at its rate; the server's memory must flatten: the last 2,500 requests may add
    at most 3% (the early windows, while caches and allocator pools fill, add 2-3% each), and
    the whole run at most 20%."""
    figures = run_load(served, tmp_path / "serve.log", total=20_000, concurrency=32,
                       window=2_500, limit_s=3_000)
    marks = list(figures["rss_mib_by_requests"].values())
    assert 100 * (marks[-1] - marks[-2]) / marks[-2] < 3, figures["rss_mib_by_requests"]
    assert figures["rss_growth_percent"] < 20, figures["rss_mib_by_requests"]
