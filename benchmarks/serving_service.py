"""The real ``mbcrisk serve`` next to the floor of its work, side by side in one run.

The floor is a bare FastAPI app (uvicorn, one process) doing the least an answer needs: it
parses the JSON body and, on the event loop (no thread hop), runs the boosters of the models
that answer this patient (a metastatic patient: progression and endocrine resistance, not
relapse) on one row prebuilt from the README's example patient: margin and ``pred_contribs``
(exact TreeSHAP). No validation, encoding, unknown-is-unknown averaging, wording, key, audit
or gateway. mbcrisk runs as ``mbcrisk serve`` with everything on (API key, gateway, audit log
in the default SQLite state store) and answers the same patient's POST /explain. Both load the
same champions: by default those ``make run`` registered (``--champions quick`` trains small
test models instead, which change the ratio). Both servers run at once and take turns, in five
rounds per concurrency (:func:`_support.measure_in_turns`): the shared machine's drift during
the run falls on both alike, where measuring one after the other let it decide the ratio.

Also printed, in process: the median time of one explained patient through
:class:`serving.inference.Predictor` (encoding, one pass per setting, wording), the answering
boosters alone (the floor's work), and the same boosters as the unknown-is-unknown rule
compiles them for this patient (its inputs the API cannot give averaged over the reference
patients): the averaging's own cost.

mbcrisk keeps its keys and audit in the default SQLite state store; with ``MBCRISK_STATE_URL``
set (``postgresql+psycopg://...``, e.g. from ``.ci/postgres start DIR``) in PostgreSQL, as
replicas do. The store is printed with the figures.

Run: ``make bench`` or ``.venv/bin/python benchmarks/serving_service.py [--requests 400]``.
Prints the tables and the ratios and writes ``bench-results/serving_service.json``.
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
    Served,
    free_port,
    make_run_state,
    measure_in_turns,
    median_seconds,
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

BARE_MODELS = textwrap.dedent('''
    import numpy as np
    import xgboost as xgb

    def prebuilt_boosters(models, profile, tasks):
        """Per answering champion (``tasks``): its booster, and the profile's row as the
        booster's DMatrix input."""
        work = []
        for task in tasks:
            bundle = models[task].bundle
            position = {f: k for k, f in enumerate(bundle.input_features)}
            columns = [position[f] for f in bundle.model_features]
            row = np.ascontiguousarray(bundle.encoder.encode([profile])[:, columns])
            names = bundle.model_features if bundle.kind == "survival" else None
            work.append((bundle.pipeline[-1].booster_, row, names))
        return work

    def run_boosters(work):
        """Margin and exact TreeSHAP contributions of each prebuilt row: the floor."""
        out = []
        for booster, row, names in work:
            matrix = xgb.DMatrix(row, missing=np.nan, feature_names=names, nthread=1)
            margin = booster.predict(matrix, output_margin=True)
            contributions = booster.predict(matrix, pred_contribs=True)
            out.append((float(margin[0]), contributions[0, :-1].tolist()))
        return out
''')

BARE_APP = BARE_MODELS + textwrap.dedent('''
    from fastapi import FastAPI
    from serving.schemas import PatientProfile
    from serving.store import load_served_models

    PROFILE = PatientProfile(**__PATIENT__)
    WORK = prebuilt_boosters(load_served_models(), PROFILE, __TASKS__)
    app = FastAPI()

    @app.post("/explain")
    async def explain(body: dict) -> dict:  # on the event loop: no thread hop
        return {"models": run_boosters(WORK)}
''')


def _start(server: str, root: Path, env: dict[str, str], port: int, tasks: list[str],
           ) -> subprocess.Popen:
    if server == "bare_fastapi":
        (root / "bare_app.py").write_text(
            BARE_APP.replace("__PATIENT__", repr(EXAMPLE["patients"][0])).replace(
                "__TASKS__", repr(tasks)))
        command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1",
                   "--port", str(port), "--no-access-log", "--log-level", "warning"]
        env = {**env, "PYTHONPATH": str(root)}
    else:
        command = [str(Path(sys.executable).with_name("mbcrisk")), "serve", "--host",
                   "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def answering_tasks() -> list[str]:
    """The served models that answer the example patient, as the service decides."""
    from serving.inference import Predictor
    from serving.schemas import PatientProfile
    from serving.store import load_served_models

    answer = Predictor(load_served_models()).predict(
        [PatientProfile(**EXAMPLE["patients"][0])]).predictions[0]
    return [answer.endpoint, *(f"resistance_{t}" for t in answer.resistance)]


def in_process(repeats: int, tasks: list[str]) -> list[dict]:
    """One explained patient through the Predictor, next to the answering boosters alone and
    as the unknown-is-unknown rule compiles them for this patient."""
    from models.scoring import BundleScorer, JointScorer
    from serving.inference import Predictor
    from serving.schemas import PatientProfile
    from serving.store import load_served_models

    namespace: dict = {}
    exec(BARE_MODELS, namespace)  # the same floor as the bare app
    models = load_served_models()
    predictor = Predictor(models)
    profiles = [PatientProfile(**EXAMPLE["patients"][0])]
    work = namespace["prebuilt_boosters"](models, profiles[0], tasks)
    joint = JointScorer.of([BundleScorer.of(models[t].bundle) for t in tasks])
    rows = [models[t].bundle.encoder.encode(profiles) for t in tasks]

    def averaged() -> None:  # as the Predictor scores them: one pass of the stacked boosters
        joint.score(rows, explain=True)

    timed = {"Predictor.explain (answering models)": lambda: predictor.explain(profiles),
             "Predictor.predict (answering models)": lambda: predictor.predict(profiles),
             "boosters with unknown-is-unknown averaging": averaged,
             "answering boosters (margin + contributions)": lambda: namespace[
                 "run_boosters"](work)}
    medians = {path: round(1000 * median_seconds(repeats, call, 20), 3)
               for path, call in timed.items()}
    floor = medians["answering boosters (margin + contributions)"]
    return [{"path": path, "median_ms": ms, "ratio_to_floor": round(ms / floor, 2)}
            for path, ms in medians.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--repeats", type=int, default=500, help="in-process repeats")
    parser.add_argument("--champions", choices=("make-run", "quick"), default="make-run",
                        help="make run's registered champions (default) or quick test models")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-") as tmp:
        root = Path(tmp)
        env, key = (make_run_state if args.champions == "make-run" else served_state)(root)
        tasks = answering_tasks()
        from serving.settings import Settings

        store = Settings.from_env().store_url.split(":", 1)[0]
        print(f"champions: {args.champions}; state store: {store}; answering the example "
              f"patient: {tasks}")
        process_rows = in_process(args.repeats, tasks)
        auth = {"Authorization": f"Bearer {key}"}
        servers = []
        for server, headers in (("bare_fastapi", {}), ("mbcrisk", auth)):
            port = free_port()
            servers.append(Served(server, _start(server, root, env, port, tasks),
                                  f"http://127.0.0.1:{port}/explain", headers))
        rows = measure_in_turns(servers, EXAMPLE, args.requests, args.concurrency)
    print("One explained patient, in process:")
    print_table(process_rows, ["path", "median_ms", "ratio_to_floor"])
    print("\nPOST /explain over HTTP (one patient per request):")
    print_table(rows, LOAD_COLUMNS)
    print_ratios(rows, "mbcrisk", "bare_fastapi")
    write_results("serving_service", {"state_store": store, "in_process": process_rows,
                                      "http": rows})


if __name__ == "__main__":
    main()
