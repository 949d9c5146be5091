"""What drives the predictions: mean absolute contributions per feature group."""

from __future__ import annotations

from training.reporting.card.context import CardContext


def drivers(ctx: CardContext) -> str:
    table = ctx.s.tables.get("explanations/importance_groups.csv")
    if table is None:
        return ""
    lines = ["## What drives the predictions", "",
             "Mean absolute contribution (exact TreeSHAP) per feature group, on the "
             "training patients:", "", "| group | mean contribution |", "| --- | --- |"]
    for i, row in table.head(10).iterrows():
        value = ctx.facts.add(row["mean_abs_contribution"],
                               f"artifact:explanations/importance_groups.csv#{i}", "{:.3f}")
        lines.append(f"| {row['group']} | {value} |")
    for name in ("explanations/importance_groups.png", "explanations/beeswarm.png"):
        if name in ctx.s.images:
            lines.append(f"\n![{name}]({name})")
    return "\n".join(lines)
