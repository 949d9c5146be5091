"""Small treated cohorts: the boosted model against its marker baseline on a 300-patient draw.

A synthetic draw of 300 patients (seed 3), 5 x 5 cross-validation with the same folds for every
model: progression on a line (Harrell's C) and endocrine resistance (AUROC), each with the
ordinary defaults and with the small-cohort defaults of :mod:`training.sample_size`; for
resistance also the regularised variants tried before the classifier was left with its
defaults. Beside each: the linear model on the clinical features and the known resistance
markers (``cox_markers``, ``logistic_markers``) and the model minus it, paired by fold.

Run: ``make bench`` or ``.venv/bin/python benchmarks/small_cohort.py``.
Prints a table and writes ``bench-results/small_cohort.json``.
"""

from __future__ import annotations

import pandas as pd
from _support import print_table, write_results

from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import labels_for_task
from training import sample_size as sizes
from training.config import load_config
from training.evaluation.cross_validation import evaluate
from training.train import _pipelines

N_PATIENTS, SEED = 300, 3
#: Regularised variants of the resistance classifier (none beat its defaults).
BINARY_VARIANTS = (
    {"n_estimators": 50, "max_depth": 1, "min_child_weight": 10.0},
    {"n_estimators": 100, "max_depth": 1, "min_child_weight": 1.0},
    {"n_estimators": 50, "max_depth": 2, "min_child_weight": 2.0},
)
TASKS = {"progression": {"task": "progression"},
         "resistance_endocrine": {"task": "resistance", "therapy": "endocrine"}}


def run(task: str, setting: str, params: dict | None) -> dict:
    cohort = build_synthetic_cohort(N_PATIENTS, SEED)
    labels = labels_for_task(cohort, task)
    X = build_design(cohort, labels.time_origin)
    size = sizes.sample_size(labels, X)
    config = load_config(None, **TASKS[task])
    if params is not None:
        sizes.SMALL_COHORT_PARAMS[labels.kind] = params
    pipelines = _pipelines(labels, config, size=size if setting != "defaults" else None)
    result = evaluate(X, labels, pipelines, config, pd.DataFrame(index=X.index))
    metric = "harrell_c" if labels.kind == "survival" else "auroc"
    baseline = "cox_markers" if labels.kind == "survival" else "logistic_markers"
    difference = result.differences[baseline]
    return {"task": task, "setting": setting, "events_per_variable":
            round(size.events_per_variable, 2), "model": round(
                result.summary["model"][metric].mean, 3),
            baseline.split("_")[0] + "_markers": round(result.summary[baseline][metric].mean, 3),
            "model - markers": f"{difference.mean:+.3f} [{difference.ci_low:+.3f}, "
                               f"{difference.ci_high:+.3f}]"}


def main() -> None:
    survival = dict(sizes.SMALL_COHORT_PARAMS["survival"])
    rows = [run("progression", "defaults", None),
            run("progression", f"small-cohort {survival}", survival),
            run("resistance_endocrine", "defaults", None)]
    rows += [run("resistance_endocrine", f"variant {params}", params)
             for params in BINARY_VARIANTS]
    columns = ["task", "setting", "events_per_variable", "model", "cox_markers",
               "logistic_markers", "model - markers"]
    print_table([{c: row.get(c, "") for c in columns} for row in rows], columns)
    write_results("small_cohort", rows)


if __name__ == "__main__":
    main()
