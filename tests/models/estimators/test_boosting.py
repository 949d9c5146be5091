"""The boosted models' trees know the design's column names: a matrix with other names, or
none, is refused, although the training matrix carries none (xgboost re-checks names every
boosting round)."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from features.cohorts import load_cohort
from features.design import build_design
from features.labels import relapse_labels, survival_target
from models.estimators.aft import AFTRiskModel
from models.estimators.risk import RiskModel


@pytest.mark.parametrize(("model_class", "settings"), [
    (RiskModel, {"blend_weight": 0.0, "recalibrate": False}),  # the trees' margin alone
    (AFTRiskModel, {}),
])
def test_the_booster_checks_the_design_columns(model_class: type, settings: dict) -> None:
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    target = survival_target(labels.y["time_months"].to_numpy(), labels.y["event"].to_numpy())
    model = model_class(n_estimators=20, **settings).fit(X, target)
    booster = model.booster_
    assert booster.feature_names == list(X.columns)
    rows = X.to_numpy(dtype=float)
    with pytest.raises(ValueError, match="feature names"):
        booster.predict(xgb.DMatrix(rows, missing=np.nan))
    renamed = list(reversed(X.columns))
    with pytest.raises(ValueError, match="feature_names mismatch"):
        booster.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=renamed))
    named = booster.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=list(X.columns)),
                            output_margin=True)
    sign = -1.0 if model_class is AFTRiskModel else 1.0  # AFT: risk is minus log time
    np.testing.assert_allclose(sign * named, model.predict(X), rtol=1e-6)
