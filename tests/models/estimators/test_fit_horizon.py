"""The risk score's fitting horizon (#19): ``RiskModel(fit_until_months=h)`` fits the trees and
the linear part to follow-up censored at ``h`` months, while its survival curves still use the
whole follow-up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone

from features.labels import survival_target
from models.estimators.risk import RiskModel
from models.estimators.survival_target import censored_at

HORIZON = 60.0


def _early_and_late(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Piecewise-exponential event times (months): before ``HORIZON`` the log hazard is
    ``early``, after it ``late`` (a factor whose effect changes over time, as ER status's
    does); uniform censoring up to 200 months."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["early", "late", "noise"])
    first = rng.exponential(60.0 * np.exp(-X["early"].to_numpy()))
    second = HORIZON + rng.exponential(60.0 * np.exp(-X["late"].to_numpy()))
    event_time = np.where(first < HORIZON, first, second)
    censor = rng.uniform(20.0, 200.0, n)
    return X, np.minimum(event_time, censor), event_time <= censor


def test_censored_at_turns_later_events_into_censorings_at_the_horizon() -> None:
    time = np.array([10.0, 60.0, 61.0, 200.0])
    event = np.array([True, True, True, False])
    censored_time, censored_event = censored_at(time, event, 60.0)
    np.testing.assert_array_equal(censored_time, [10.0, 60.0, 60.0, 60.0])
    np.testing.assert_array_equal(censored_event, [True, True, False, False])
    unchanged = censored_at(time, event, math.inf)
    np.testing.assert_array_equal(unchanged[0], time)
    np.testing.assert_array_equal(unchanged[1], event)


def test_the_score_is_the_one_fitted_to_the_censored_follow_up() -> None:
    X, time, event = _early_and_late(1500, 1)
    params = {"n_estimators": 50, "monotone": False, "recalibrate": False}
    horizon = RiskModel(fit_until_months=HORIZON, **params).fit(X, survival_target(time, event))
    precensored = RiskModel(fit_until_months=math.inf, **params).fit(
        X, survival_target(*censored_at(time, event, HORIZON)))
    np.testing.assert_allclose(horizon.predict(X), precensored.predict(X), rtol=1e-9)
    # ... but its survival curves keep the relapses after the horizon
    assert horizon.baseline_.event_times.max() > HORIZON
    later = horizon.predict_survival(X.iloc[:5], [HORIZON, 150.0])
    assert (later[:, 1] < later[:, 0]).all()


def test_a_factor_that_acts_only_after_the_horizon_does_not_rank_the_patients() -> None:
    X, time, event = _early_and_late(3000, 2)
    target = survival_target(time, event)
    params = {"n_estimators": 100, "monotone": False, "recalibrate": False}
    horizon = RiskModel(fit_until_months=HORIZON, **params).fit(X, target)
    whole = RiskModel(fit_until_months=math.inf, **params).fit(X, target)
    late_in_horizon = abs(spearmanr(horizon.predict(X), X["late"]).statistic)
    late_in_whole = abs(spearmanr(whole.predict(X), X["late"]).statistic)
    assert late_in_horizon < 0.1 < late_in_whole
    assert spearmanr(horizon.predict(X), X["early"]).statistic > 0.8


@pytest.mark.parametrize("until", [0.0, -12.0, math.nan, "ten years", None])
def test_a_horizon_that_is_not_a_positive_time_is_refused(until: object) -> None:
    X, time, event = _early_and_late(200, 3)
    with pytest.raises(ValueError, match="fit_until_months"):
        RiskModel(fit_until_months=until, n_estimators=5).fit(X, survival_target(time, event))


def test_no_event_before_the_horizon_is_refused_with_its_reason() -> None:
    X = pd.DataFrame({"a": np.arange(20.0)})
    time = np.linspace(70.0, 120.0, 20)
    with pytest.raises(ValueError, match="no event within fit_until_months"):
        RiskModel(fit_until_months=HORIZON, n_estimators=5).fit(
            X, survival_target(time, np.ones(20, dtype=bool)))


def test_a_model_pickled_before_the_horizon_existed_used_the_whole_follow_up() -> None:
    X, time, event = _early_and_late(300, 4)
    model = RiskModel(n_estimators=5, recalibrate=False).fit(X, survival_target(time, event))
    state = dict(model.__dict__)
    state.pop("fit_until_months")
    old = RiskModel.__new__(RiskModel)
    old.__setstate__(state)
    assert old.get_params()["fit_until_months"] == math.inf
    assert clone(old).get_params() == old.get_params()


def test_every_fit_of_the_score_sees_only_the_censored_follow_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The final fit and each inner fit of the recalibration: no time or label beyond the
    horizon; the slope itself is estimated on the real outcomes."""
    X, time, event = _early_and_late(1000, 5)
    seen: list[tuple[float, float]] = []
    real = RiskModel._fit_parts

    def spying(self, X_, time_, event_, label):  # noqa: ANN001, ANN202
        seen.append((float(time_.max()), float(np.abs(label).max())))
        return real(self, X_, time_, event_, label)

    monkeypatch.setattr(RiskModel, "_fit_parts", spying)
    model = RiskModel(fit_until_months=HORIZON, n_estimators=20).fit(
        X, survival_target(time, event))
    assert len(seen) == 1 + 5  # the final fit and the recalibration's 5 inner fits
    assert max(max(pair) for pair in seen) <= HORIZON
    assert model.baseline_.event_times.max() > HORIZON
