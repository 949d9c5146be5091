"""PenalizedCox and the Breslow baseline against scikit-survival (test-only reference)."""

from __future__ import annotations

import numpy as np
import pytest
from sksurv.linear_model import CoxPHSurvivalAnalysis

from features.cohorts import load_cohort
from features.design import build_design
from features.labels import relapse_labels, survival_target
from models.estimators.cox import PenalizedCox, partial_log_likelihood


@pytest.fixture(scope="module")
def gbsg2_xy():
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)[["clin__age_years", "clin__tumor_size_mm",
                                      "clin__positive_nodes", "clin__grade",
                                      "clin__er_fmol_mg", "clin__pr_fmol_mg"]]
    X = ((X - X.mean()) / X.std()).to_numpy()
    y = survival_target(labels.y["time_months"].to_numpy(), labels.y["event"].to_numpy())
    return X, y


@pytest.mark.parametrize("alpha", [0.0, 5.0])
def test_coefficients_and_survival_match_sksurv(gbsg2_xy, alpha: float) -> None:
    X, y = gbsg2_xy
    ours = PenalizedCox(alphas=(alpha,)).fit(X, y)
    theirs = CoxPHSurvivalAnalysis(alpha=alpha, ties="breslow", tol=1e-12, n_iter=200).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    times = np.array([12.0, 36.0, 60.0])
    expected = np.array([[fn(t) for t in times] for fn in theirs.predict_survival_function(X[:20])])
    np.testing.assert_allclose(ours.predict_survival(X[:20], times), expected, atol=1e-5)


def test_penalty_chosen_inside_training_data(gbsg2_xy) -> None:
    X, y = gbsg2_xy
    model = PenalizedCox(alphas=(0.01, 1e6)).fit(X, y)
    assert model.alpha_ == 0.01  # an absurd penalty loses on held-out partial likelihood
    assert np.all(np.diff(model.predict_survival(X[:3], np.array([12.0, 24.0, 48.0]))) <= 0)


def test_gradient_matches_finite_differences_with_tied_times() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 4))
    time = rng.integers(1, 12, size=60).astype(float)  # many ties
    event = rng.random(60) < 0.6
    beta = rng.normal(scale=0.3, size=4)
    _, gradient = partial_log_likelihood(beta, X, time, event)
    step = 1e-6
    numeric = [(partial_log_likelihood(beta + step * e, X, time, event)[0]
                - partial_log_likelihood(beta - step * e, X, time, event)[0]) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6)
