"""AFTRiskModel: the AFT distribution's survival, additive explanations, and discrimination
close to the Cox model's on the same data."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import relapse_labels, survival_target
from models.estimators.aft import AFTRiskModel, aft_bounds
from models.estimators.risk import RiskModel
from training.evaluation.survival_metrics import harrell_c


@pytest.fixture(scope="module")
def data() -> tuple:
    cohort = build_synthetic_cohort(3000, 5)
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    time = labels.y["time_months"].to_numpy(dtype=float)
    event = labels.y["event"].to_numpy(dtype=bool)
    return X, time, event


def test_interval_labels() -> None:
    lower, upper = aft_bounds(np.array([0.0, 5.0, 7.0]), np.array([True, False, True]))
    np.testing.assert_array_equal(lower, [1e-3, 5.0, 7.0])
    np.testing.assert_array_equal(upper, [1e-3, np.inf, 7.0])


@pytest.mark.parametrize("distribution", ["normal", "logistic", "extreme"])
def test_survival_is_the_aft_distribution(data: tuple, distribution: str) -> None:
    X, time, event = data
    model = AFTRiskModel(n_estimators=50, distribution=distribution, sigma=1.2).fit(
        X, survival_target(time, event))
    risk = model.predict(X.iloc[:200])
    predicted_time = model.booster_.predict(xgb.DMatrix(X.iloc[:200].to_numpy(),
                                                        missing=np.nan,
                                                        feature_names=list(X.columns)))
    np.testing.assert_allclose(np.exp(-risk), predicted_time, rtol=1e-5)
    at_median = np.diag(model.baseline_.survival(risk, np.exp(-risk)))
    median_survival = {"normal": 0.5, "logistic": 0.5, "extreme": np.exp(-1.0)}[distribution]
    np.testing.assert_allclose(at_median, median_survival, atol=1e-6)
    curves = model.predict_survival(X.iloc[:200], [6, 12, 24, 60, 120])
    assert np.all((curves >= 0) & (curves <= 1))
    assert np.all(np.diff(curves, axis=1) <= 1e-12)


def test_contributions_add_up_to_the_risk_score(data: tuple) -> None:
    X, time, event = data
    model = AFTRiskModel(n_estimators=60).fit(X, survival_target(time, event))
    contributions = model.contributions(X.iloc[:300])
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(X.iloc[:300]),
                               atol=1e-4)


def test_discrimination_close_to_the_cox_model(data: tuple) -> None:
    X, time, event = data
    rng = np.random.default_rng(0)
    test = rng.random(len(X)) < 0.3
    target = survival_target(time[~test], event[~test])
    c_aft = harrell_c(time[test], event[test],
                      AFTRiskModel().fit(X[~test], target).predict(X[test]))
    c_cox = harrell_c(time[test], event[test],
                      RiskModel().fit(X[~test], target).predict(X[test]))
    assert c_aft > 0.55
    assert abs(c_aft - c_cox) < 0.03, (c_aft, c_cox)
