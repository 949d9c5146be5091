"""Model quality: the cross-validated table of the boosted model against its baselines.

``mbcrisk evaluate --json`` (default settings: 5-fold CV repeated 5 times, patient-grouped and
outcome-stratified, the same folds for every model) on GBSG2 relapse, METABRIC relapse and the
METABRIC endocrine-resistance proxy (METABRIC from ``MBCRISK_DATA_DIR``; skipped with a note
when absent). Each cell: mean [corrected 95% interval] over the folds. A second table gives the
model minus each other model on the primary metric (Harrell's C, AUROC), paired fold by fold
(above 0: the model ranks better).

Run: ``make bench`` or ``.venv/bin/python benchmarks/model_quality.py``.
Prints a table and writes ``bench-results/model_quality.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _support import print_table, write_results

from training.evaluation.cross_validation import PRIMARY_METRIC

MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))
METRICS = {"relapse": ("harrell_c", "uno_c", "ibs", "cal_slope_60"),
           "resistance": ("auroc", "auprc", "brier")}


def _evaluations() -> list[tuple[str, str, str]]:
    cases = [("gbsg2", "gbsg2", "relapse")]
    metabric = Path(os.environ.get("MBCRISK_DATA_DIR", "../shared/data")) / "brca_metabric"
    if metabric.is_dir():
        cases += [("metabric", str(metabric.resolve()), "relapse"),
                  ("metabric", str(metabric.resolve()), "resistance")]
    else:
        print(f"METABRIC skipped: no study at {metabric} (set MBCRISK_DATA_DIR)")
    return cases


def _cell(stat: dict | None) -> str:
    """mean [interval]; empty for a metric the model has not (Kaplan-Meier: IBS only)."""
    if stat is None:
        return ""
    mean, low, high = (float(stat[k]) for k in ("mean", "ci_low", "ci_high"))  # "nan": NaN
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def main() -> None:
    rows, raw, differences = [], [], []
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bench-") as tmp:
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{Path(tmp) / 'mlflow.db'}"}
        for name, source, task in _evaluations():
            result = subprocess.run([MBCRISK, "evaluate", "--cohort", source, "--task", task,
                                     "--json"], cwd=tmp, env=env, capture_output=True,
                                    text=True, check=True)
            evaluation = json.loads(result.stdout)
            raw.append({"cohort": name, "task": task, **evaluation})
            differences += [{"cohort": name, "task": task,
                             "difference": f"model - {other}",
                             evaluation["primary_metric"]: _cell(stat)}
                            for other, stat in evaluation["differences"].items()]
            for model, metrics in evaluation["metrics"].items():
                rows.append({"cohort": name, "task": task,
                             "patients/events": f"{evaluation['n_patients']}/"
                                                f"{evaluation['n_events']}",
                             "model": model}
                            | {m: _cell(metrics.get(m)) for m in METRICS[task]})
    for task, metrics in METRICS.items():
        chosen = [r for r in rows if r["task"] == task]
        if chosen:
            print_table(chosen, ["cohort", "patients/events", "model", *metrics])
    for metric in PRIMARY_METRIC.values():
        chosen = [r for r in differences if metric in r]
        if chosen:
            print_table(chosen, ["cohort", "task", "difference", metric])
    write_results("model_quality", raw)


if __name__ == "__main__":
    main()
