"""Performance of the model and baselines over the folds, and the paired differences."""

from __future__ import annotations

from models.estimators.factory import CLINICAL_ABLATION, SHORTCUT_BASELINE
from training.evaluation.shortcut import shortcut_is_clear, within_panel_metric
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
    lines.append(shortcut(ctx))
    return "\n".join(lines)


def shortcut(ctx: CardContext) -> str:
    """The shortcut check: the model on missingness alone, the model within panel strata, and
    what they say about the pooled figure (empty when the run has no shortcut model)."""
    key, label = PRIMARY.get(ctx.task, PRIMARY["default"])
    base = f"{SHORTCUT_BASELINE}.{key}"
    if f"{base}.mean" not in ctx.s.metrics:
        return ""
    kind = "survival" if ctx.survival else "binary"
    text = [f"\n**Shortcut check.** A linear model on missingness alone (which inputs are "
            f"unknown: the gene panel, the assay era) reaches {label} "
            f"{ctx.with_interval(base)}."]
    within = within_panel_metric(kind).removesuffix(".mean")
    if f"{within}.mean" in ctx.s.metrics:
        text.append(f"Within panel strata (each patient compared only with patients sequenced "
                    f"on the same panels) the model's {label} is {ctx.with_interval(within)}, "
                    f"beside {ctx.with_interval(f'model.{key}')} pooled.")
    if shortcut_is_clear(ctx.s.metrics, kind):
        limit = ctx.s.tags.get("mbcrisk.shortcut_limit")
        text.append("**The shortcut is clear** (the lower end of its interval is above "
                    + (ctx.facts.add(limit, "tag:mbcrisk.shortcut_limit") if limit
                       else "the limit of training/evaluation/shortcut.py")
                    + "): how patients were tested predicts the outcome by itself, so the "
                    "pooled figure overstates what the model knows about the patient. Read "
                    "the within-stratum figure; the promotion gate compares on it.")
    else:
        text.append("No clear shortcut: missingness alone does not predict the outcome beyond "
                    "chance by a margin that matters here.")
    return " ".join(text)


#: Compared models that are not baselines for use: the clinical-only ablation, the shortcut.
NOT_BASELINES = (CLINICAL_ABLATION, SHORTCUT_BASELINE)


def _reading(low: float, high: float) -> str:
    """What a paired difference's interval says, as shown (three decimals)."""
    if round(low, 3) > 0:
        return "the boosted model is better"
    if round(high, 3) < 0:
        return "the boosted model is worse"
    return "no difference shown (the interval includes zero)"


def baselines_above(ctx: CardContext) -> list[str]:
    """The baselines the boosted model is shown to be worse than on the primary metric (the
    paired difference's interval below zero, as shown), the clinical-only ablation aside."""
    key, _ = PRIMARY.get(ctx.task, PRIMARY["default"])
    prefix, suffix = "difference.model_minus_", f".{key}.ci_high"
    return sorted(name[len(prefix):-len(suffix)] for name, high in ctx.s.metrics.items()
                  if name.startswith(prefix) and name.endswith(suffix)
                  and name[len(prefix):-len(suffix)] not in NOT_BASELINES
                  and round(high, 3) < 0)


def differences(ctx: CardContext, models: list[str]) -> str:
    """The model minus each other model on the primary metric, paired by fold, each read by
    its interval; what the clinical-only ablation says about the genomic features; and, when
    the boosted model falls below a baseline, what that means for use."""
    key, label = PRIMARY.get(ctx.task, PRIMARY["default"])
    rows, lower_point = [], []
    below = [b for b in baselines_above(ctx) if b in models]
    for other in models[1:]:
        if other == SHORTCUT_BASELINE:
            continue  # not a model for use: read in the shortcut check
        base = f"difference.model_minus_{other}.{key}"
        if f"{base}.mean" not in ctx.s.metrics:
            continue
        low, high = ctx.s.metrics[f"{base}.ci_low"], ctx.s.metrics[f"{base}.ci_high"]
        reading = _reading(low, high)
        rows.append(f"| model minus {other} | {ctx.metric(base + '.mean', '{:+.3f}')} "
                    f"({ctx.metric(base + '.ci_low', '{:+.3f}')} to "
                    f"{ctx.metric(base + '.ci_high', '{:+.3f}')}) | {reading} |")
        if (other != "model_clinical" and not reading.endswith("worse")
                and ctx.s.metrics[f"{base}.mean"] < 0):
            lower_point.append(other)
    if not rows:
        return ""
    text = ["", f"Paired by fold (the same test patients), {label}: positive means the "
            "boosted model ranks patients better; a claim is made only where the interval "
            "excludes zero.", "", f"| comparison | {label} difference | reading |",
            "| --- | --- | --- |", *rows]
    if below:
        text.append(f"\n**The boosted model is below {', '.join(f'`{b}`' for b in below)}** "
                    "(interval below zero): on this cohort a simpler model ranks patients "
                    "better. Do not use this model where the baseline is available, and check "
                    "this before promoting it: the gate compares it with the champion, not "
                    "with the baselines.")
    elif lower_point:
        text.append(f"\nThe boosted model's estimate is below "
                    f"{', '.join(f'`{b}`' for b in lower_point)}, with an interval that "
                    "includes zero: it shows no advantage over the simpler model on this cohort.")
    ablation = f"difference.model_minus_model_clinical.{key}"
    if f"{ablation}.ci_low" in ctx.s.metrics:
        helps = round(ctx.s.metrics[f"{ablation}.ci_low"], 3) > 0
        text.append(
            "\n**Do the genomic features earn their place?** `model_clinical` is the same "
            "boosted model on the clinical features only, on the same folds. "
            + ("Its interval is above zero: the genomic features improve discrimination on "
               "this cohort." if helps else
               "Its interval includes zero or lies below it: no difference shown; on this "
               "cohort the genomic features do not measurably improve discrimination over "
               "the clinical features."))
    return "\n".join(text)
