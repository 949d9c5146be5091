"""A registered version's MLflow description: its card in a few lines (cohort, synthetic or
real data, the primary metric with its interval, calibration, any finding that limits use) and
where the card is, so the registry page a reviewer opens first says what the model is."""

from __future__ import annotations

import ast

from training.reporting.card.context import PRIMARY, CardContext
from training.reporting.card.sections.performance import baselines_above
from training.reporting.card_source import CardSource


def version_description(source: CardSource, card_uri: str) -> str:
    """Markdown for ``source``'s registered version, linking to its card at ``card_uri``."""
    ctx = CardContext(source)
    key, label = PRIMARY.get(ctx.task, PRIMARY["default"])
    summary = ctx.summary
    data = ("SYNTHETIC data (the generated demonstration cohort): not clinical evidence"
            if summary.get("synthetic") else "real data")
    lines = [
        f"**mbcrisk {ctx.task}**, trained on {summary.get('cohort') or 'an unnamed cohort'} "
        f"({data}); {summary.get('n_patients', '?')} patients, {summary.get('n_events', '?')} "
        "events.",
        f"- {label}: {ctx.with_interval(f'model.{key}')} (mean and interval over the "
        "cross-validation folds).",
        f"- Calibration: {_calibration(ctx)}.",
    ]
    below = baselines_above(ctx)
    if below:
        lines.append(f"- Below a simpler baseline ({', '.join(below)}): see the card before "
                     "any use.")
    if summary.get("proxy") or ctx.labels.get("proxy"):
        lines.append("- The label is a PROXY, not the clinical definition (see the card).")
    lines.append(f"- Model card: {card_uri}")
    return "\n".join(lines)


def _calibration(ctx: CardContext) -> str:
    if not ctx.survival:
        return f"slope {ctx.with_interval('model.cal_slope')} (ideal 1)"
    horizons = ast.literal_eval(ctx.s.params.get("evaluation.horizons_months", "[]"))
    shown = [h for h in horizons if f"model.cal_slope_{float(h):g}.mean" in ctx.s.metrics]
    if not shown:
        return "not computed"
    middle = float(shown[len(shown) // 2])
    return (f"slope {ctx.with_interval(f'model.cal_slope_{middle:g}')} at {middle:g} months "
            "(ideal 1)")
