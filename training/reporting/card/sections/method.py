"""The model and its validation: model type, hyperparameters, recalibration and the
cross-validation scheme."""

from __future__ import annotations

import math

from models.explanation.wording import feature_name
from training.reporting.card.context import CardContext
from training.reporting.card_source import FORMS_FILE

_FORM_WORDS = {"log": "as log(1 + x)", "quadratic": "with a quadratic term"}


def method(ctx: CardContext) -> str:
    if ctx.on_dask:
        model = ("gradient-boosted trees on the accelerated-failure-time loss (xgboost "
                 "`survival:aft`), trained with `xgboost.dask` on a Dask cluster of "
                 + ctx.facts.add(ctx.s.tags.get("mbcrisk.dask_workers"),
                                  "tag:mbcrisk.dask_workers")
                 + " workers; survival from the AFT distribution")
    elif ctx.survival:
        model = ("gradient-boosted trees on the Cox partial likelihood (xgboost "
                 "`survival:cox`), survival from a Breslow baseline hazard")
        if float(ctx.s.params.get("model.effective.blend_weight", 0)) > 0:
            model += (", the trees' log relative hazard blended with a ridge Cox model "
                      "on the clinical features (median-imputed with missing indicators, "
                      "adverse factors' coefficients never negative"
                      + linear_forms(ctx) + "), weight "
                      + ctx.param("model.effective.blend_weight")
                      + " on the Cox model; each feature's contribution adds both parts")
        until = float(ctx.s.params.get("model.effective.fit_until_months", "inf"))
        if math.isfinite(until):
            model += ("; the risk score is fitted to the first "
                      + ctx.facts.add(until, "param:model.effective.fit_until_months",
                                       "{:g}")
                      + " months of follow-up (later events censored there; the "
                      "baseline hazard uses the whole follow-up" + censoring_note(ctx, until)
                      + ")")
    else:
        model = "gradient-boosted trees (xgboost) with Platt-calibrated probabilities"
    params = {k.removeprefix("model.effective."): v for k, v in ctx.s.params.items()
              if k.startswith("model.effective.")}
    shown = ", ".join(f"{k} {ctx.param('model.effective.' + k)}" for k in sorted(params))
    if ctx.on_dask:
        validation = (
            f"- Validation: {ctx.param('cv.n_splits')}-fold cross-validation over the "
            "cohort's Parquet partitions (each holds whole patients, so folds are grouped "
            "by patient; not stratified; one repeat); the model, the same model on "
            "clinical features only (`aft_clinical`) and the Kaplan-Meier reference on the "
            "same folds; every fitted step fitted on training partitions only. Intervals: "
            "corrected resampled t (Nadeau and Bengio). The registered model is refitted "
            "on all partitions. This is internal validation only.")
    else:
        validation = (
            f"- Validation: {ctx.param('cv.n_repeats')} x {ctx.param('cv.n_splits')}-fold "
            "cross-validation, grouped by patient, stratified by outcome, seed "
            f"{ctx.param('cv.random_state')}; the model and every baseline on the same "
            "folds; every fitted step fitted on training folds only. Intervals: corrected "
            "resampled t (Nadeau and Bengio). The registered model is refitted on all "
            "patients. This is internal validation only.")
    defaults = ("- Defaults: the Cox model's tuned tree settings with a larger learning rate, "
                "not tuned for the AFT loss (docs/distributed.md).\n" if ctx.on_dask else
                "- Defaults chosen by nested cross-validation (docs/tuning.md), never on the "
                "evaluation's test folds.\n")
    return (f"## Model and validation\n\n- Model: {model}; hyperparameters: {shown}.\n"
            + recalibration(ctx) + defaults + validation)


def linear_forms(ctx: CardContext) -> str:
    """The blend's linear part's non-linear forms, from the run's ``linear_forms.json``
    (absent: a model trained before the forms, every feature linear)."""
    forms = ctx.s.json.get(FORMS_FILE)
    if not forms:
        return ""
    listed = "; ".join(
        f"{ctx.artifact(FORMS_FILE, f'{k}.feature', f['feature'], feature_name)} "
        f"{_FORM_WORDS.get(f['form'], f['form'])} "
        f"({ctx.artifact(FORMS_FILE, f'{k}.source', f['source'])})"
        for k, f in enumerate(forms))
    return "; forms other than linear: " + listed


def censoring_note(ctx: CardContext, until: float) -> str:
    """For the fitting horizon ``until`` (months): a note when no event of this cohort
    falls after it, so it changed nothing; empty otherwise (or for a run from before the
    cohort summary gave the last event)."""
    latest = ctx.summary.get("latest_event_months")
    if latest is None or latest > until:
        return ""
    return ("; this cohort's last event is at "
            + ctx.summary_value("latest_event_months", "{:.1f}")
            + " months, so here it censors none")


def recalibration(ctx: CardContext) -> str:
    """The registered survival model's recalibration (``model.recalibration.*`` params;
    absent for models without one)."""
    if "model.recalibration.status" not in ctx.s.params:
        return ""
    status = ctx.s.params["model.recalibration.status"]
    if status == "off":
        return "- Survival curves: not recalibrated (switched off: `recalibrate = false`).\n"
    method = (ctx.param("model.recalibration.inner_folds") + "-fold cross-validated "
              "scores inside the training data, with follow-up censored at "
              + ctx.param("model.recalibration.until_months") + " months")
    if status == "too few events":
        return ("- Survival curves: not recalibrated: too few events within the follow-up "
                "used (" + method + ") to estimate their slope.\n")
    if status == "not estimable":
        return ("- Survival curves: not recalibrated: the slope of the risk score in a Cox "
                "model of the outcome on " + method + " has no estimate inside the range "
                "searched.\n")
    estimate = (
        "the slope of the risk score in a Cox model of the outcome, estimated on " + method
        + ", is " + ctx.param("model.recalibration.slope") + " ("
        + ctx.param("model.recalibration.level_percent") + "% interval "
        + ctx.param("model.recalibration.ci_low") + " to "
        + ctx.param("model.recalibration.ci_high") + ")")
    if status == "not drifting":
        return ("- Survival curves: not recalibrated: " + estimate
                + ", an interval that includes 1.\n")
    return ("- Survival curves: recalibrated where they drift: " + estimate
            + ", so the curves use the risk score times "
            + ctx.param("model.recalibration.applied")
            + " (S(t) = exp(-H0(t) exp(slope x score)), Breslow's H0 refitted). The risk "
            "score, its ranking and its contributions are unchanged; probabilities and "
            "effects in percentage points follow the recalibrated curves.\n")
