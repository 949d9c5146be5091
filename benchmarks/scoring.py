"""Batch scoring and explanation: patients per second of mbcrisk's ``predict`` and ``explain``
on 1k and 100k patients, next to xgboost's raw ``predict`` and ``pred_contribs`` on the same
matrix.

Models: the default relapse and endocrine-resistance models fitted on a synthetic cohort of
6,000 patients (:func:`tests.support.quick_bundle.fit_bundle`); patients to score: the design
rows of a second synthetic cohort (seed 11), repeated up to the size. mbcrisk's ``predict`` is
:func:`models.scoring.predict` (preprocessing, margin, survival probabilities or calibrated
probability, risk groups); ``explain`` is :func:`models.scoring.explain_rows` plus the
grouped contributions. Times are the median of ``--repeats`` runs after a warm-up.

Run: ``make bench`` or ``.venv/bin/python benchmarks/scoring.py [--sizes 1000 100000]``.
Prints a table and writes ``bench-results/scoring.json``.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import xgboost as xgb
from _support import median_seconds, print_table, write_results

from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import labels_for_task
from models.bundles.bundle import ModelBundle
from models.scoring import explain_rows, predict
from tests.support.quick_bundle import TASK_NAMES, fit_bundle


def _rates(bundle: ModelBundle, X: pd.DataFrame, repeats: int,
           ) -> tuple[dict[str, float], int]:
    """Patients per second of each way of scoring ``X``; the model's feature count."""
    booster = bundle.pipeline[-1].booster_
    matrix = bundle.pipeline[:-1].transform(bundle.input_frame(X)).to_numpy()

    def dmatrix() -> xgb.DMatrix:
        return xgb.DMatrix(matrix, missing=np.nan, feature_names=booster.feature_names)

    work = {
        "xgb_predict": lambda: booster.predict(dmatrix(), output_margin=True),
        "mbcrisk_predict": lambda: predict(bundle, X),
        "xgb_pred_contribs": lambda: booster.predict(dmatrix(), pred_contribs=True),
        "mbcrisk_explain": lambda: explain_rows(bundle, X)[1].grouped,
    }
    rates = {name: len(X) / median_seconds(repeats, fn) for name, fn in work.items()}
    return rates, matrix.shape[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    training, scored = build_synthetic_cohort(6000, 3), build_synthetic_cohort(6000, 11)
    rows = []
    for task in ("relapse", "resistance"):
        bundle, _, _ = fit_bundle(training, task)
        design = build_design(scored, labels_for_task(scored, TASK_NAMES[task]).time_origin)
        for n in args.sizes:
            X = design.iloc[np.resize(np.arange(len(design)), n)]
            rate, n_features = _rates(bundle, X, args.repeats)
            rows.append({"task": task, "patients": n, "features": n_features}
                        | {f"{k}_per_s": round(v) for k, v in rate.items()}
                        | {"predict_ratio": round(rate["xgb_predict"] / rate["mbcrisk_predict"],
                                                  2),
                           "explain_ratio": round(rate["xgb_pred_contribs"]
                                                  / rate["mbcrisk_explain"], 2)})
    print_table(rows, list(rows[0]))
    print("ratio: how many times slower than xgboost alone (1.0 = no overhead)")
    write_results("scoring", rows)


if __name__ == "__main__":
    main()
