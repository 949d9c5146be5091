"""The outcome: definition, time origin and horizons."""

from __future__ import annotations

from training.reporting.card.context import CardContext


def outcome(ctx: CardContext) -> str:
    text = [f"## Outcome\n\n- Definition: {ctx.labels.get('definition', '')}",
            f"- Time origin: {ctx.labels.get('origin', '')}"]
    if ctx.labels.get("horizon_months"):
        text.append("- Horizon: "
                    + ctx.artifact("labels.json", "horizon_months",
                                    ctx.labels["horizon_months"], "{:g}") + " months")
    if ctx.survival:
        text.append("- Horizons for probabilities and calibration: "
                    + ctx.param_list("evaluation.horizons_months") + " months")
    if ctx.labels.get("proxy"):
        text.append("- **Caveat: this is a PROXY label**, not the ESO-ESMO ABC definition: "
                    "the cohort has no therapy dates, so relapse within the horizon among "
                    "ER-positive patients who received endocrine therapy stands in for "
                    "primary endocrine resistance.")
    return "\n".join(text)
