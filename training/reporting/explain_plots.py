"""Cohort views of an Explanation: importance tables and SHAP plots (PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from models.explanation.explain import Explanation  # noqa: E402
from models.explanation.wording import feature_name  # noqa: E402

if TYPE_CHECKING:
    import shap

TOP_DEPENDENCE = 3
#: The waterfall's one entry for the inputs the unknown-is-unknown rule averaged.
UNPROFILED_ENTRY = "unknown inputs, averaged"


def _shap(explanation: Explanation) -> object:
    import shap  # imported here: it takes seconds and only plots need it

    return shap.Explanation(values=explanation.contributions.to_numpy(),
                            base_values=explanation.base_value,
                            data=explanation.values.to_numpy(dtype=float),
                            feature_names=[feature_name(f) for f in
                                           explanation.contributions.columns])


def _save(path: Path, title: str) -> Path:
    plt.gcf().suptitle(title, fontsize=10)
    plt.tight_layout()
    plt.savefig(path, dpi=100)
    plt.close("all")
    return path


def write_cohort_views(explanation: Explanation, folder: Path, note: str = "") -> list[Path]:
    """Importance per feature and group (CSV), a beeswarm and dependence plots of the top
    features (PNG) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    scale = explanation.scale
    features = explanation.importance("feature").rename("mean_abs_contribution")
    groups = explanation.importance("group").rename("mean_abs_contribution")
    features.rename_axis("feature").reset_index().to_csv(folder / "importance_features.csv",
                                                         index=False)
    groups.rename_axis("group").reset_index().to_csv(folder / "importance_groups.csv",
                                                     index=False)
    paths = [folder / "importance_features.csv", folder / "importance_groups.csv"]
    import shap

    values = _shap(explanation)
    shap.plots.beeswarm(values, max_display=15, show=False)
    paths.append(_save(folder / "beeswarm.png", f"Contributions to the {scale}{note}"))
    fig, ax = plt.subplots(figsize=(6, 4))
    top_groups = groups.head(15)[::-1]
    ax.barh(top_groups.index, top_groups.to_numpy())
    ax.set_xlabel(f"mean |contribution| ({scale})")
    paths.append(_save(folder / "importance_groups.png", f"Importance by feature group{note}"))
    for rank, feature in enumerate(features.index[:TOP_DEPENDENCE], start=1):
        shap.plots.scatter(values[:, feature_name(feature)], show=False)
        paths.append(_save(folder / f"dependence_{rank}_{_safe(feature)}.png",
                           f"Dependence: {feature_name(feature)}{note}"))
    return paths


def waterfall_values(explanation: Explanation, row: int) -> shap.Explanation:
    """Patient ``row``'s contributions as a one-row ``shap.Explanation``: the patient's own
    inputs, and the inputs the unknown-is-unknown rule averaged (if any) as one entry, never
    shown as drivers one by one; base + values still sum to the margin."""
    import shap

    own = explanation.known(row)
    values = explanation.contribution_matrix[row][own]
    data = np.asarray(explanation.value_matrix[row], dtype=float)[own]
    names = [feature_name(n) for n, k in zip(explanation.features, own, strict=True) if k]
    if not own.all():
        names.append(f"{UNPROFILED_ENTRY} ({int((~own).sum())})")
        values = np.append(values, explanation.contribution_matrix[row][~own].sum())
        data = np.append(data, np.nan)
    return shap.Explanation(values=np.asarray(values, dtype=float),
                            base_values=float(explanation.base_value[row]), data=data,
                            feature_names=names)


def write_waterfall(explanation: Explanation, row: int, path: Path, note: str = "") -> Path:
    """A waterfall plot of one patient's contributions (:func:`waterfall_values`)."""
    import shap

    path.parent.mkdir(parents=True, exist_ok=True)
    shap.plots.waterfall(waterfall_values(explanation, row), max_display=12, show=False)
    return _save(path, f"One patient's contributions to the {explanation.scale}{note}")


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)


def highest_risk_row(explanation: Explanation) -> int:
    """Row of the patient with the largest margin (an example worth a waterfall)."""
    return int(np.argmax(explanation.margin))
