"""The linear part of a blended survival model: centred, additive per feature, missing values
handled inside the fit, adverse factors never lowering the risk."""

from __future__ import annotations

import numpy as np

from models.linear_part import LinearPart

NAMES = ["clin__positive_nodes", "clin__age_years", "mut__TP53"]


def _data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.poisson(2, n), rng.normal(60, 10, n), rng.integers(0, 2, n)])
    X = X.astype(float)
    hazard = np.exp(0.3 * X[:, 0] - 0.02 * (X[:, 1] - 60))
    time = rng.exponential(50 / hazard)
    censor = rng.uniform(5, 120, n)
    X[rng.random(n) < 0.2, 1] = np.nan  # age missing for a fifth
    return X, np.minimum(time, censor), time <= censor


def test_contributions_are_per_feature_centred_and_sum_to_the_predictor() -> None:
    X, time, event = _data()
    part = LinearPart.fit(X, NAMES, time, event, random_state=0)
    contributions = part.contributions(X)
    np.testing.assert_allclose(contributions.sum(axis=1), part.predict(X), atol=1e-12)
    np.testing.assert_allclose(contributions.mean(axis=0), 0.0, atol=1e-9)  # training means
    assert (contributions[:, 2] == 0).all()  # a genomic column is the trees' alone
    assert part.value_coef[0] > 0.15  # nodes raise the hazard
    assert part.missing_coef[1] != 0  # age was missing: its indicator is used
    assert np.isfinite(part.predict(np.full((1, 3), np.nan))).all()


def test_an_adverse_factor_s_coefficient_is_never_negative() -> None:
    X, time, event = _data(seed=1)
    X[:, 0] = -X[:, 0] + 10  # nodes now protective in these data
    part = LinearPart.fit(X, NAMES, time, event, random_state=0)
    assert part.value_coef[0] >= 0


def test_no_clinical_feature_means_no_linear_part() -> None:
    X, time, event = _data()
    assert LinearPart.fit(X[:, 2:], NAMES[2:], time, event, random_state=0) is None
