"""Recalibration of the boosted Cox model's survival curves (#19): the slope of its margin is
estimated inside the training data and applied only where it drifts; the ranking never moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from features.labels import survival_target
from models.estimators.breslow import BreslowBaseline
from models.estimators.recalibration import estimate_recalibration, stratified_slope
from models.estimators.risk import RiskModel
from training.evaluation.binary_metrics import calibration_slope_intercept
from training.evaluation.survival_metrics import horizon_status


def _proportional_hazards(n: int, seed: int, effect: float = 1.0,
                          ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Exponential event times (months) with log hazard ``effect * true_risk``, uniform
    censoring; returns features, times, events and the true log relative hazard."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    true_risk = effect * (0.8 * X["a"] - 0.6 * X["b"] + 0.4 * X["c"]).to_numpy()
    event_time = rng.exponential(40.0 * np.exp(-true_risk))
    censor = rng.uniform(10.0, 150.0, n)
    return X, np.minimum(event_time, censor), event_time <= censor, true_risk


def test_the_slope_of_a_shrunk_margin_is_found_and_of_a_true_one_is_1() -> None:
    _, time, event, true_risk = _proportional_hazards(4000, 0)
    stratum = np.arange(4000) % 3
    slope, se = stratified_slope(true_risk / 2.0, time, event, stratum)
    assert slope == pytest.approx(2.0, abs=3 * se)
    assert se < 0.1
    slope, se = stratified_slope(true_risk, time, event, stratum)
    assert abs(slope - 1.0) < 3 * se


def test_a_drifting_slope_is_applied_and_a_calibrated_one_is_not() -> None:
    _, time, event, true_risk = _proportional_hazards(3000, 1)
    shrunk = estimate_recalibration(lambda train, test: true_risk[test] / 2.0, time, event,
                                    until_months=60.0)
    assert shrunk.drifts
    assert shrunk.ci_low < 2.0 < shrunk.ci_high
    assert shrunk.applied == shrunk.slope
    calibrated = estimate_recalibration(lambda train, test: true_risk[test], time, event,
                                        until_months=60.0)
    assert calibrated.ci_low < 1.0 < calibrated.ci_high
    assert not calibrated.drifts
    assert calibrated.status == "not drifting"
    assert calibrated.applied == 1.0


def test_too_few_events_give_no_recalibration() -> None:
    time, event = np.arange(1.0, 21.0), np.zeros(20, dtype=bool)
    event[:3] = True
    result = estimate_recalibration(lambda train, test: np.zeros(len(test)), time, event, 60.0)
    assert result.status == "too few events"
    assert np.isnan(result.slope)
    assert result.applied == 1.0
    # events only after the horizon count as none
    _, time, event, true_risk = _proportional_hazards(600, 5)
    late = estimate_recalibration(lambda train, test: true_risk[test], time + 100.0, event,
                                  until_months=60.0)
    assert late.status == "too few events"


def test_a_slope_at_the_edge_of_the_search_is_not_estimable_and_not_applied() -> None:
    """Margins that separate the outcomes perfectly (or point the wrong way) have no slope
    inside the range searched: nothing is applied."""
    _, time, event, _ = _proportional_hazards(800, 6)
    perfect = -time  # the earlier the event, the higher the margin
    separated = estimate_recalibration(lambda train, test: perfect[test], time, event, 60.0)
    assert separated.status == "not estimable"
    assert separated.applied == 1.0
    reversed_ = estimate_recalibration(lambda train, test: -perfect[test], time, event, 60.0)
    assert reversed_.status == "not estimable"
    assert reversed_.applied == 1.0
    flat = estimate_recalibration(lambda train, test: np.ones(len(test)), time, event, 60.0)
    assert flat.status == "not estimable"


def test_a_model_pickled_before_the_recalibration_still_clones_and_is_unscaled() -> None:
    X, time, event, _ = _proportional_hazards(300, 7)
    model = RiskModel(n_estimators=5, recalibrate=False).fit(X, survival_target(time, event))
    state = dict(model.__dict__)
    for name in ("recalibrate", "recalibrate_until_months", "recalibration_"):
        state.pop(name)
    old = RiskModel.__new__(RiskModel)
    old.__setstate__(state)
    assert old.get_params()["recalibrate"] is False
    assert old.recalibration_.status == "off"
    assert clone(old).get_params() == old.get_params()
    np.testing.assert_array_equal(old.predict_survival(X, [12.0, 60.0]),
                                  model.predict_survival(X, [12.0, 60.0]))


def test_a_scaled_baseline_is_the_baseline_of_the_scaled_risk() -> None:
    _, time, event, true_risk = _proportional_hazards(500, 2)
    times = np.array([12.0, 36.0, 60.0])
    scaled = BreslowBaseline.fit(time, event, true_risk, scale=1.7)
    plain = BreslowBaseline.fit(time, event, 1.7 * true_risk)
    np.testing.assert_allclose(scaled.survival(true_risk, times),
                               plain.survival(1.7 * true_risk, times), rtol=1e-12)
    # a baseline pickled before the scale existed reads as unscaled
    assert BreslowBaseline(plain.event_times, plain.cumulative_hazard).scale == 1.0


def _slope_at(model: RiskModel, X: pd.DataFrame, time: np.ndarray, event: np.ndarray,
              train: tuple[np.ndarray, np.ndarray], horizon: float = 36.0) -> float:
    predicted = 1.0 - model.predict_survival(X, np.array([horizon]))[:, 0]
    status, weight = horizon_status(*train, time, event, horizon)
    return calibration_slope_intercept(status, predicted, weight)[0]


def test_a_shrunk_boosted_model_is_recalibrated_on_new_patients_and_ranks_the_same() -> None:
    """Few shallow rounds at a small learning rate leave the margin far too flat; the
    recalibrated curves' calibration slope on new patients is much nearer 1."""
    X, time, event, _ = _proportional_hazards(3000, 3, effect=1.5)
    X_new, time_new, event_new, _ = _proportional_hazards(3000, 4, effect=1.5)
    target = survival_target(time, event)
    params = {"n_estimators": 60, "learning_rate": 0.02, "max_depth": 2, "monotone": False}
    plain = RiskModel(recalibrate=False, **params).fit(X, target)
    recalibrated = RiskModel(**params).fit(X, target)
    assert recalibrated.recalibration_.drifts
    assert recalibrated.recalibration_.slope > 1.5
    np.testing.assert_array_equal(recalibrated.predict(X_new), plain.predict(X_new))
    before = _slope_at(plain, X_new, time_new, event_new, (time, event))
    after = _slope_at(recalibrated, X_new, time_new, event_new, (time, event))
    assert before > 1.5
    assert abs(after - 1.0) < 0.15
    assert abs(after - 1.0) < abs(before - 1.0)
