"""How this version became the champion, from the tags ``mbcrisk promote`` set on it."""

from __future__ import annotations

import json
from typing import Any

from training.reporting.card.context import CardContext


def promotion(ctx: CardContext) -> str:
    """How this version became the champion, from the tags ``mbcrisk promote`` set on it
    (the gate's reasons, the new-cohort comparison, a user's acceptance and reason)."""
    tags = ctx.s.version.tags
    how = tags.get("mbcrisk.promotion")
    if how is None:
        return "## Promotion\n\nThis version has not been promoted by the gate."

    def tag(key: str, value: Any = None, fmt: str = "{}") -> str:
        return ctx.facts.add(tags[key] if value is None else value,
                              f"version_tag:{key}", fmt)

    lines = ["## Promotion", "", f"- How: {tag('mbcrisk.promotion')}; over version "
             f"{tag('mbcrisk.promoted_over')}."]
    reasons = json.loads(tags.get("mbcrisk.gate", "[]"))
    lines += [f"- Gate: {tag(f'mbcrisk.gate#{k}', r)}" for k, r in enumerate(reasons)]
    if "mbcrisk.new_cohort_comparison" in tags:
        data = json.loads(tags["mbcrisk.new_cohort_comparison"])
        key = "mbcrisk.new_cohort_comparison#"

        def number(path: str, value: float, fmt: str = "{:.4f}") -> str:
            return tag(key + path, value, fmt)

        difference = data["difference"]
        lines.append(
            f"- Compared on the challenger's cohort {tag(key + 'cohort', data['cohort'])} "
            f"over {tag(key + 'n_folds', data['n_folds'])} folds, the champion scored as "
            f"trained: {data['metric']} {number('challenger', data['challenger'])} (this "
            f"version) vs {number('champion', data['champion'])}; difference "
            f"{number('difference.mean', difference['mean'], '{:+.4f}')} (interval "
            f"{number('difference.ci_low', difference['ci_low'], '{:+.4f}')} to "
            f"{number('difference.ci_high', difference['ci_high'], '{:+.4f}')}).")
    if "mbcrisk.accepted_reason" in tags:
        lines.append("- **Accepted by the user** for a new cohort; reason given: "
                     f"{tag('mbcrisk.accepted_reason')}")
    return "\n".join(lines)
