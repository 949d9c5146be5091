"""The training data (Table 1): cohort, sizes, subtypes, exclusions and missing values."""

from __future__ import annotations

from models.bundles.bundle import LEARNED_SHARE
from models.explanation.wording import feature_name
from training.reporting.card.context import CardContext


def training_data(ctx: CardContext) -> str:
    summary = ctx.summary
    title = (ctx.summary_value("title") if summary.get("title")
             else ctx.summary_value("cohort"))
    lines = ["## Training data (Table 1)", "",
             f"- Cohort: {title}"
             + (" (SYNTHETIC)" if summary.get("synthetic") else ""),
             f"- Patients in this task: {ctx.summary_value('n_patients')}; events: "
             f"{ctx.summary_value('n_events')}",
             "- Median observed time (events and censored): "
             f"{ctx.summary_value('median_follow_up_months', '{:.1f}')} months"]
    size = summary.get("sample_size")
    if size:  # runs from before the sample-size check have none
        lines.append(
            "- Events per candidate feature: "
            f"{ctx.summary_value('sample_size.events_per_variable', '{:.1f}')} ("
            f"{ctx.summary_value('sample_size.events')} events for "
            f"{ctx.summary_value('sample_size.candidate_features')} candidate features)"
            + (f"; **a small cohort** (below "
               f"{ctx.summary_value('sample_size.threshold', '{:g}')})"
               if size["small_cohort"] else "")
            + ("; the boosted model used its regularised defaults (fewer, shallower trees; "
               "more weight on the penalised Cox part)" if size.get("regularised") else ""))
    ages = summary.get("age_years", {})
    if ages:
        lines.append(f"- Age (years): median {ctx.summary_value('age_years.50%', '{:.1f}')}"
                     f", range {ctx.summary_value('age_years.min', '{:.1f}')} to "
                     f"{ctx.summary_value('age_years.max', '{:.1f}')}")
    lines += ["", "| receptor subtype | patients |", "| --- | --- |"]
    for subtype in summary.get("receptor_subtype", {}):
        lines.append(f"| {subtype} | {ctx.summary_value(f'receptor_subtype.{subtype}')} |")
    lines += ["", "**Exclusions** (every patient or record left out, with the reason):", ""]
    rows = []
    for k, row in enumerate(ctx.labels.get("exclusions", [])):
        count = ctx.artifact("labels.json", f"exclusions.{k}.count", row["count"])
        reason = ctx.artifact("labels.json", f"exclusions.{k}.reason", row["reason"])
        rows.append(f"| task labels | {reason} | {count} |")
    later = ctx.labels.get("samples_not_used", 0)
    if later:
        count = ctx.artifact("labels.json", "samples_not_used", later)
        rows.append(f"| task labels | samples of the labelled patients taken after the origin "
                    f"(or of a type the origin does not use): not used for features, the "
                    f"leakage rule | {count} |")
    report = ctx.s.json.get("load_report.json", {})
    for k, row in enumerate(report.get("excluded", [])):
        count = ctx.artifact("load_report.json", f"excluded.{k}.count", row["count"])
        reason = ctx.artifact("load_report.json", f"excluded.{k}.reason", row["reason"])
        rows.append(f"| loading ({row['table']}) | {reason} | {count} |")
    if rows:
        lines += ["| step | reason | count |", "| --- | --- | --- |", *rows]
    else:
        lines.append("None: every patient of the cohort with the endpoint was used.")
    lines += _actionability(ctx)
    missing = {k: v for k, v in summary.get("missing_share", {}).items() if v > 0}
    if missing:
        lines += ["", "**Missing values per predictor** (share of patients; genes off a "
                  "sample's panel are missing, not wild type):", "",
                  "| predictor | missing |", "| --- | --- |"]
        for name in sorted(missing, key=lambda n: -missing[n])[:25]:
            share = ctx.summary_value(f"missing_share.{name}", "{:.1%}")
            flag = (" **(nearly always missing: the model can hardly have learned from it, "
                    "and the API does not ask for it)**"
                    if missing[name] > 1.0 - LEARNED_SHARE else "")
            lines.append(f"| {feature_name(name)} | {share}{flag} |")
        if len(missing) > 25:
            lines.append("| (further predictors: cohort_summary.json of the run) | |")
    return "\n".join(lines)


def _actionability(ctx: CardContext) -> list[str]:
    """The training cohort's share of metastatic patients with an ESCAT tier I or II finding
    (docs/actionability.md), said as not comparable on an early-disease cohort."""
    view = ctx.summary.get("actionability")
    if not view:  # runs before the table, and Dask runs (no whole cohort in one place)
        return ["", "**Actionability**: not computed for this run."]
    version = ctx.summary_value("actionability.table_version")
    if view["share"] is None:
        return ["", f"**Actionability** ({version}): {ctx.summary_value('actionability.note')}"]
    return ["", f"**Actionability** ({version}): "
            f"{ctx.summary_value('actionability.with_tier_i_or_ii')} of "
            f"{ctx.summary_value('actionability.metastatic_patients')} metastatic patients "
            f"({ctx.summary_value('actionability.share', '{:.0%}')}) have an ESCAT tier I or "
            f"II finding; {ctx.summary_value('actionability.note')}. Evidence levels, not "
            "recommendations; BRCA1/2 and PALB2 mutations hold no tier without their origin."]
