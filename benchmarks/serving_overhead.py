"""BentoML versus plain FastAPI doing the same light work: one explained prediction.

Three servers: plain FastAPI (uvicorn), BentoML with a synchronous endpoint in one worker of
``--threads`` threads (default 32), access logging and metrics off, and BentoML with its
defaults, to show what those settings buy. (mbcrisk itself now serves async, batched endpoints:
its own figures are ``serving_service.py``'s.)

All three servers load the same model and answer POST /explain by scoring one prepared patient row
and computing its TreeSHAP contributions (well under a millisecond of model time), so the
difference is the serving stack's overhead. Each runs as its own process on 127.0.0.1; a
bounded async load (N requests at concurrency C) measures throughput and latency percentiles.

Run: ``make bench`` or ``.venv/bin/python benchmarks/serving_overhead.py [--requests 2000]``.
Prints a table and writes ``bench-results/serving_overhead.json``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _support import (
    LOAD_COLUMNS,
    Served,
    free_port,
    measure_in_turns,
    print_ratios,
    print_table,
    write_results,
)

from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import resistance_labels
from models.estimators.factory import build_pipelines

BODY = {"patient_id": "x"}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--threads", type=int, default=32,
                        help="BentoML service threads of the synchronous endpoint")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-") as tmp:
        folder = Path(tmp)
        model = _prepare(folder)
        servers = []
        for kind in ("fastapi", "bentoml", "bentoml_default"):
            port = free_port()
            servers.append(Served(kind, _start(kind, folder, model, port, args.threads),
                                  f"http://127.0.0.1:{port}/explain"))
        rows = measure_in_turns(servers, BODY, args.requests, args.concurrency)
    print_table(rows, LOAD_COLUMNS)
    print_ratios(rows, "bentoml", "fastapi")
    write_results("serving_overhead", rows)


if __name__ == "__main__":
    main()
