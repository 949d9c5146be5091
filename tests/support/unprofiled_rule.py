"""The unknown-is-unknown rule (models/domain/unprofiled.py) restated literally, independent of the
scoring code it checks: for tests (not shipped)."""

from __future__ import annotations

import numpy as np
import xgboost as xgb

from models.bundles.bundle import ModelBundle
from models.domain.unprofiled import averaged_input
from models.estimators.aft import AFTRiskModel
from models.scoring import BundleScorer


def rule_by_hand(bundle: ModelBundle, row: np.ndarray) -> tuple[float, np.ndarray]:
    """The rule, restated literally: each reference patient in turn lends its values to the
    unknown gene-level inputs (and, without a profiled primary-metastasis pair, to every
    primary-to-metastasis change); the margin (risk score) and the exact TreeSHAP
    contributions (bias last) are the means over them."""
    scorer = BundleScorer.of(bundle)
    x = row[scorer.selected]
    reference = bundle.unprofiled
    unknown = [k for k, f in enumerate(scorer.features) if averaged_input(f) and np.isnan(x[k])]
    if "evo__paired" in scorer.features and x[scorer.features.index("evo__paired")] == 0:
        unknown += [k for k, f in enumerate(scorer.features)
                    if f.startswith("evo__") and k not in unknown]
    rows = []
    for values in reference.values:
        filled = x.copy()
        for k in unknown:
            filled[k] = values[k]
        rows.append(filled)
    model = bundle.pipeline[-1]
    names = scorer.features if bundle.kind == "survival" else None
    matrix = xgb.DMatrix(np.array(rows), missing=np.nan, feature_names=names)
    # a blended survival model adds its linear part (on clinical inputs, never averaged)
    margins = model.blend(model.booster_.predict(matrix, output_margin=True).astype(float),
                          np.array(rows))
    contributions = model.blend(model.booster_.predict(matrix, pred_contribs=True
                                                       ).astype(float), np.array(rows))
    sign = -1.0 if isinstance(model, AFTRiskModel) else 1.0
    used = slice(None) if unknown else slice(0, 1)
    return (sign * float(np.mean(margins[used])),
            sign * contributions[used].mean(axis=0))
