"""BentoML versus plain FastAPI doing the same light work: one explained prediction.

Three servers: plain FastAPI (uvicorn), BentoML as mbcrisk configures it (one worker, 4 threads,
access logging and metrics off), and BentoML with its defaults, to show what the settings buy.

Both servers load the same model and answer POST /explain by scoring one prepared patient row
and computing its TreeSHAP contributions (well under a millisecond of model time), so the
difference is the serving stack's overhead. Each runs as its own process on 127.0.0.1; a
bounded async load (N requests at concurrency C) measures throughput and latency percentiles.

Run: ``make bench`` or ``.venv/bin/python benchmarks/serving_overhead.py [--requests 2000]``.
Prints a table and writes ``bench-results/serving_overhead.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np

from features.design import build_design
from features.labels import resistance_labels
from features.synthetic import build_synthetic_cohort
from models.factory import build_pipelines

WORK = textwrap.dedent('''
    import pickle, numpy as np, xgboost as xgb
    with open(__MODEL__, "rb") as f:
        MODEL, ROW = pickle.load(f)
    def work():
        matrix = xgb.DMatrix(ROW, missing=np.nan)
        margin = float(MODEL.predict(matrix, output_margin=True)[0])
        contributions = MODEL.predict(matrix, pred_contribs=True)[0]
        top = np.argsort(-np.abs(contributions[:-1]))[:5]
        return {"margin": margin, "top": [int(i) for i in top]}
''')
FASTAPI_APP = WORK + textwrap.dedent('''
    from fastapi import FastAPI
    app = FastAPI()
    @app.post("/explain")
    def explain(body: dict) -> dict:
        return work()
''')
BENTOML_APP = WORK + textwrap.dedent('''
    import bentoml
    @bentoml.service(__CONFIG__)
    class Explain:
        @bentoml.api
        def explain(self, patient_id: str = "x") -> dict:
            return work()
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(folder: Path) -> Path:
    cohort = build_synthetic_cohort(2000, 3)
    labels = resistance_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    pipeline = build_pipelines("binary", model_params={}, min_gene_frequency=0.02,
                               min_gene_count=5, cox_alphas=(1.0,), logistic_cs=(1.0,),
                               random_state=0)["model"].fit(X, labels.y["label"].to_numpy())
    row = pipeline[:-1].transform(X.iloc[[0]]).to_numpy(dtype=float)
    path = folder / "model.pkl"
    path.write_bytes(pickle.dumps((pipeline[-1].booster_, row)))
    return path


def _start(kind: str, folder: Path, model: Path, port: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "PYTHONPATH": str(folder),
           "BENTOML_HOME": str(folder / "bentoml")}
    if kind == "fastapi":
        (folder / "fastapi_app.py").write_text(FASTAPI_APP.replace("__MODEL__", repr(str(model))))
        command = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1",
                   "--port", str(port), "--no-access-log", "--log-level", "warning"]
    else:
        config = ("" if kind == "bentoml_default" else
                  f'workers=1, threads={threads}, logging={{"access": {{"enabled": False}}}}, '
                  'metrics={"enabled": False}')
        module = f"{kind}_app"
        (folder / f"{module}.py").write_text(BENTOML_APP.replace("__MODEL__", repr(str(model)))
                                             .replace("__CONFIG__", config))
        command = [sys.executable, "-m", "bentoml", "serve", f"{module}:Explain", "--host",
                   "127.0.0.1", "--port", str(port), "--working-dir", str(folder)]
    return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_ready(port: int, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.post(f"http://127.0.0.1:{port}{path}", json={"patient_id": "x"},
                          timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server on port {port} did not become ready")


async def _load(port: int, requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            for _ in queue:
                started = time.perf_counter()
                try:
                    response = await client.post(f"http://127.0.0.1:{port}/explain",
                                                 json={"patient_id": "x"})
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {"requests": requests, "concurrency": concurrency,
            "throughput_rps": round(requests / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--threads", type=int, default=4, help="BentoML service threads")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-") as tmp:
        folder = Path(tmp)
        model = _prepare(folder)
        for kind in ("fastapi", "bentoml", "bentoml_default"):
            port = _free_port()
            process = _start(kind, folder, model, port, args.threads)
            try:
                _wait_ready(port, "/explain")
                asyncio.run(_load(port, 200, 8))  # warm up
                for concurrency in args.concurrency:
                    result = asyncio.run(_load(port, args.requests, concurrency))
                    rows.append({"server": kind, **result})
            finally:
                process.terminate()
                process.wait(timeout=30)
    print(f"{'server':<16}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}")
    for r in rows:
        print(f"{r['server']:<16}{r['concurrency']:>5}{r['throughput_rps']:>9}{r['p50_ms']:>9}"
              f"{r['p95_ms']:>9}{r['p99_ms']:>9}{r['errors']:>8}")
    by_key = {(r["server"], r["concurrency"]): r for r in rows}
    for concurrency in args.concurrency:
        fast, bento = by_key[("fastapi", concurrency)], by_key[("bentoml", concurrency)]
        print(f"concurrency {concurrency}: BentoML/FastAPI throughput "
              f"{bento['throughput_rps'] / fast['throughput_rps']:.2f}, p99 "
              f"{bento['p99_ms'] / fast['p99_ms']:.2f}")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "serving_overhead.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
