"""Explaining 1,000 patients with mbcrisk versus xgboost's raw ``pred_contribs``.

Prints a table and writes ``bench-results/explain_speed.json``. Run: ``make bench`` or
``.venv/bin/python benchmarks/explain_speed.py [--patients 1000] [--repeats 20]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import xgboost as xgb

from features.design import build_design
from features.labels import relapse_labels, resistance_labels, survival_target
from features.synthetic import build_synthetic_cohort
from models.bundle import ModelBundle
from models.explain import explain
from models.factory import build_pipelines


def _bundle(task: str, cohort: object) -> tuple[ModelBundle, object]:
    labels = relapse_labels(cohort) if task == "relapse" else resistance_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    pipeline = build_pipelines(labels.kind, model_params={}, min_gene_frequency=0.02,
                               min_gene_count=5, cox_alphas=(1.0,), logistic_cs=(1.0,),
                               random_state=0)["model"]
    target = (labels.y["label"].to_numpy() if labels.kind == "binary" else
              survival_target(labels.y["time_months"].to_numpy(), labels.y["event"].to_numpy()))
    pipeline.fit(X, target)
    bundle = ModelBundle(task=labels.task, kind=labels.kind, pipeline=pipeline,
                         input_features=list(X.columns), label_definition="", origin="",
                         origin_sample_types=(), horizons_months=(12.0,), training_digest="",
                         cohort={}, explainer={"scale": "margin"})
    return bundle, X


def _best_of(repeats: int, work: object) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    cohort = build_synthetic_cohort(max(6000, args.patients * 3), 11)
    rows = []
    for task in ("relapse", "resistance"):
        bundle, X = _bundle(task, cohort)
        sample = X.iloc[np.resize(np.arange(len(X)), args.patients)]
        features = bundle.pipeline[:-1].transform(bundle.input_frame(sample)).to_numpy()
        booster = bundle.pipeline[-1].booster_
        names = booster.feature_names

        def raw(features: np.ndarray = features, booster: xgb.Booster = booster,
                names: list | None = names) -> None:
            booster.predict(xgb.DMatrix(features, missing=np.nan, feature_names=names),
                            pred_contribs=True)

        def ours(bundle: ModelBundle = bundle, sample: object = sample) -> None:
            explain(bundle, sample)

        raw(), ours()  # warm up
        raw_s, ours_s = _best_of(args.repeats, raw), _best_of(args.repeats, ours)
        rows.append({"task": task, "patients": args.patients, "features": features.shape[1],
                     "xgboost_pred_contribs_ms": round(raw_s * 1000, 2),
                     "mbcrisk_explain_ms": round(ours_s * 1000, 2),
                     "ratio": round(ours_s / raw_s, 3)})
    print(f"{'task':<12}{'patients':>9}{'features':>9}{'pred_contribs ms':>18}"
          f"{'explain ms':>12}{'ratio':>7}")
    for r in rows:
        print(f"{r['task']:<12}{r['patients']:>9}{r['features']:>9}"
              f"{r['xgboost_pred_contribs_ms']:>18}{r['mbcrisk_explain_ms']:>12}{r['ratio']:>7}")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "explain_speed.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
