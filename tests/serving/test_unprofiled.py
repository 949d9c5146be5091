"""Unknown is unknown (models/domain/unprofiled.py): a gene the request did not profile acts only
through the documented rule, never through what missingness meant in the training panels.

Property tests over random profiles: listing genes that no model uses changes nothing; listing
model genes without alterations changes the answer exactly as the rule computed by hand says
(the unknown gene-level inputs take each reference patient's values, the margin and the
contributions are their means); no explanation ranks a "not profiled" entry among its drivers."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.bundles.bundle import ModelBundle
from models.explanation.averaged_booster import AveragedBooster, StackedBooster
from models.scoring import BundleScorer, JointScorer
from serving.inference import Predictor
from serving.profile import model_genes
from serving.schemas import PatientProfile
from tests.features.test_encoder_parity import GENES, profiles
from tests.serving.conftest import EXAMPLE
from tests.support.unprofiled_rule import rule_by_hand

#: Valid symbols that no model of the fixture uses.
UNUSED = ["ZZZ3", "OR4F5", "SAMD11", "NOC2L"]


def _check_listing(quick_bundles: dict[str, ModelBundle], profile: PatientProfile,
                   listed: list[str], unused: list[str]) -> None:
    altered = {a.gene for a in profile.alterations}
    extra = [g for g in listed if g not in altered]  # listed without an alteration
    base = profile.profiled_genes or []
    more = profile.model_copy(update={"profiled_genes": [*base, *extra]})
    untouched = more.model_copy(update={"profiled_genes": [*base, *extra, *unused]})
    for bundle in quick_bundles.values():
        assert bundle.unprofiled is not None
        assert not set(unused) & model_genes(bundle)
        scorer = BundleScorer.of(bundle)
        rows = bundle.encoder.encode([profile, more, untouched])
        scores = scorer.score(rows)
        for i in range(3):
            # xgboost's margins are float32: equal within the 1e-6 of the response contract
            margin, contributions = rule_by_hand(bundle, rows[i])
            assert scores.margin[i] == pytest.approx(margin, abs=1e-6)
            assert np.abs(scores.contributions[i] - contributions).max() < 1e-6
        assert scores.margin[2] == scores.margin[1]  # genes no model uses change nothing
        assert np.array_equal(scores.contributions[2], scores.contributions[1])


def _listing_test(examples: int):  # noqa: ANN202 - a test made per size
    """Listing genes moves an answer only as the rule says, over ``examples`` random cases."""
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow,
                                     HealthCheck.function_scoped_fixture])
    @given(profile=profiles, listed=st.lists(st.sampled_from(GENES), min_size=1, max_size=6),
           unused=st.lists(st.sampled_from(UNUSED), min_size=1, max_size=3))
    def check(quick_bundles: dict[str, ModelBundle], profile: PatientProfile,
              listed: list[str], unused: list[str]) -> None:
        _check_listing(quick_bundles, profile, listed, unused)

    return check


#: make test: 25 random cases (each 3 profiles, both tasks); make test-long (CI): 300.
test_listing_genes_moves_an_answer_only_as_the_rule_says = _listing_test(25)
test_listing_genes_moves_an_answer_only_as_the_rule_says_on_300_cases = pytest.mark.long(
    _listing_test(300))


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(profiles, min_size=1, max_size=3))
@example(batch=[PatientProfile(**EXAMPLE)])  # always one answered, explained profile
def test_no_explanation_ranks_a_not_profiled_entry(quick_predictor: Predictor,
                                                   batch: list[PatientProfile]) -> None:
    predictions = quick_predictor.explain(batch).predictions
    assert len(predictions) == len(batch)
    answered = {task for p in predictions for task in p.explanations}
    # every answering model explains (an unanswered profile has no explanation to check)
    assert answered == {task for p in predictions for task in (
        [p.endpoint] if p.status == "answered" else []) + [
        f"resistance_{t}" for t in p.resistance]}
    for prediction in predictions:
        for task, explanation in prediction.explanations.items():
            shown = [r.value_shown for r in (*explanation.groups, *explanation.features)]
            assert not [v for v in shown if "not profiled" in v], (task, shown)
            # a profile is one sample: the primary-to-metastasis changes are unknown, averaged
            assert not [r.feature for r in explanation.features
                        if r.feature.startswith("evo__")], task
            assert "tumour evolution" not in {r.group for r in explanation.groups}, task
            total = explanation.base_value + sum(
                r.contribution for r in explanation.features)
            assert np.isfinite(total)


def test_the_averaged_explanation_still_adds_up_to_the_averaged_margin(
        quick_bundles: dict[str, ModelBundle]) -> None:
    profile = PatientProfile(age_years=60, er_status="positive", setting="metastatic",
                             months_since_diagnosis=30, sample_type="metastasis",
                             alterations=[{"gene": "ESR1", "kind": "mutation",
                                           "protein_change": "D538G"}])
    for bundle in quick_bundles.values():
        scorer, rows = BundleScorer.of(bundle), bundle.encoder.encode([profile])
        explanation = scorer.score(rows).explanation()
        assert explanation.averaged is not None
        assert explanation.averaged[0].any()  # the rule averaged some of her inputs
        # against the margin computed without TreeSHAP: the averaged booster's own margin
        unexplained = scorer.score(rows, explain=False).margin
        assert explanation.margin[0] == pytest.approx(unexplained[0], abs=1e-5)


def test_unknown_tumour_evolution_is_averaged_and_said_so(quick_predictor: Predictor,
                                                           quick_bundles: dict) -> None:
    """A profile carries one sample: the primary-to-metastasis changes are unknown, averaged
    and reported in ``unprofiled`` (with no advice to list genes when every gene is listed)."""
    from features.cohorts.synthetic.parameters import PANELS

    genes = sorted({g for b in quick_bundles.values() for g in model_genes(b)}
                   | set(PANELS["MBC_TISSUE_V2"]))
    profile = PatientProfile(age_years=60, er_status="positive", setting="metastatic",
                             months_since_diagnosis=30, sample_type="metastasis",
                             current_therapy="endocrine", metastatic_sites=["bone"], tmb=3.0,
                             profiled_genes=genes)
    prediction = quick_predictor.explain([profile]).predictions[0]
    checked = 0
    for task, explanation in prediction.explanations.items():
        features = quick_predictor.scorers[task].features
        evolution = [f for f in features if f.startswith("evo__")]
        if not evolution:
            continue
        checked += 1
        assert explanation.unprofiled is not None, task
        assert explanation.unprofiled.inputs >= len(evolution)
        assert "primary-to-metastasis changes unknown" in explanation.unprofiled.sentence
        if explanation.unprofiled.inputs == len(evolution):  # every gene listed
            assert "profiled_genes" not in explanation.unprofiled.sentence
    assert checked, "no served model uses the primary-to-metastasis changes"


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(profiles, min_size=1, max_size=4))
def test_models_scored_together_answer_as_each_alone(quick_bundles: dict[str, ModelBundle],
                                                     batch: list[PatientProfile]) -> None:
    """The models of one setting are explained in one pass of their stacked boosters: each
    gets exactly what its own booster gives it alone, its bias included."""
    bundles = list(quick_bundles.values())
    assert len(bundles) >= 2  # a stack of several, not one booster alone
    scorers = [BundleScorer.of(b) for b in bundles]
    joint = JointScorer.of(scorers)
    assert len(joint.stacked.parts) == len(scorers)
    rows = [b.encoder.encode(batch) for b in bundles]
    for scorer, task_rows, together in zip(scorers, rows, joint.score(rows), strict=True):
        alone = scorer.score(task_rows)
        assert np.abs(together.contributions - alone.contributions).max() < 1e-9
        assert np.abs(together.margin - alone.margin).max() < 1e-9
        assert np.array_equal(together.risk_group, alone.risk_group)
        # and against the margin computed without TreeSHAP
        assert np.abs(together.margin - scorer.score(task_rows, explain=False).margin
                      ).max() < 1e-5


def test_a_stacked_part_without_reference_set_is_its_model_s_own_booster(
        quick_bundles: dict[str, ModelBundle]) -> None:
    """A stack of a model's own booster (no reference set: its feature names kept, no slots)
    and an averaged one: each part's contributions equal its booster's own TreeSHAP, the slots'
    folded back by hand."""
    plain_bundle, averaged_bundle = list(quick_bundles.values())[:2]
    plain = AveragedBooster.compile(plain_bundle.pipeline[-1].booster_,
                                    plain_bundle.model_features, None)
    averaged_scorer = BundleScorer.of(averaged_bundle)
    averaged = averaged_scorer.averaging
    assert not len(plain.sources)
    assert len(averaged.sources)
    stacked = StackedBooster.join([plain, averaged])
    profiles = [PatientProfile(**EXAMPLE),
                PatientProfile(**{**EXAMPLE, "tumor_size_mm": 12, "alterations": []})]
    plain_rows = BundleScorer.of(plain_bundle)._model_rows(
        plain_bundle.encoder.encode(profiles))[0]
    X, cells = averaged_scorer._model_rows(averaged_bundle.encoder.encode(profiles))
    together = stacked.contributions([(plain_rows, None), (X, cells)])

    def own(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
        return booster.predict(xgb.DMatrix(rows, missing=np.nan), pred_contribs=True,
                               validate_features=False).astype(float)

    # the tables against xgboost's own TreeSHAP, computed in float32: to its rounding
    def close(ours: np.ndarray, reference: np.ndarray) -> bool:
        return np.abs(ours - reference).max() < 1e-6 * max(1.0, np.abs(reference).max())

    assert close(together[0], own(plain.booster, plain_rows))
    wide = own(averaged.booster, averaged.widen(X, cells))
    folded = np.concatenate([wide[:, :averaged.n_features], wide[:, -1:]], axis=1)
    for k, feature in enumerate(averaged.sources):
        folded[:, feature] += wide[:, averaged.n_features + k]
    assert close(together[1], folded)
