"""Explanations: exact TreeSHAP contributions of every feature to a patient's margin.

One path: the bundle's own fitted pipeline selects the features and its booster computes the
contributions (xgboost ``pred_contribs``, TreeSHAP), so what is explained is what is predicted.
The margin is the relapse model's risk score (its ``risk_scale``: log relative hazard for the
Cox model, minus log relapse-free time for the AFT model) or the log odds before calibration
(resistance); ``base + sum(contributions) = margin`` exactly (checked to 1e-5).

Why xgboost's ``pred_contribs`` rather than ``shap.TreeExplainer``: on shap 0.51 the explainer's
``expected_value`` read before the first ``shap_values`` call is wrong for xgboost Cox models;
xgboost gives identical contributions with the right bias term (``tests/models`` checks both).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from models.bundle import ModelBundle

ADDITIVITY_TOLERANCE = 1e-5


class AdditivityError(ValueError):
    """Contributions do not add up to the model's margin."""


@dataclass
class Explanation:
    """Per patient (rows) contributions to the margin, per feature and per feature group.

    ``values`` holds the patients' model-input values (NaN = unknown), for wording; ``groups``
    maps each feature to its group. Positive contributions raise the risk.
    """

    contributions: pd.DataFrame
    base_value: np.ndarray
    values: pd.DataFrame
    groups: dict[str, str]
    scale: str
    bundle: ModelBundle

    @property
    def margin(self) -> np.ndarray:
        """base + sum of contributions: the model's margin for each patient."""
        return self.base_value + self.contributions.to_numpy().sum(axis=1)

    @cached_property
    def grouped(self) -> pd.DataFrame:
        """Contributions summed per feature group (patients x groups)."""
        names = list(self.contributions.columns)
        group_names = sorted({self.groups[n] for n in names})
        membership = np.zeros((len(names), len(group_names)))
        position = {g: k for k, g in enumerate(group_names)}
        for i, name in enumerate(names):
            membership[i, position[self.groups[name]]] = 1.0
        return pd.DataFrame(self.contributions.to_numpy() @ membership,
                            index=self.contributions.index, columns=group_names)

    def importance(self, by: str = "feature") -> pd.Series:
        """Mean absolute contribution per feature (``by="feature"``) or group, largest first."""
        table = self.contributions if by == "feature" else self.grouped
        return table.abs().mean().sort_values(ascending=False)

    @cached_property
    def default_survival_effect(self) -> pd.DataFrame:
        """:meth:`survival_effect` at the bundle's horizons, computed once."""
        return self.survival_effect()

    def survival_effect(self, horizons_months: tuple[float, ...] | None = None) -> pd.DataFrame:
        """Relapse only: for each patient, group and horizon, the change in S(t) (percentage
        points) that the group causes: S(t | margin) - S(t | margin - group contribution).
        Negative means the group lowers the chance of staying relapse-free. Long format."""
        if self.bundle.kind != "survival":
            raise ValueError("survival effects exist only for the relapse model")
        horizons = np.asarray(horizons_months or self.bundle.horizons_months, dtype=float)
        baseline = self.bundle.pipeline[-1].baseline_
        margin = self.margin
        grouped = self.grouped.to_numpy()
        n_patients, n_groups = grouped.shape
        with_all = baseline.survival(margin, horizons)[:, None, :]
        without = baseline.survival((margin[:, None] - grouped).ravel(), horizons).reshape(
            n_patients, n_groups, len(horizons))
        effect = 100.0 * (with_all - without)
        index = pd.MultiIndex.from_product(
            [self.contributions.index, self.grouped.columns],
            names=[self.contributions.index.name, "group"])
        return pd.DataFrame(effect.reshape(n_patients * n_groups, len(horizons)), index=index,
                            columns=pd.Index([f"{h:g}" for h in horizons],
                                             name="horizon_months"))


def explain(bundle: ModelBundle, X: pd.DataFrame) -> Explanation:
    """Explain the bundle's predictions for the design rows ``X`` (raw design columns)."""
    features = bundle.pipeline[:-1].transform(bundle.input_frame(X))
    raw = bundle.pipeline[-1].contributions(features)
    contributions = pd.DataFrame(raw[:, :-1], index=X.index, columns=list(features.columns))
    return Explanation(contributions=contributions, base_value=raw[:, -1].astype(float),
                       values=features, groups=bundle.feature_groups,
                       scale=bundle.explainer.get("scale", ""), bundle=bundle)


def check_additivity(explanation: Explanation) -> float:
    """Largest |base + sum(contributions) - margin| against an independent prediction of the
    margin; raises AdditivityError above 1e-5."""
    bundle = explanation.bundle
    features = explanation.values
    model = bundle.pipeline[-1]
    margin = model.predict(features) if bundle.kind == "survival" else model.predict_margin(
        features)
    gap = float(np.max(np.abs(explanation.margin - np.asarray(margin, dtype=float)),
                       initial=0.0))
    if gap > ADDITIVITY_TOLERANCE:
        raise AdditivityError(f"contributions miss the margin by {gap:.2e} "
                              f"(tolerance {ADDITIVITY_TOLERANCE})")
    return gap


def top_contributions(explanation: Explanation, row: int, k: int = 5,
                      details: dict[str, str] | None = None) -> list[dict[str, object]]:
    """The ``k`` largest contributions of patient ``row`` as readable records:
    ``{feature, group, value_shown, contribution, direction, sentence}``."""
    from models.wording import direction, sentence, value_shown

    contributions = explanation.contributions.iloc[row]
    order = contributions.abs().sort_values(ascending=False).index[:k]
    records = []
    for feature in order:
        shown = value_shown(feature, float(explanation.values.iloc[row][feature]), details)
        value = float(contributions[feature])
        records.append({"feature": feature, "group": explanation.groups[feature],
                        "value_shown": shown, "contribution": round(value, 6),
                        "direction": direction(value), "sentence": sentence(shown, value)})
    return records


def top_groups(explanation: Explanation, row: int, k: int = 5,
               details: dict[str, str] | None = None) -> list[dict[str, object]]:
    """The ``k`` groups with the largest summed contribution for patient ``row``, worded by the
    group's leading feature, with (relapse) the effect on S(t) in percentage points."""
    from models.wording import direction, sentence, value_shown

    grouped = explanation.grouped.iloc[row]
    order = grouped.abs().sort_values(ascending=False).index[:k]
    contributions = explanation.contributions.iloc[row]
    effects = (explanation.default_survival_effect.xs(explanation.contributions.index[row],
                                                      level=0)
               if explanation.bundle.kind == "survival" else None)
    records = []
    for group in order:
        members = [f for f in contributions.index if explanation.groups[f] == group]
        lead = max(members, key=lambda f: abs(contributions[f]))
        shown = value_shown(lead, float(explanation.values.iloc[row][lead]), details)
        if shown in ("not profiled", "unknown"):
            shown = f"{group} {shown}"
        value = float(grouped[group])
        record = {"group": group, "value_shown": shown, "contribution": round(value, 6),
                  "direction": direction(value), "sentence": sentence(shown, value)}
        if effects is not None:
            record["relapse_free_change_points"] = {
                f"{h}m": round(float(v), 3) for h, v in effects.loc[group].items()}
        records.append(record)
    return records
