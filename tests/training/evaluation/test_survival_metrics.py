"""Our survival metrics against scikit-survival (GPL, test-only reference) on real data."""

from __future__ import annotations

import numpy as np
import pytest
from sksurv import metrics as reference

from features.cohorts import load_cohort
from features.labels import relapse_labels, survival_target
from training.evaluation.survival_metrics import (
    brier_scores,
    cumulative_dynamic_auc,
    harrell_c,
    integrated_brier_score,
    kaplan_meier,
    step_at,
    uno_c,
)


@pytest.fixture(scope="module")
def gbsg2_split():
    cohort, _ = load_cohort("gbsg2")
    y = relapse_labels(cohort).y
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    train, test = order[:450], order[450:]
    time = y["time_months"].to_numpy()
    event = y["event"].to_numpy(dtype=bool)
    patients = cohort.patients.loc[y.index]
    # A real, imperfect risk score: nodes and grade, with ties.
    risk = (np.log1p(patients["positive_nodes"].astype(float)) +
            0.3 * patients["grade"].astype(float)).to_numpy()
    return time, event, risk, train, test


def _surv(time, event):
    return survival_target(time, event)


def test_harrell_c_matches(gbsg2_split) -> None:
    time, event, risk, _, test = gbsg2_split
    ours = harrell_c(time[test], event[test], risk[test])
    theirs = reference.concordance_index_censored(event[test], time[test], risk[test])[0]
    assert ours == pytest.approx(theirs, abs=1e-6)


@pytest.mark.parametrize("tau", [36.0, 60.0])
def test_uno_c_matches(gbsg2_split, tau: float) -> None:
    time, event, risk, train, test = gbsg2_split
    ours = uno_c(time[train], event[train], time[test], event[test], risk[test], tau)
    theirs = reference.concordance_index_ipcw(_surv(time[train], event[train]),
                                              _surv(time[test], event[test]), risk[test],
                                              tau=tau)[0]
    assert ours == pytest.approx(theirs, abs=1e-6)


def test_cumulative_dynamic_auc_matches(gbsg2_split) -> None:
    time, event, risk, train, test = gbsg2_split
    times = np.array([12.0, 24.0, 36.0, 60.0])
    risk = risk + np.random.default_rng(1).normal(0, 1e-3, len(risk))  # no tied scores
    ours, ours_mean = cumulative_dynamic_auc(time[train], event[train], time[test], event[test],
                                             risk[test], times)
    theirs, theirs_mean = reference.cumulative_dynamic_auc(
        _surv(time[train], event[train]), _surv(time[test], event[test]), risk[test], times)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert ours_mean == pytest.approx(theirs_mean, abs=1e-6)


def test_brier_and_integrated_brier_match(gbsg2_split) -> None:
    time, event, risk, train, test = gbsg2_split
    times = np.linspace(6.0, 60.0, 30)
    knots, values = kaplan_meier(time[train], event[train])
    base = step_at(knots, values, times)
    survival = base[None, :] ** np.exp(risk[test] - risk.mean())[:, None]
    ours = brier_scores(time[train], event[train], time[test], event[test], survival, times)
    _, theirs = reference.brier_score(_surv(time[train], event[train]),
                                      _surv(time[test], event[test]), survival, times)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    ibs = integrated_brier_score(time[train], event[train], time[test], event[test], survival,
                                 times)
    theirs_ibs = reference.integrated_brier_score(_surv(time[train], event[train]),
                                                  _surv(time[test], event[test]), survival, times)
    assert ibs == pytest.approx(theirs_ibs, abs=1e-6)


def test_kaplan_meier_matches() -> None:
    from sksurv.nonparametric import kaplan_meier_estimator

    cohort, _ = load_cohort("gbsg2")
    y = relapse_labels(cohort).y
    time = np.round(y["time_months"].to_numpy())  # many ties
    event = y["event"].to_numpy(dtype=bool)
    for reverse in (False, True):
        ours = kaplan_meier(time, event, reverse=reverse)
        theirs = kaplan_meier_estimator(event, time, reverse=reverse)
        np.testing.assert_allclose(ours[0], theirs[0])
        np.testing.assert_allclose(ours[1], theirs[1], atol=1e-12)


@pytest.mark.realdata
def test_metrics_match_on_metabric(metabric_dir) -> None:
    from features.cohorts import load_cbioportal_study

    cohort, _ = load_cbioportal_study(metabric_dir)
    y = relapse_labels(cohort).y
    patients = cohort.patients.loc[y.index]
    risk = (np.log1p(patients["positive_nodes"].astype(float).fillna(0)) +
            0.02 * patients["tumor_size_mm"].astype(float).fillna(25)).to_numpy()
    time = y["time_months"].to_numpy()
    event = y["event"].to_numpy(dtype=bool)
    train, test = np.arange(0, len(y), 2), np.arange(1, len(y), 2)
    assert harrell_c(time[test], event[test], risk[test]) == pytest.approx(
        reference.concordance_index_censored(event[test], time[test], risk[test])[0], abs=1e-6)
    assert uno_c(time[train], event[train], time[test], event[test], risk[test], 120.0) == (
        pytest.approx(reference.concordance_index_ipcw(
            _surv(time[train], event[train]), _surv(time[test], event[test]), risk[test],
            tau=120.0)[0], abs=1e-6))


def _pairwise_concordance(time, event, risk, weight) -> float:
    """Harrell/Uno concordance pair by pair: the definition, for small inputs."""
    numerator = denominator = 0.0
    for i in range(len(time)):
        if not event[i]:
            continue
        for j in range(len(time)):
            comparable = time[j] > time[i] or (time[j] == time[i] and not event[j] and j != i)
            if comparable:
                denominator += weight[i]
                difference = risk[i] - risk[j]
                numerator += weight[i] * (0.5 if abs(difference) <= 1e-8 else difference > 0)
    return numerator / denominator


@pytest.mark.parametrize("seed", range(5))
def test_fast_concordance_equals_the_pairwise_definition_with_ties(seed: int) -> None:
    from training.evaluation.survival_metrics import _sorted_concordance

    rng = np.random.default_rng(seed)
    n = 300
    time = rng.integers(1, 40, n).astype(float)  # many tied times
    event = rng.random(n) < 0.5
    risk = np.round(rng.normal(size=n), 1)  # many tied risks
    weight = rng.uniform(0.5, 2.0, n)
    assert _sorted_concordance(time, event, risk, weight) == pytest.approx(
        _pairwise_concordance(time, event, risk, weight), abs=1e-12)


def test_non_finite_risk_scores_are_refused() -> None:
    time, event = np.array([1.0, 2.0, 3.0]), np.array([True, True, False])
    with pytest.raises(ValueError, match="finite"):
        harrell_c(time, event, np.array([0.1, np.nan, 0.3]))
