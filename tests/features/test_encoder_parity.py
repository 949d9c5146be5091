"""The compiled profile encoder equals the design: for random API profiles (missing fields,
unknown genes, panels, every alteration kind, both settings), each profile's encoded row is
exactly ``build_design`` of that profile, reindexed to the model's input columns, for every
task. ``make test`` checks 50 profiles per task, each alone and in batches; ``make test-long``
(CI) 10,200 profiles in batches.

A batch's design is the design of each of its profiles alone when its profiles agree on the one
fact the design reads from a whole cohort: whether it records treatment lines (a cohort that
records lines says a patient without one had none; a cohort without any leaves adjuvant
treatment unknown). ``make test`` checks that equality too, so the long test can build one
design per batch instead of one per profile.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.cohorts.sources import load_synthetic
from features.design import n_from_nodes, t_from_size
from features.encoder import ProfileEncoder
from features.labels import labels_for_task
from models.scoring import BundleScorer, predict
from serving.inference import Predictor, serves_setting
from serving.schemas import Alteration, PatientProfile
from tests.support.quick_bundle import TASK_NAMES
from tests.support.request_cohort import build_request_cohort, design_for

GENES = ["ESR1", "PIK3CA", "TP53", "NF1", "ERBB2", "MYC", "CCND1", "PTEN", "AKT1", "RB1",
         "MLL3", "KMT2C", "GATA3", "CDH1", "FOXA1", "BRCA2", "MDM4", "ZZZ3", "TTN"]
CHANGES = ["D538G", "p.D538G", "p.Asp538Gly", "Y537S", "H1047R", "p.His1047Arg", "E545K",
           "E542K", "E17K", "L755S", "R175H", "p.Arg175Ter"]
THERAPIES = ["endocrine", "endocrine_cdk46", "anti_her2", "chemotherapy", "pi3k_akt_mtor",
             "parp", "immunotherapy", "radiotherapy", "other"]
SITES = ["bone", "liver", "lung", "brain", "lymph_node", "pleura", "skin", "other"]


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


alterations = st.builds(Alteration, gene=st.sampled_from(GENES),
                        kind=st.sampled_from(["mutation", "amplification", "deletion",
                                              "fusion"]),
                        protein_change=_maybe(st.sampled_from(CHANGES)))

profiles = st.builds(
    PatientProfile,
    age_years=st.floats(18, 110),
    menopausal_status=_maybe(st.sampled_from(["pre", "peri", "post"])),
    er_status=_maybe(st.sampled_from(["positive", "negative", "equivocal"])),
    pr_status=_maybe(st.sampled_from(["positive", "negative"])),
    her2_status=_maybe(st.sampled_from(["positive", "negative", "equivocal"])),
    histology=_maybe(st.sampled_from(["ductal", "lobular", "mucinous", "other"])),
    grade=_maybe(st.integers(1, 3)),
    tumor_size_mm=_maybe(st.floats(0, 300)),
    positive_lymph_nodes=_maybe(st.integers(0, 100)),
    stage=_maybe(st.integers(0, 4)),
    ecog=_maybe(st.integers(0, 4)),
    setting=st.sampled_from(["early", "metastatic"]),
    de_novo_metastatic=_maybe(st.booleans()),
    months_since_diagnosis=_maybe(st.floats(0, 600)),
    metastatic_sites=st.lists(st.sampled_from(SITES), max_size=4),
    current_therapy=_maybe(st.sampled_from(THERAPIES)),
    prior_therapies=st.lists(st.sampled_from(THERAPIES), max_size=4),
    sample_type=st.sampled_from(["primary", "metastasis", "recurrence", "ctdna"]),
    tmb=_maybe(st.floats(0, 100)),
    alterations=st.lists(alterations, max_size=5),
    profiled_genes=_maybe(st.lists(st.sampled_from(GENES), max_size=8)),
)


def _design_alone(bundle: object, profile: PatientProfile,
                  cohort: object | None = None) -> pd.DataFrame:
    cohort = build_request_cohort([profile]) if cohort is None else cohort
    return design_for(bundle, cohort, [profile])


def _records_lines(profile: PatientProfile) -> bool:
    """Whether the profile's request cohort records a treatment line."""
    return bool(profile.prior_therapies) or (profile.setting == "metastatic"
                                             and profile.current_therapy is not None)


def _agreeing_parts(batch: list[PatientProfile]) -> list[list[PatientProfile]]:
    """The batch split by :func:`_records_lines` (empty parts left out)."""
    parts = [[p for p in batch if _records_lines(p) == records] for records in (False, True)]
    return [part for part in parts if part]


def _check_together(quick_bundles: list, batch: list[PatientProfile]) -> None:
    """The profiles of each agreeing part of ``batch`` through one design per bundle: each
    encoded row equals its design row, on the model's inputs and on every feature the design
    makes."""
    for part in _agreeing_parts(batch):
        cohort = build_request_cohort(part)
        for bundle in quick_bundles:
            design = design_for(bundle, cohort, part)
            np.testing.assert_array_equal(bundle.encoder.encode(part),
                                          bundle.input_frame(design).to_numpy(),
                                          err_msg=bundle.task)
            full = ProfileEncoder(tuple(design.columns), bundle.origin,
                                  tuple(bundle.origin_sample_types))
            np.testing.assert_array_equal(full.encode(part), design.to_numpy(dtype=float),
                                          err_msg=bundle.task)


def _check_alone(quick_bundles: list, batch: list[PatientProfile]) -> None:
    """Every profile of ``batch``, alone, against each bundle's encoder; and the design of each
    agreeing part of the batch, row by row, equals the designs of its profiles alone."""
    encoded = [bundle.encoder.encode(batch) for bundle in quick_bundles]
    computed: dict = {}  # features shared by the encoders of one request, as the API does
    for bundle, rows in zip(quick_bundles, encoded, strict=True):
        np.testing.assert_array_equal(bundle.encoder.encode(batch, computed), rows)
    alone: dict[tuple[int, int], pd.DataFrame] = {}
    for i, profile in enumerate(batch):
        cohort = build_request_cohort([profile])
        for b, (bundle, rows) in enumerate(zip(quick_bundles, encoded, strict=True)):
            design = alone[i, b] = _design_alone(bundle, profile, cohort)
            expected = bundle.input_frame(design).to_numpy()[0]
            np.testing.assert_array_equal(rows[i], expected, err_msg=str(profile))
            # every feature the request design makes, not only the model's inputs
            full = ProfileEncoder(tuple(design.columns), bundle.origin,
                                  tuple(bundle.origin_sample_types))
            np.testing.assert_array_equal(full.encode([profile])[0],
                                          design.to_numpy(dtype=float)[0],
                                          err_msg=str(profile))
    position = {id(profile): i for i, profile in enumerate(batch)}
    for part in _agreeing_parts(batch):
        cohort = build_request_cohort(part)
        for b, bundle in enumerate(quick_bundles):
            together = design_for(bundle, cohort, part)
            for j, profile in enumerate(part):
                own = alone[position[id(profile)], b]
                np.testing.assert_array_equal(
                    together.iloc[[j]].reindex(columns=own.columns).to_numpy(dtype=float),
                    own.to_numpy(dtype=float), err_msg=str(profile))


def _parity_test(examples: int, size: int, check_batch: Callable) -> Callable:
    """A test of ``examples`` random batches of ``size`` profiles, each profile checked for
    every task by ``check_batch``."""
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(batch=st.lists(profiles, min_size=size, max_size=size))
    def check(quick_bundles: dict, batch: list[PatientProfile]) -> None:
        check_batch(list(quick_bundles.values()), batch)

    return check


#: make test: 50 profiles, alone and together; make test-long (CI): 10,200 profiles together;
#: each for every task.
test_encoder_equals_the_design = _parity_test(25, 2, _check_alone)
test_encoder_equals_the_design_on_10000_profiles = pytest.mark.long(
    _parity_test(340, 30, _check_together))


def test_the_bundle_encoder_covers_the_model_inputs(quick_bundles: dict) -> None:
    for task, bundle in quick_bundles.items():
        labels = labels_for_task(load_synthetic(600)[0], TASK_NAMES[task])
        assert bundle.encoder.columns == tuple(bundle.input_features)
        assert bundle.encoder.origin == labels.origin


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(profiles, min_size=1, max_size=3))
def test_one_pass_answers_equal_the_design_path(quick_predictor: Predictor,
                                                batch: list[PatientProfile]) -> None:
    """Risk, probabilities and contributions of the encoder-and-one-pass path equal those of
    the design path (``ModelBundle.predict`` and the one pass on each profile's design)."""
    _assert_one_pass_equals_design_path(quick_predictor, batch)


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(profiles, min_size=1, max_size=3))
def test_blended_models_answer_the_same_on_both_paths(blended_predictor: Predictor,
                                                      batch: list[PatientProfile]) -> None:
    """The same for survival models blended with their linear part (``blend_weight`` 0.5):
    the linear part's contributions are added on the served path exactly as in the model."""
    _assert_one_pass_equals_design_path(blended_predictor, batch)


def _assert_one_pass_equals_design_path(quick_predictor: Predictor,
                                        batch: list[PatientProfile]) -> None:
    answer = quick_predictor.explain(batch)
    for i, profile in enumerate(batch):
        got = answer.predictions[i]
        serving = {task for task, model in quick_predictor.models.items()
                   if serves_setting(model.bundle) == profile.setting}
        answering = serving - set(got.insufficient_data) - set(got.not_applicable)
        assert set(got.explanations) == answering
        assert set(got.not_applicable) | set(got.insufficient_data) == set(
            quick_predictor.models) - answering  # the rest, each with why
        assert (got.status == "answered") == (got.endpoint in answering)
        for task in answering:
            bundle = quick_predictor.models[task].bundle
            design = _design_alone(bundle, profile)
            expected = predict(bundle, design).iloc[0]
            explained = BundleScorer.of(bundle).score(
                bundle.input_frame(design).to_numpy(dtype=float)).explanation()
            if bundle.kind == "survival":
                assert got.endpoint == task
                assert got.risk_score == pytest.approx(expected["risk_score"], abs=1e-6)
                for h, value in got.event_free_probability.items():
                    assert value == pytest.approx(expected[f"{task}_free_{h}m"], abs=1e-6)
            else:
                name = task.removeprefix("resistance_")
                assert got.resistance[name].probability == pytest.approx(
                    expected["probability"], abs=1e-6)
            explanation = got.explanations[task]
            assert explanation.base_value == pytest.approx(explained.base_value[0], abs=1e-6)
            for record in explanation.features:
                assert record.contribution == pytest.approx(
                    explained.contributions.iloc[0][record.feature], abs=1e-6)


@pytest.mark.parametrize("size", [None, 0.0, 0.5, 20.0, 20.000001, 49.99, 50.0, 50.1, 300.0])
@pytest.mark.parametrize("nodes", [None, 0, 1, 3, 4, 9, 10, 40])
def test_derived_t_and_n_categories_follow_the_design_at_its_bounds(size: float | None,
                                                                   nodes: int | None) -> None:
    """The encoder's T and N from size and nodes equal the design's rule, at the bounds too
    (the random profiles above rarely draw a size of exactly 20 or 50 mm)."""
    encoder = ProfileEncoder(("clin__t_category", "clin__n_category"), "diagnosis",
                             ("primary",))
    row = encoder.encode([PatientProfile(age_years=50, setting="early", tumor_size_mm=size,
                                         positive_lymph_nodes=nodes, sample_type="primary")])
    expected = [t_from_size(np.array([np.nan if size is None else size]))[0],
                n_from_nodes(np.array([np.nan if nodes is None else nodes]))[0]]
    np.testing.assert_array_equal(row[0], expected)  # NaN where the design has NaN
