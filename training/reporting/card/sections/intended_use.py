"""Intended use: purpose, users and what is out of scope."""

from __future__ import annotations

from training.reporting.card.context import CardContext


def intended_use(ctx: CardContext) -> str:
    what = {"relapse": "relapse risk over time from diagnosis (risk score and probability "
                       "of remaining relapse-free at each horizon)",
            "progression": "the risk of progression on the current metastatic line, from "
                           "its start (risk score and probability of remaining "
                           "progression-free at each horizon)"}.get(
        ctx.task, "the probability of primary resistance to the therapy class")
    return (
        "## Intended use\n\n"
        f"- **Purpose**: research and clinical decision support: estimates of {what} for "
        "breast cancer patients like those of the training cohort, with explanations.\n"
        "- **Users**: researchers comparing models on their cohorts; clinicians' "
        "applications through the mbcrisk API; reviewers deciding whether a version may be "
        "used.\n"
        "- **Out of scope**: being the sole basis of a treatment decision; patients unlike "
        "the training cohort (the API flags them); populations, panels or therapy classes "
        "the model was not trained on; any use before local validation.")
