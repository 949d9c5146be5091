"""The shift report: how a scored cohort differs from the model's training patients, feature by
feature (model features, as the model sees them before the unknown-is-unknown rule).

- continuous features: the standardised mean difference (scored minus training, over the
  pooled standard deviation of the two);
- indicators (every known value 0 or 1 in both): the prevalence difference, and its
  standardised form ``(p1 - p0) / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)`` (Austin, 2009);
- both: the change in the share of patients whose value is unknown.

Features are ranked by the larger of |standardised difference| and |missingness change|, most
shifted first. A standardised difference above 0.1 is the usual mark of an imbalance worth a
look; the report states figures, not verdicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.domain.moments import FeatureMoments

#: |standardised difference| above which a feature is commonly called imbalanced.
NOTABLE_DIFFERENCE = 0.1


def shift_report(training: FeatureMoments, scored: FeatureMoments) -> list[dict[str, Any]]:
    """One record per feature, most shifted first (see the module docstring)."""
    if training.features != scored.features:
        raise ValueError("the scored cohort's moments are not of the model's features")
    indicator = training.binary & scored.binary
    p0, p1 = training.mean, scored.mean
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled_continuous = np.sqrt((training.sd ** 2 + scored.sd ** 2) / 2.0)
        pooled_indicator = np.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / 2.0)
        pooled = np.where(indicator, pooled_indicator, pooled_continuous)
        standardised = np.where(pooled > 0, (p1 - p0) / pooled,
                                np.where(p1 == p0, 0.0, np.nan))
    missing_change = scored.missing_share - training.missing_share
    strength = np.maximum(np.nan_to_num(np.abs(standardised), nan=0.0), np.abs(missing_change))
    records = []
    for j in np.argsort(-strength, kind="stable"):
        record = {
            "feature": training.features[j],
            "kind": "indicator" if indicator[j] else "continuous",
            "training_mean": _round(p0[j]), "cohort_mean": _round(p1[j]),
            "standardised_difference": _round(standardised[j]),
            "training_missing_share": _round(training.missing_share[j]),
            "cohort_missing_share": _round(scored.missing_share[j]),
            "missingness_change": _round(missing_change[j]),
        }
        if indicator[j]:
            record["prevalence_difference"] = _round(p1[j] - p0[j])
        records.append(record)
    return records


def _round(value: float) -> float | None:
    """JSON-ready: rounded to 4 decimals, None for an undefined figure."""
    return None if not np.isfinite(value) else round(float(value), 4)
