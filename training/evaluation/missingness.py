"""Does a feature's missingness alone predict the outcome? (CLINICAL.md: which panel or test a
patient had can track follow-up; such a feature can leak.)"""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import roc_auc_score

from features.labels import Labels
from training.evaluation.survival_metrics import harrell_c

#: Concordance of the missingness indicator with the outcome beyond which a feature is flagged.
FLAG_DISTANCE = 0.1


def informative_missingness(X: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """Per partly-missing feature: share missing and the concordance (Harrell's C, or AUROC) of
    "is missing" with the outcome; ``flagged`` where it is at least 0.1 from 0.5."""
    rows = []
    for column in X.columns:
        missing = X[column].isna().to_numpy(dtype=float)
        share = float(missing.mean())
        if share == 0.0 or share == 1.0:
            continue
        if labels.kind == "survival":
            score = harrell_c(labels.y["time_months"].to_numpy(),
                              labels.y["event"].to_numpy(dtype=bool), missing)
        else:
            score = float(roc_auc_score(labels.y["label"].to_numpy(), missing))
        rows.append({"feature": column, "share_missing": round(share, 4),
                     "concordance": round(score, 4),
                     "flagged": bool(abs(score - 0.5) >= FLAG_DISTANCE)})
    frame = pd.DataFrame(rows, columns=["feature", "share_missing", "concordance", "flagged"])
    return frame.sort_values("concordance", key=lambda c: -abs(c - 0.5)).reset_index(drop=True)
