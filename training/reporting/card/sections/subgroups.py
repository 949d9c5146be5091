"""Subgroup results and the fairness statement."""

from __future__ import annotations

from training.reporting.card.context import PRIMARY, CardContext


def subgroups(ctx: CardContext) -> str:
    table = ctx.s.tables.get("subgroup_metrics.csv")
    key, label = PRIMARY.get(ctx.task, PRIMARY["default"])
    if table is None or table.empty:
        return "## Subgroups\n\nNo subgroup was large enough to report."
    overall = ctx.s.metrics[f"model.{key}.mean"]
    threshold = float(ctx.s.params["evaluation.fairness_drop"])
    rows = table[table["model"] == "model"]
    lines = ["## Subgroups and fairness", "",
             f"{label} of the model on pooled out-of-fold predictions (mean over repeats).",
             "", "| factor | level | patients | events | " + label + " | flag |",
             "| --- | --- | --- | --- | --- | --- |"]
    flagged = []
    for i, row in rows.iterrows():
        where = f"subgroup_metrics.csv#{i}"
        drop = row["mean"] < overall - threshold
        if drop:
            flagged.append(f"{row['factor']}={row['level']}")
        lines.append(f"| {row['factor']} | {row['level']} | "
                     f"{ctx.facts.add(int(row['n']), f'artifact:{where}.n')} | "
                     f"{ctx.facts.add(int(row['n_events']), f'artifact:{where}.n_events')}"
                     f" | {ctx.facts.add(row['mean'], f'artifact:{where}.mean', '{:.3f}')}"
                     f" | {'lower' if drop else ''} |")
    shown = ctx.param("evaluation.fairness_drop")
    statement = (f"Performance is lower (by more than {shown} below the overall "
                 f"{ctx.metric(f'model.{key}.mean')}) in: {', '.join(flagged)}. Use with "
                 "extra care there." if flagged else
                 f"No reported subgroup falls more than {shown} below the overall {label} "
                 f"({ctx.metric(f'model.{key}.mean')}).")
    lines += ["", "**Fairness statement.** " + statement]
    return "\n".join(lines)
