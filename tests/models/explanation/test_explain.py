"""Explanations: exact additivity, planted drivers recovered, grouped and readable output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shap

from features.cohorts import load_cbioportal_study, load_cohort
from features.cohorts.synthetic import build_synthetic_cohort
from features.cohorts.synthetic import parameters as p
from features.labels import labels_for_task
from models.explanation.explain import check_additivity, top_contributions, top_groups
from models.explanation.wording import sentence, value_shown
from tests.support.design_explanation import explain_design, model_margin
from tests.support.quick_bundle import TASK_NAMES, fit_bundle


@pytest.fixture(scope="module")
def synthetic5000():
    return build_synthetic_cohort(5000, 7)


def _held_out_additivity(cohort, task: str) -> float:
    rows = np.arange(len(labels_for_task(cohort, TASK_NAMES[task]).y))
    train, test = rows[rows % 4 != 0], rows[rows % 4 == 0]
    bundle, X, _ = fit_bundle(cohort, task, train)
    explanation = explain_design(bundle, X.iloc[test])
    return check_additivity(explanation, model_margin(explanation))


@pytest.mark.parametrize("task", ["relapse", "resistance"])
def test_additive_on_every_test_patient_synthetic(synthetic5000, task: str) -> None:
    assert _held_out_additivity(synthetic5000, task) <= 1e-5


def test_additive_on_every_test_patient_gbsg2() -> None:
    cohort, _ = load_cohort("gbsg2")
    assert _held_out_additivity(cohort, "relapse") <= 1e-5


@pytest.mark.realdata
@pytest.mark.parametrize("task", ["relapse", "resistance"])
def test_additive_on_every_test_patient_metabric(metabric_dir: Path, task: str) -> None:
    cohort, _ = load_cbioportal_study(metabric_dir)
    assert _held_out_additivity(cohort, task) <= 1e-5


def test_planted_drivers_rank_above_every_noise_gene(synthetic5000) -> None:
    bundle, X, _ = fit_bundle(synthetic5000, "resistance")
    importance = explain_design(bundle, X).importance("group")
    noise = max(importance.get(gene, 0.0) for gene in p.NOISE_GENES)
    for driver in ("ESR1", "MAPK pathway", "TMB"):
        assert importance[driver] > noise, (driver, importance.head(12).to_dict())


def test_xgboost_contributions_equal_shap_tree_explainer() -> None:
    cohort, _ = load_cohort("gbsg2")
    # the trees alone: a blend adds its linear part, which shap's explainer does not know
    bundle, X, _ = fit_bundle(cohort, "relapse", blend_weight=0.0)
    ours = explain_design(bundle, X.iloc[:50])
    booster = bundle.pipeline[-1].booster_
    explainer = shap.TreeExplainer(booster)
    theirs = explainer.shap_values(ours.values.to_numpy())
    np.testing.assert_allclose(ours.contributions.to_numpy(), theirs, atol=1e-5)
    # After shap_values, shap's expected value agrees with xgboost's bias; ours never needs it.
    assert float(np.ravel(explainer.expected_value)[0]) == pytest.approx(ours.base_value[0],
                                                                         abs=1e-4)


def test_groups_sum_features_and_survival_effect_has_the_right_sign() -> None:
    cohort, _ = load_cohort("gbsg2")
    bundle, X, _ = fit_bundle(cohort, "relapse")
    explanation = explain_design(bundle, X.iloc[:30])
    np.testing.assert_allclose(explanation.grouped.sum(axis=1),
                               explanation.contributions.sum(axis=1), atol=1e-9)
    effects = explanation.survival_effect()
    nodes = explanation.grouped["lymph nodes"]
    for patient, contribution in nodes.items():
        change = effects.loc[(patient, "lymph nodes"), "60"]
        assert np.sign(change) == -np.sign(contribution) or abs(contribution) < 1e-9
    record = top_groups(explanation, 0, 3)[0]
    assert set(record) >= {"group", "value_shown", "contribution", "direction", "sentence",
                           "event_free_change_points"}
    features = top_contributions(explanation, 0, 5)
    assert len(features) == 5
    assert abs(features[0]["contribution"]) >= abs(features[-1]["contribution"])


def test_treatment_inputs_are_flagged_as_markers_of_the_decision_in_every_record() -> None:
    cohort, _ = load_cohort("gbsg2")  # hormonal therapy is GBSG2's treatment input
    bundle, X, _ = fit_bundle(cohort, "relapse")
    explanation = explain_design(bundle, X.iloc[:40])
    k = len(explanation.features)
    seen = 0
    for row in range(40):
        for record in top_contributions(explanation, row, k):
            assert record["treatment"] == record["feature"].startswith(
                ("clin__adjuvant_", "clin__prior_", "clin__radiotherapy", "clin__with_cdk46"))
            assert ("not an effect of the treatment" in record["sentence"]) == record[
                "treatment"]
            seen += record["treatment"]
        for record in top_groups(explanation, row, k):
            assert record["treatment"] == (record["group"] == "treatment")
    assert seen == 40  # every patient's treatment input was worded as a marker


@pytest.mark.parametrize(("feature", "value", "details", "expected"), [
    ("mut__ESR1", 1.0, {"ESR1": "D538G"}, "ESR1 D538G"),
    ("mut__ESR1", 0.0, None, "ESR1 wild type"),
    ("mut__ESR1", float("nan"), None, "not profiled"),
    ("hot__ESR1_LBD", 1.0, None, "ESR1 LBD"),
    ("clin__er_positive", 1.0, None, "ER positive"),
    ("clin__tumor_size_mm", 32.0, None, "tumour size 32 mm"),
    ("cna__MYC_amp", 1.0, None, "MYC amplified"),
    ("tmb", 12.34, None, "TMB 12.3 mutations/Mb"),
    ("path__pi3k_akt_mtor", 1.0, None, "PI3K/AKT/mTOR pathway altered"),
])
def test_values_in_human_terms(feature: str, value: float, details, expected: str) -> None:
    assert value_shown(feature, value, details) == expected


def test_sentence() -> None:
    assert sentence("ESR1 D538G", 0.3) == "ESR1 D538G raises the predicted risk"
    marker = sentence("received adjuvant chemotherapy", -0.2, treatment=True)
    assert marker.startswith("Received adjuvant chemotherapy: reflects the clinicians'")
    assert "not an effect of the treatment" in marker
    assert "lowers" in marker
    assert sentence("ER positive", -0.2) == "ER positive lowers the predicted risk"
