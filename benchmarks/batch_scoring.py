"""Scoring a 1,000,000-patient partitioned synthetic cohort with explanations, in bounded memory.

1. The cohort: ``mbcrisk synth --n N --format parquet`` (partitions of 100,000 patients), or an
   existing one given with ``--cohort``. A relapse model trained on the default synthetic cohort
   (3-fold CV, one repeat) is registered in a temporary MLflow store.
2. mbcrisk: ``mbcrisk predict --explain`` (top 5 drivers, worded) in a subprocess: every
   partition read, its population and design built, scored through the bundle (the
   unknown-is-unknown rule included) and written to Parquet. Wall time and the subprocess's
   peak resident memory (``getrusage`` of the child). The same on the first partition alone,
   to show memory does not grow with the cohort.
3. The floor of the model work, in another subprocess: the same patients' design rows (built
   per partition, not timed), then only xgboost's ``pred_contribs`` (exact TreeSHAP) of the
   same booster on them, timed; its peak memory.

Run: ``make bench`` or ``.venv/bin/python benchmarks/batch_scoring.py [--patients N]``; prints
a table and writes ``bench-results/batch_scoring.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import REPO, print_table, write_results

MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))
QUICK = "[cv]\nn_splits = 3\nn_repeats = 1\n"
MODEL = "mbcrisk-relapse@challenger"


def _child(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Run ``command`` under a fresh wrapper process (so the peak is this command's alone:
    ``ru_maxrss`` of children is the largest child a process ever waited for); wall seconds,
    its peak resident MiB, its stdout."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, "--measure", *command], env=env,
                            cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {result.stderr[-2000:]}")
    peak_kib = int(result.stderr.strip().splitlines()[-1].removeprefix("PEAK_KIB="))
    return seconds, peak_kib / 1024, result.stdout


def measure(command: list[str]) -> int:
    """The wrapper: run ``command``, pass its stdout through, print its peak on stderr."""
    result = subprocess.run(command, stdout=sys.stdout, stderr=subprocess.DEVNULL, check=False)
    print(f"PEAK_KIB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}",
          file=sys.stderr)
    return result.returncode


def floor_work(cohort: str, reference: str) -> None:
    """The floor (run in its own process): pred_contribs of the model's booster on every
    partition's design rows; prints JSON {seconds, rows, peak_mib}."""
    import numpy as np
    import xgboost as xgb

    from features.cohorts.parquet import read_manifest, read_partition
    from features.design import build_design
    from features.labels import task_population
    from models.loading import load_registered_bundle
    from models.scoring import BundleScorer

    bundle = load_registered_bundle(reference).bundle
    scorer = BundleScorer.of(bundle)
    timed, rows = 0.0, 0
    for index in range(read_manifest(cohort)["partitions"]):
        part = read_partition(cohort, index)
        population = task_population(part, bundle.task, bundle.origin,
                                     bundle.origin_sample_types)
        X = bundle.input_frame(build_design(part, population.origin)).to_numpy(dtype=float)
        X = np.ascontiguousarray(X[:, scorer.selected])
        started = time.perf_counter()
        matrix = xgb.DMatrix(X, missing=np.nan, feature_names=scorer.features)
        bundle.pipeline[-1].booster_.predict(matrix, pred_contribs=True)
        timed += time.perf_counter() - started
        rows += len(X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": timed, "rows": rows, "peak_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--cohort", type=Path, help="an existing partitioned cohort")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mbcrisk-batch-") as folder:
        root = Path(folder)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
               "PYTHONPATH": str(REPO)}
        cohort = args.cohort or root / "cohort"
        if args.cohort is None:
            seconds, _, _ = _child([MBCRISK, "synth", "--n", str(args.patients), "--format",
                                    "parquet", "--out", str(cohort)], env, root)
            print(f"synthetic cohort of {args.patients:,} patients written in {seconds:.0f} s")
        first = root / "first"
        _child([MBCRISK, "synth", "--n", "100000", "--format", "parquet", "--out", str(first)],
               env, root)
        (root / "quick.toml").write_text(QUICK)
        subprocess.run([MBCRISK, "train", "--cohort", "synthetic", "--config",
                        str(root / "quick.toml")], env=env, cwd=root, check=True,
                       capture_output=True)
        rows = []
        for label, source in (("one partition (100,000 patients)", first),
                              ("whole cohort", cohort)):
            out = root / "scored.parquet"
            seconds, peak, stdout = _child(
                [MBCRISK, "predict", "--model", MODEL, "--cohort", str(source), "--out",
                 str(out), "--explain", "--json"], env, root)
            summary = json.loads(stdout)
            scored = summary["counts"]["scored"]
            rows.append({"what": f"mbcrisk predict --explain, {label}", "patients": scored,
                         "seconds": round(seconds, 1), "patients_per_s": round(scored / seconds),
                         "peak_mib": round(peak), "output_mib": round(out.stat().st_size / 2**20)})
            out.unlink()
        seconds, _, stdout = _child([sys.executable, __file__, "--floor", str(cohort), MODEL],
                                    env, root)
        floor = json.loads(stdout)
        rows.append({"what": "floor: xgboost pred_contribs, same booster and rows",
                     "patients": floor["rows"], "seconds": round(floor["seconds"], 1),
                     "patients_per_s": round(floor["rows"] / floor["seconds"]),
                     "peak_mib": round(floor["peak_mib"]), "output_mib": ""})
    print_table(rows, ["what", "patients", "seconds", "patients_per_s", "peak_mib",
                       "output_mib"])
    whole, bare = rows[1], rows[2]
    ratio = bare["patients_per_s"] / whole["patients_per_s"]
    print(f"mbcrisk predict --explain is {ratio:.1f}x slower than the bare pred_contribs floor "
          f"(which neither reads, designs, applies the unknown-is-unknown rule, words drivers "
          f"nor writes); peak memory {rows[0]['peak_mib']} MiB on one partition, "
          f"{whole['peak_mib']} MiB on {whole['patients']:,} patients")
    print(f"results: {write_results('batch_scoring', {'rows': rows, 'ratio': ratio})}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        sys.exit(measure(sys.argv[2:]))
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        sys.path.insert(0, str(REPO))
        floor_work(sys.argv[2], sys.argv[3])
    else:
        main()
