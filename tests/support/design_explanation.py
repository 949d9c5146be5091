"""Test oracle: a bundle's contributions computed the plain way, on the design rows as they are
(the fitted pipeline, then the booster's own TreeSHAP, no unknown-is-unknown averaging), and
the margin its model predicts for them. Independent of :mod:`models.scoring`, which the product
uses, so tests can hold one against the other."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.bundles.bundle import ModelBundle
from models.explanation.explain import Explanation


def explain_design(bundle: ModelBundle, X: pd.DataFrame) -> Explanation:
    """Contributions of the bundle's model to the margins of the design rows ``X``."""
    features = bundle.pipeline[:-1].transform(bundle.input_frame(X))
    raw = bundle.pipeline[-1].contributions(features)
    return Explanation(contribution_matrix=np.asarray(raw[:, :-1], dtype=float),
                       base_value=raw[:, -1].astype(float),
                       value_matrix=features.to_numpy(dtype=float),
                       features=list(features.columns), groups=bundle.feature_groups,
                       scale=bundle.explainer.get("scale", ""), bundle=bundle, index=X.index)


def model_margin(explanation: Explanation) -> np.ndarray:
    """The margin the explained bundle's model predicts for the explained values."""
    bundle = explanation.bundle
    model = bundle.pipeline[-1]
    features = explanation.values
    return np.asarray(model.predict(features) if bundle.kind == "survival"
                      else model.predict_margin(features), dtype=float)
