"""Calibration at the horizons (survival) or overall (resistance)."""

from __future__ import annotations

import ast

from training.reporting.card.context import CardContext


def calibration(ctx: CardContext) -> str:
    lines = ["## Calibration"]
    if ctx.survival:
        served = ast.literal_eval(ctx.s.params["evaluation.horizons_months"])
        horizons = [f"{float(h):g}" for h in served
                    if f"model.cal_slope_{float(h):g}.mean" in ctx.s.metrics]
        level = ctx.param("evaluation.interval_level_percent")
        lines += ["", f"Mean and {level}% interval over folds; ideal slope 1, intercept 0, "
                  "observed / expected 1.", "",
                  "| horizon (months) | slope | intercept | observed / expected |",
                  "| --- | --- | --- | --- |"]
        for h in horizons:
            shown = ctx.facts.add(float(h), "param:evaluation.horizons_months", "{:g}")
            lines.append(f"| {shown} | "
                         f"{ctx.with_interval(f'model.cal_slope_{h}')} | "
                         f"{ctx.with_interval(f'model.cal_intercept_{h}')} | "
                         f"{ctx.with_interval(f'model.cal_oe_{h}')} |")
        images = ("plots/calibration_at_horizons.png", "plots/km_by_risk_group.png",
                  "plots/td_auc.png")
    else:
        lines.append(f"\nSlope {ctx.with_interval('model.cal_slope')}, intercept "
                     f"{ctx.with_interval('model.cal_intercept')} (ideal: 1 and 0; mean "
                     f"and {ctx.param('evaluation.interval_level_percent')}% interval "
                     "over folds).")
        images = ("plots/calibration_decision_curve.png", "plots/roc_pr.png")
    if "model.risk_group_cutpoints" in ctx.s.params:
        scale = "risk score" if ctx.survival else "probability of resistance"
        lines.append(f"\nRisk groups: the thirds of the training patients' out-of-fold "
                     f"{scale}, cut at {ctx.param_list('model.risk_group_cutpoints')} (low below "
                     "the first, high from the second). They are relative to this cohort, not "
                     "absolute levels: read a group beside the probabilities it comes with.")
    lines += [f"\n![{name}]({name})" for name in images if name in ctx.s.images]
    return "\n".join(lines)
