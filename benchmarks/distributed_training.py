"""The relapse model on 2,000,000 synthetic patients: a Dask LocalCluster next to one process.

1. The cohort: ``mbcrisk synth --n N --format parquet`` (partitions of 100,000 patients), or an
   existing partitioned cohort given with ``--cohort``.
2. Dask (this process is the client and runs the scheduler; ``--workers`` single-threaded worker
   processes): read, label and design every partition on the workers
   (:class:`training.distributed.cohort.DaskCohort`), fit the filter and the AFT model with
   ``xgboost.dask`` on every partition but the last, score the last. Peak resident memory of
   each worker process (``getrusage`` inside it) and of the client.
3. One process (a subprocess, so its peak memory is its own): the whole cohort loaded
   (``load_parquet_cohort``), labelled and designed at once, the same AFT model fitted with
   as many threads as Dask has workers on the same patients, the last partition scored.
   If it does not fit in memory the row says so.

Both print the held-out Harrell's C of the same model class on the same patients.
Run: ``make bench`` or ``.venv/bin/python benchmarks/distributed_training.py [--patients N]``;
prints a table and writes ``bench-results/distributed_training.json``.
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
from functools import partial
from pathlib import Path

from _support import print_table, write_results

from features.cohorts.parquet import load_parquet_cohort, read_manifest, read_partition
from features.design import build_design
from features.labels import relapse_labels, survival_target
from features.pipeline import GeneFrequencyFilter
from models.estimators.aft import AFTRiskModel
from training.distributed.cohort import DaskCohort, dask_client
from training.evaluation.survival_metrics import harrell_c

MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))


def _peak_mib() -> float:
    """Peak resident memory of the calling process (MiB; ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB and stdout of ``command`` (None MiB if it failed)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    out, err = process.stdout.read().decode(), process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out


def on_dask(folder: Path, workers: int) -> list[dict]:
    """Rows of the Dask run: prepare, fit, score (wall s), peak MiB per process, held-out C."""
    partitions = read_manifest(folder)["partitions"]
    readers = [partial(read_partition, folder, k) for k in range(partitions)]
    with dask_client(n_workers=workers) as client:
        started = time.perf_counter()
        cohort = DaskCohort(client, readers)
        prepared = time.perf_counter()
        fit = cohort.fit(list(range(partitions - 1)))
        fitted = time.perf_counter()
        risk = cohort.predict_risk(fit, [partitions - 1])
        scored = time.perf_counter()
        held_out = cohort.facts[-1].labels.y
        c_index = harrell_c(held_out["time_months"].to_numpy(),
                            held_out["event"].to_numpy(dtype=bool), risk)
        peaks = client.run(_peak_mib)
        n_train = sum(cohort.sizes()[:-1])
    rows = [{"engine": f"Dask, {workers} workers", "process": f"worker {k}",
             "peak MiB": round(peak, 1)} for k, peak in enumerate(peaks.values())]
    rows.insert(0, {"engine": f"Dask, {workers} workers", "process": "client + scheduler",
                    "train patients": n_train, "prepare s": round(prepared - started, 1),
                    "fit s": round(fitted - prepared, 1), "score s": round(scored - fitted, 1),
                    "peak MiB": round(_peak_mib(), 1), "held-out C": round(c_index, 4)})
    return rows


def single_process(folder: Path, threads: int) -> dict:
    """The same model in this process on the whole cohort (called in a subprocess)."""
    started = time.perf_counter()
    cohort, _ = load_parquet_cohort(folder)
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    prepared = time.perf_counter()
    last = read_manifest(folder)["partitions"] - 1
    test = labels.y.index.isin(read_partition(folder, last).patients.index)
    y = labels.y
    target = survival_target(y["time_months"].to_numpy()[~test], y["event"].to_numpy()[~test])
    selector = GeneFrequencyFilter().fit(X[~test])
    model = AFTRiskModel(n_jobs=threads).fit(selector.transform(X[~test]), target)
    fitted = time.perf_counter()
    risk = model.predict(selector.transform(X[test]))
    scored = time.perf_counter()
    c_index = harrell_c(y["time_months"].to_numpy()[test], y["event"].to_numpy(dtype=bool)[test],
                        risk)
    return {"train patients": int((~test).sum()), "prepare s": round(prepared - started, 1),
            "fit s": round(fitted - prepared, 1), "score s": round(scored - fitted, 1),
            "held-out C": round(c_index, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2_000_000)
    parser.add_argument("--partition-size", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cohort", type=Path, help="an existing partitioned cohort")
    parser.add_argument("--single-process", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single_process:
        print(json.dumps(single_process(args.single_process, args.workers)))
        return
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-dask-") as scratch:
        rows = []
        folder = args.cohort
        if folder is None:
            folder = Path(scratch) / "cohort"
            wall, peak, _ = _timed([MBCRISK, "synth", "--n", str(args.patients), "--format",
                                    "parquet", "--partition-size", str(args.partition_size),
                                    "--out", str(folder)])
            rows.append({"engine": "mbcrisk synth", "process": "one",
                         "prepare s": round(wall, 1), "peak MiB": round(peak, 1)})
        rows += on_dask(folder, args.workers)
        try:
            wall, peak, out = _timed([sys.executable, __file__, "--single-process", str(folder),
                                      "--workers", str(args.workers)])
            rows.append({"engine": f"one process, {args.workers} threads", "process": "one",
                         **json.loads(out), "peak MiB": round(peak, 1)})
        except RuntimeError as error:
            if "MemoryError" not in str(error):
                raise
            rows.append({"engine": "one process", "process": "did not fit in memory"})
    columns = ["engine", "process", "train patients", "prepare s", "fit s", "score s",
               "peak MiB", "held-out C"]
    print_table([{c: row.get(c, "") for c in columns} for row in rows], columns)
    write_results("distributed_training", {"patients": args.patients, "rows": rows,
                                           "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
