"""Explanations of a registered model on a whole cohort (importances and plots) or for one
patient (grouped drivers, worded, with a waterfall plot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features.cohorts.sources import load_cohort
from features.design import build_design, protein_changes
from features.labels import labels_for_task
from models.explanation.explain import top_contributions, top_groups, unprofiled_summary
from models.loading import load_registered_bundle
from models.scoring import explain_rows
from training.reporting.explain_plots import write_cohort_views, write_waterfall

#: Drivers listed for one patient.
TOP = 8


def explain_registered(reference: str, source: str, patient: str | None,
                       out: Path) -> dict[str, Any]:
    """Explain model ``reference`` (NAME, NAME@alias or NAME/version) on cohort ``source``:
    for ``patient``, its prediction and top drivers, the answer the API and ``mbcrisk predict``
    give (unknown gene-level inputs averaged by the unknown-is-unknown rule,
    :mod:`models.domain.unprofiled`, and reported apart, never as drivers); else the cohort's mean
    absolute contributions on the same path. Plots
    go to ``out``. ValueError for a patient not in the task."""
    registered = load_registered_bundle(reference)
    bundle = registered.bundle
    cohort, _ = load_cohort(source)
    origin = labels_for_task(cohort, bundle.task).time_origin
    X = build_design(cohort, origin)
    absent = [c for c in bundle.input_features if c not in X.columns]
    note = " (SYNTHETIC data)" if cohort.synthetic else ""
    model = {"name": registered.name, "version": registered.version,
             "alias": registered.alias, "run_id": registered.run_id}
    if patient is None:
        _, explanation, gap = explain_rows(bundle, X)
        write_cohort_views(explanation, out, note)
        return {"model": model, "n_patients": len(X), "scale": explanation.scale,
                "importance_groups": explanation.importance("group").round(6).to_dict(),
                "importance_features": explanation.importance("feature").head(30)
                .round(6).to_dict(), "additivity_gap": gap,
                "inputs_not_in_cohort": len(absent), "files": str(out)}
    if patient not in X.index:
        raise ValueError(f"patient {patient!r} is not among the {len(X)} patients of "
                         f"task {bundle.task} in this cohort")
    one = X.loc[[patient]]
    scores, explanation, gap = explain_rows(bundle, one)
    details = protein_changes(cohort, origin).get(patient, {})
    write_waterfall(explanation, 0, out / f"waterfall_{_safe(patient)}.png", note)
    return {"model": model, "patient_id": patient, "scale": explanation.scale,
            "base_value": float(explanation.base_value[0]),
            "margin": float(explanation.margin[0]),
            "prediction": scores.frame(one.index).iloc[0].to_dict(),
            "groups": top_groups(explanation, 0, TOP, details),
            "features": top_contributions(explanation, 0, TOP, details),
            "unprofiled": unprofiled_summary(explanation, 0),
            "additivity_gap": gap, "inputs_not_in_cohort": len(absent)}


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)
