"""``mbcrisk train`` (relapse) wall time and peak memory, next to xgboost's bare fit.

Cohorts: GBSG2, METABRIC (from ``MBCRISK_DATA_DIR``, skipped with a note when absent) and
synthetic cohorts of 2k, 20k and 200k patients written by ``mbcrisk synth``. Each training is a
separate ``mbcrisk train`` process with its own SQLite MLflow store; its wall time and the
largest process's peak resident memory come from the operating system (``os.wait4``). It
does everything a real run does (load and validate, labels, design, cross-validated model and
baselines, final fit, explanations, plots, MLflow logging, registration) with 3-fold CV once
and one ridge penalty for the Cox baselines (``CONFIG`` below), so the largest cohort fits the
time budget.

The bare fit is ``xgb.train`` with the same booster parameters on the same design matrix,
in this process: the ratio train / bare fit is everything mbcrisk adds around one fit
(it includes 3 fold fits + 1 final fit of the model and the baselines). The fold fits run in
worker processes, one per core (``cv.n_jobs = -1``, the default), so the memory a machine
needs is the sum over the train process and its workers: ``all_mib`` is the largest such sum,
sampled every 50 ms (a shorter peak can be missed; pages the processes share are counted in
each, so it errs high), next to ``peak_mib``, the largest single
process's exact peak.

Run: ``make bench`` or ``.venv/bin/python benchmarks/training_speed.py [--sizes 2000 20000]``.
Prints a table and writes ``bench-results/training_speed.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import xgboost as xgb
from _support import print_table, write_results

from features.cohorts import load_cohort
from features.design import build_design
from features.labels import relapse_labels
from models.estimators.risk import MIN_TIME_MONTHS, RiskModel

CONFIG = "[cv]\nn_splits = 3\nn_repeats = 1\n\n[model]\ncox_alphas = [10.0]\n"
MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))


def _tree_rss_mib(process: psutil.Process) -> float:
    """Resident memory (MiB) of ``process`` and all its descendants now."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:  # ended between the listing and the reading
            continue
    return total / 2**20


def _timed_process(command: list[str], cwd: Path,
                   env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds of ``command``, the largest single process's peak resident memory (MiB)
    and the largest sampled sum over the process and its workers (MiB); raises if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    watched, all_peak = psutil.Process(process.pid), 0.0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        try:
            all_peak = max(all_peak, _tree_rss_mib(watched))
        except psutil.NoSuchProcess:  # exited, not yet reaped
            pass
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    peak = usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux
    return elapsed, peak, max(all_peak, peak)


def _bare_fit_seconds(source: str) -> tuple[float, int, int]:
    """Seconds of one ``xgb.train`` on the cohort's relapse design; patients and features."""
    cohort, _ = load_cohort(source)
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin).to_numpy()
    time_months = np.maximum(labels.y["time_months"].to_numpy(dtype=float), MIN_TIME_MONTHS)
    label = np.where(labels.y["event"].to_numpy(dtype=bool), time_months, -time_months)
    model = RiskModel()
    started = time.perf_counter()
    xgb.train(model.booster_params(), xgb.DMatrix(X, label=label, missing=np.nan),
              num_boost_round=model.n_estimators)
    return time.perf_counter() - started, X.shape[0], X.shape[1]


def _cohorts(root: Path, sizes: list[int], env: dict[str, str]) -> list[tuple[str, str]]:
    cohorts = [("gbsg2", "gbsg2")]
    metabric = Path(os.environ.get("MBCRISK_DATA_DIR", "../shared/data")) / "brca_metabric"
    if metabric.is_dir():
        cohorts.append(("metabric", str(metabric.resolve())))
    else:
        print(f"METABRIC skipped: no study at {metabric} (set MBCRISK_DATA_DIR)")
    for n in sizes:
        folder = root / f"synthetic_{n}"
        seconds, _, _ = _timed_process([MBCRISK, "synth", "--n", str(n), "--seed", "0",
                                        "--out", str(folder)], root, env)
        print(f"synthetic {n:,}: generated and written in {seconds:.1f} s")
        cohorts.append((f"synthetic {n // 1000}k", str(folder)))
    return cohorts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-") as tmp:
        root = Path(tmp)
        (root / "bench.toml").write_text(CONFIG)
        env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true"}
        for name, source in _cohorts(root, args.sizes, env):
            run_env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{root / (name + '.db')}"}
            wall, peak, all_peak = _timed_process([MBCRISK, "train", "--cohort", source, "--config",
                                         "bench.toml", "--json"], root, run_env)
            bare, patients, features = _bare_fit_seconds(source)
            rows.append({"cohort": name, "patients": patients, "features": features,
                         "train_s": round(wall, 1), "peak_mib": round(peak),
                         "all_mib": round(all_peak),
                         "bare_fit_s": round(bare, 2), "ratio": round(wall / bare, 1)})
            print(f"{name}: train {wall:.1f} s, peak {peak:.0f} MiB (all processes "
                  f"{all_peak:.0f} MiB), bare fit {bare:.2f} s")
    print_table(rows, ["cohort", "patients", "features", "train_s", "peak_mib", "all_mib",
                       "bare_fit_s", "ratio"])
    write_results("training_speed", {"config": CONFIG, "rows": rows})


if __name__ == "__main__":
    main()
