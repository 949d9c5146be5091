"""The real mbcrisk service next to a plain FastAPI app doing the same work, side by side.

Both load the same champions (quick synthetic models trained into a temporary MLflow store and
imported into BentoML's store) and answer POST /explain for the README's example patient
through the same :class:`serving.inference.Predictor` and request coalescer. mbcrisk runs as
``mbcrisk serve`` with everything on (API key, gateway, audit log); the FastAPI app is uvicorn
with no key and no audit. So the ratio is what BentoML plus our gateway and audit cost on the
real request path (design building, scoring, TreeSHAP, wording).

Run: ``make bench`` or ``.venv/bin/python benchmarks/serving_service.py [--requests 400]``.
Prints a table and writes ``bench-results/serving_service.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _support import (
    LOAD_COLUMNS,
    free_port,
    measure_server,
    print_ratios,
    print_table,
    served_state,
    write_results,
)

EXAMPLE = {"patients": [{
    "patient_id": "study-0042", "age_years": 61, "er_status": "positive",
    "pr_status": "positive", "her2_status": "negative", "grade": 2, "tumor_size_mm": 28,
    "positive_lymph_nodes": 2, "setting": "metastatic", "months_since_diagnosis": 40,
    "metastatic_sites": ["bone", "liver"], "current_therapy": "endocrine_cdk46",
    "prior_therapies": ["endocrine"], "sample_type": "metastasis", "tmb": 4.2,
    "alterations": [{"gene": "ESR1", "kind": "mutation", "protein_change": "D538G"}],
    "profiled_genes": ["ESR1", "PIK3CA", "TP53", "NF1", "ERBB2"]}]}

FASTAPI_APP = textwrap.dedent('''
    from fastapi import FastAPI
    from serving.coalescer import Coalescer
    from serving.inference import Predictor
    from serving.schemas import ExplainResponse, PredictRequest
    from serving.settings import Settings
    from serving.store import load_served_models

    PREDICTOR = Coalescer(Predictor(load_served_models()), Settings.from_env().max_batch)
    app = FastAPI()

    @app.post("/explain")
    def explain(body: PredictRequest) -> ExplainResponse:
        return PREDICTOR.explain(body.patients)
''')


def _start(server: str, root: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    if server == "fastapi":
        (root / "fastapi_app.py").write_text(FASTAPI_APP)
        command = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1",
                   "--port", str(port), "--no-access-log", "--log-level", "warning"]
        env = {**env, "PYTHONPATH": str(root)}
    else:
        command = [str(Path(sys.executable).with_name("mbcrisk")), "serve", "--host",
                   "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-") as tmp:
        root = Path(tmp)
        env, key = served_state(root)
        auth = {"Authorization": f"Bearer {key}"}
        for server, headers in (("fastapi", {}), ("mbcrisk", auth)):
            port = free_port()
            rows += measure_server(server, _start(server, root, env, port),
                                   f"http://127.0.0.1:{port}/explain", EXAMPLE, args.requests,
                                   args.concurrency, headers)
    print_table(rows, LOAD_COLUMNS)
    print_ratios(rows, "mbcrisk", "fastapi")
    write_results("serving_service", rows)


if __name__ == "__main__":
    main()
