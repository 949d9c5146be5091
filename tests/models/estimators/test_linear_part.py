"""The linear part of a blended survival model: centred, additive per feature, missing values
handled inside the fit, adverse factors never lowering the risk."""

from __future__ import annotations

import numpy as np

from models.estimators.linear_part import LinearPart

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
    assert part.value_coef[0] > 0.15  # nodes raise the hazard (per unit of log(1 + nodes))
    assert part.missing_coef[1] != 0  # age was missing: its indicator is used
    assert np.isfinite(part.predict(np.full((1, 3), np.nan))).all()


def test_an_adverse_factor_s_coefficient_is_never_negative() -> None:
    X, time, event = _data(seed=1)
    X[:, 0] = -X[:, 0] + 10  # nodes now protective in these data
    part = LinearPart.fit(X, NAMES, time, event, random_state=0)
    assert part.value_coef[0] >= 0


def test_age_enters_with_a_quadratic_term_and_nodes_on_the_log_scale() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    X = np.column_stack([rng.poisson(3, n), rng.uniform(25, 90, n), rng.integers(0, 2, n)])
    X = X.astype(float)
    # both ends of age are worse (a U), nodes act as log(1 + nodes)
    hazard = np.exp(0.002 * (X[:, 1] - 57) ** 2 + 0.8 * np.log1p(X[:, 0]))
    time = rng.exponential(60 / hazard)
    censor = rng.uniform(5, 120, n)
    part = LinearPart.fit(X, NAMES, np.minimum(time, censor), time <= censor, random_state=0)
    assert part.log_scaled.tolist() == [True, False]
    assert [(f.feature, f.form) for f in part.forms(NAMES)] == [
        ("clin__positive_nodes", "log"), ("clin__age_years", "quadratic")]
    assert part.square_coef[1] > 0
    assert part.square_coef[0] == 0
    ages = np.array([[2.0, 30.0, 0.0], [2.0, 57.0, 0.0], [2.0, 85.0, 0.0]])
    young, middle, old = part.contributions(ages)[:, 1]
    assert young > middle
    assert old > middle
    nodes = part.contributions(np.array([[k, 57.0, 0.0] for k in (0.0, 1.0, 10.0, 11.0)]))[:, 0]
    assert nodes[1] - nodes[0] > 5 * (nodes[3] - nodes[2]) > 0  # steep first, then flat


def test_a_part_pickled_before_the_functional_forms_predicts_linearly() -> None:
    X, time, event = _data()
    part = LinearPart.fit(X, NAMES, time, event, random_state=0)
    old_state = {k: v for k, v in vars(part).items()
                 if k not in ("log_scaled", "square_coef", "square_mean")}
    restored = LinearPart.__new__(LinearPart)
    restored.__setstate__(old_state)
    imputed = np.where(np.isnan(X[:, :2]), restored.medians, X[:, :2])
    expected = (restored.value_coef * (imputed - restored.value_mean)
                + restored.missing_coef * (np.isnan(X[:, :2]) - restored.missing_mean))
    np.testing.assert_allclose(restored.predict(X), expected.sum(axis=1), atol=1e-12)


def test_no_clinical_feature_means_no_linear_part() -> None:
    X, time, event = _data()
    assert LinearPart.fit(X[:, 2:], NAMES[2:], time, event, random_state=0) is None
