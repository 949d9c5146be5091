"""Limitations and caveats."""

from __future__ import annotations

from training.reporting.card.context import CardContext


def limitations(ctx: CardContext) -> str:
    items = [
        "Internal validation only: performance in other hospitals, panels or eras is "
        "unknown until validated there.",
        "Predictions assume missing information is missing for the same reasons as in "
        "training.",
        "Treatment effects are not causal: the model predicts risk under the treatments "
        "patients received.",
    ]
    if ctx.labels.get("proxy"):
        items.append("The resistance label is a proxy (no therapy dates).")
    if ctx.s.tags.get("mbcrisk.synthetic") == "true":
        items.append("Trained on SYNTHETIC data: for demonstration and testing only.")
    return "## Limitations and caveats\n\n" + "\n".join(f"- {i}" for i in items)
