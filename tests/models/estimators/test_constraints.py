"""Monotone constraints: in every boosted model, the predicted risk never falls as an
established adverse factor worsens, for many patients, the rest of each profile held fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.cohorts.sources import load_cohort
from features.labels import survival_target
from models.estimators.aft import AFTRiskModel
from models.estimators.constraints import ADVERSE_FEATURES, monotone_constraints
from models.scoring import predict
from tests.support.quick_bundle import fit_bundle

PATIENTS = 150


def _non_decreasing(risk_of: object, X: pd.DataFrame, feature: str) -> None:
    """For each of PATIENTS rows, the risk over the factor's observed values, ascending."""
    grid = np.unique(X[feature].dropna().to_numpy())
    assert len(grid) >= 3, feature
    rows = X.sample(min(PATIENTS, len(X)), random_state=0)
    varied = rows.loc[rows.index.repeat(len(grid))].copy()
    varied[feature] = np.tile(grid, len(rows))
    risk = np.asarray(risk_of(varied), dtype=float).reshape(len(rows), len(grid))
    steps = np.diff(risk, axis=1)
    assert steps.min() >= -1e-9, (feature, float(steps.min()))


@pytest.mark.parametrize(("cohort", "task", "params"), [
    ("gbsg2", "relapse", {}), ("gbsg2", "resistance", {}), ("synthetic", "progression", {}),
    ("gbsg2", "relapse", {"blend_weight": 0.5}),
    ("synthetic", "progression", {"blend_weight": 0.5})])
def test_risk_never_falls_as_an_adverse_factor_worsens(cohort: str, task: str,
                                                       params: dict) -> None:
    """Blends too: the linear part's coefficients on the adverse factors are kept >= 0."""
    bundle, X, _ = fit_bundle(load_cohort(cohort)[0], task, **params)
    constrained = [f for f in bundle.model_features if f in ADVERSE_FEATURES]
    assert constrained, "no adverse factor reached the model"
    for feature in constrained:
        _non_decreasing(lambda rows: predict(bundle, rows)["risk_score"], X, feature)


def test_the_aft_model_is_constrained_the_other_way_round() -> None:
    cohort, _ = load_cohort("gbsg2")
    bundle, X, labels = fit_bundle(cohort, "relapse")
    features = bundle.model_features
    y = labels.y
    model = AFTRiskModel(n_estimators=150).fit(
        X[features], survival_target(y["time_months"].to_numpy(), y["event"].to_numpy()))
    assert "-1" in model.booster_params()["monotone_constraints"]  # on log time
    for feature in [f for f in features if f in ADVERSE_FEATURES]:
        _non_decreasing(lambda rows: model.predict(rows[features]), X, feature)


def test_constraints_bind_only_the_declared_factors() -> None:
    names = ["clin__age_years", "clin__positive_nodes", "mut__ESR1", "clin__grade"]
    assert monotone_constraints(names) == (0, 1, 0, 1)
    assert monotone_constraints(names, margin_sign=-1) == (0, -1, 0, -1)
