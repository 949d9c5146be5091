"""ModelBundle: the one deployable unit of a trained task.

It holds the fitted pipeline (feature selection and model), what the numbers mean, the
feature names and groups, the horizons, the training-data digest and the evaluation summary,
so that prediction, explanation, the model card and serving all read the same object. Plain
data: scoring is :mod:`models.scoring`, the file :mod:`models.bundles.storage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from features.encoder import ProfileEncoder
from features.pipeline import feature_group
from models.domain.applicability import ApplicabilityDomain
from models.domain.moments import FeatureMoments
from models.domain.unprofiled import UnprofiledReference

RISK_GROUPS = ("low", "intermediate", "high")
#: Share of training patients with a feature known for the model to have learned from it.
LEARNED_SHARE = 0.05


@dataclass
class ModelBundle:
    """A fitted task model with everything needed to use and explain it."""

    task: str
    kind: str  # "survival" or "binary"
    pipeline: Pipeline
    input_features: list[str]
    label_definition: str
    origin: str
    origin_sample_types: tuple[str, ...]
    horizons_months: tuple[float, ...]
    training_digest: str
    cohort: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    risk_group_cutpoints: tuple[float, float] = (np.nan, np.nan)
    explainer: dict[str, str] = field(default_factory=dict)
    applicability: ApplicabilityDomain | None = None
    #: The reference set of the unknown-is-unknown rule (None: bundles from before the rule,
    #: or models without gene-level inputs).
    unprofiled: UnprofiledReference | None = None
    #: Moments and missingness of the model features over the training patients, the
    #: reference of a scored cohort's shift report (None: bundles from before it existed).
    training_moments: FeatureMoments | None = None

    @property
    def model_features(self) -> list[str]:
        """Names of the features the model itself sees (after the fitted selection)."""
        return list(self.pipeline[:-1].get_feature_names_out())

    @property
    def learned_features(self) -> set[str]:
        """The model features it learned from: known for at least :data:`LEARNED_SHARE` of the
        training patients (every model feature for bundles without training moments)."""
        features = self.model_features
        if self.training_moments is None:
            return set(features)
        known = 1.0 - self.training_moments.missing_share
        return {f for f, share in zip(self.training_moments.features, known, strict=True)
                if share >= LEARNED_SHARE and f in features}

    @property
    def feature_groups(self) -> dict[str, str]:
        """Feature -> group, for the model's features."""
        return {name: feature_group(name) for name in self.model_features}

    @property
    def encoder(self) -> ProfileEncoder:
        """The compiled profile encoder of this model's inputs (``features.encoder``): a
        profile straight to the row :meth:`input_frame` would give its design."""
        return ProfileEncoder(tuple(self.input_features), self.origin,
                              tuple(self.origin_sample_types))

    @property
    def event(self) -> str:
        """What a survival model's event is: ``relapse`` or ``progression`` (``resistance``
        for a binary model)."""
        if self.kind != "survival":
            return "resistance"
        return "progression" if self.task == "progression" else "relapse"

    @property
    def survival_columns(self) -> list[str]:
        """Names of the survival probabilities at the horizons: ``relapse_free_60m``,
        ``progression_free_12m`` (empty for a binary model)."""
        if self.kind != "survival":
            return []
        return [f"{self.event}_free_{h:g}m" for h in self.horizons_months]

    @property
    def score_meaning(self) -> str:
        """What ``risk_score`` means, for people."""
        if self.kind == "survival":
            return self.pipeline[-1].risk_meaning.replace("relapse", self.event)
        return "probability of resistance (calibrated); higher means worse"

    def input_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X``'s design columns in training order, as floats. A column ``X`` lacks (a gene
        its cohort never profiled, say) is unknown: NaN, as the design writes "not profiled"."""
        return X.reindex(columns=self.input_features).astype(float)
