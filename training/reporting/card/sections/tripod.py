"""The TRIPOD+AI items the card covers, and those left to the study team."""

from __future__ import annotations

from training.reporting.card.context import CardContext


def tripod(ctx: CardContext) -> str:
    covered = [("title and intended use", "Model card title, Intended use"),
               ("data sources and dates", "Training data; Model details (run date)"),
               ("setting and eligibility", "Training data (exclusions)"),
               ("treatments received", "Predictors"),
               ("outcome definition and horizon", "Outcome"),
               ("predictors and their handling", "Predictors"),
               ("missing data", "Training data (missing values)"),
               ("sample size and events", "Training data"),
               ("model type and tuning", "Model and validation"),
               ("performance measures with uncertainty", "Performance"),
               ("calibration", "Calibration"),
               ("subgroup and fairness results", "Subgroups and fairness"),
               ("intended users", "Intended use"),
               ("limitations", "Limitations and caveats")]
    open_items = ["study dates and data collection periods", "ethics approval and consent",
                  "funding and conflicts of interest", "patient and public involvement",
                  "protocol and registration", "data and code availability statement",
                  "external validation", "clinical usefulness beyond decision curves",
                  "plans for monitoring and updating"]
    lines = ["## TRIPOD+AI items", "", "| item | where in this card |", "| --- | --- |"]
    lines += [f"| {item} | {where} |" for item, where in covered]
    lines += ["", "Not covered by a generated card (to be filled by the study team): "
              + "; ".join(open_items) + "."]
    return "\n".join(lines)
