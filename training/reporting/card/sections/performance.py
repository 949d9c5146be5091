"""Performance of the model and baselines over the folds, and the paired differences."""

from __future__ import annotations

from training.reporting.card.context import BINARY_METRICS, PRIMARY, SURVIVAL_METRICS, CardContext


def performance(ctx: CardContext) -> str:
    metrics = SURVIVAL_METRICS if ctx.survival else BINARY_METRICS
    candidates = (("model", "model_clinical", "cox_clinical", "cox_all", "cox_markers",
                   "aft_clinical", "kaplan_meier") if ctx.survival
                  else ("model", "model_clinical", "logistic_clinical", "logistic_all",
                        "logistic_markers"))
    models = [m for m in candidates
              if any(f"{m}.{key}.mean" in ctx.s.metrics for key, _ in metrics)]
    header = "| model | " + " | ".join(label for _, label in metrics) + " |"
    level = ctx.param("evaluation.interval_level_percent")
    lines = [f"## Performance (mean and {level}% interval over folds)", "", header,
             "| --- |" + " --- |" * len(metrics)]
    for model in models:
        cells = []
        for key, _ in metrics:
            base = f"{model}.{key}"
            if f"{base}.mean" not in ctx.s.metrics:
                cells.append("")
                continue
            cells.append(ctx.with_interval(base))
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    if ctx.survival:
        lines.append("\nUno's C truncation time: "
                     + ctx.param("evaluation.tau_effective_months") + " months. "
                     "`kaplan_meier` is the no-covariate reference for the Brier score.")
    lines.append(differences(ctx, models))
    return "\n".join(lines)


def differences(ctx: CardContext, models: list[str]) -> str:
    """The model minus each other model on the primary metric, paired by fold, and what
    the clinical-only ablation says about the genomic features."""
    key, label = PRIMARY.get(ctx.task, PRIMARY["default"])
    rows = []
    for other in models[1:]:
        base = f"difference.model_minus_{other}.{key}"
        if f"{base}.mean" in ctx.s.metrics:
            rows.append(f"| model minus {other} | {ctx.metric(base + '.mean', '{:+.3f}')} "
                        f"({ctx.metric(base + '.ci_low', '{:+.3f}')} to "
                        f"{ctx.metric(base + '.ci_high', '{:+.3f}')}) |")
    if not rows:
        return ""
    text = ["", f"Paired by fold (the same test patients), {label}: positive means the "
            "boosted model ranks patients better.", "", f"| comparison | {label} "
            "difference |", "| --- | --- |", *rows]
    ablation = f"difference.model_minus_model_clinical.{key}"
    if f"{ablation}.ci_low" in ctx.s.metrics:
        helps = ctx.s.metrics[f"{ablation}.ci_low"] > 0
        text.append(
            "\n**Do the genomic features earn their place?** `model_clinical` is the same "
            "boosted model on the clinical features only, on the same folds. "
            + ("Its interval is above zero: the genomic features improve discrimination on "
               "this cohort." if helps else
               "Its interval includes zero or lies below it: on this cohort the genomic "
               "features do not measurably improve discrimination over the clinical "
               "features."))
    return "\n".join(text)
