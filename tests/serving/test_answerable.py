"""The API answers only what its models know: a model without its minimum data says
``insufficient_data`` with the fields it needs (no score, no group); a resistance label that does
not describe the patient is ``not_applicable`` with the reason; a patient beyond the line the
label was defined on gets the answer with a note; a model trained on T and N categories answers
patients who give tumour size and nodes (pT and pN derived), its risk rising with the nodes."""

from __future__ import annotations

import numpy as np
import pytest

from features.cohorts.cohort import Cohort
from features.cohorts.schema import TABLES
from features.cohorts.synthetic import build_synthetic_cohort
from features.cohorts.validation import build_cohort
from features.design import n_from_nodes, t_from_size
from serving.inference import LoadedModel, Predictor
from serving.schemas import ModelInfo, PatientProfile
from tests.support.quick_bundle import fit_bundle

METASTATIC = {"age_years": 58, "er_status": "positive", "pr_status": "positive",
              "her2_status": "negative", "setting": "metastatic",
              "months_since_diagnosis": 36, "current_therapy": "endocrine_cdk46",
              "prior_therapies": ["endocrine"], "metastatic_sites": ["bone"]}


def test_an_age_only_patient_gets_insufficient_data_not_a_risk_group(
        quick_predictor: Predictor) -> None:
    answer = quick_predictor.explain([PatientProfile(age_years=50)]).predictions[0]
    assert answer.status == "insufficient_data"
    assert answer.risk_score is None
    assert answer.risk_group is None
    assert answer.event_free_probability == {}
    assert answer.applicability is None
    assert "relapse" not in answer.explanations
    needed = answer.insufficient_data["relapse"]
    assert "er_status" in needed
    assert "her2_status" in needed
    assert any(field.startswith("stage") for field in needed)
    assert not any("not given, taken as unknown" in w
                   for w in answer.warnings)  # the model did not answer: no input warnings


def test_the_minimum_data_suffices_and_either_stage_route_is_enough(
        quick_predictor: Predictor) -> None:
    base = {"age_years": 50, "er_status": "positive", "her2_status": "negative"}
    by_size = PatientProfile(**base, tumor_size_mm=25, positive_lymph_nodes=1)
    by_category = PatientProfile(**base, t_category="T2", n_category="N1")
    size_only = PatientProfile(**base, tumor_size_mm=25)
    answers = quick_predictor.predict([by_size, by_category, size_only]).predictions
    assert [a.status for a in answers[:2]] == ["answered", "answered"]
    assert answers[2].status == "insufficient_data"


def test_a_metastatic_patient_without_her_current_line_gets_no_progression_answer(
        quick_predictor: Predictor) -> None:
    profile = PatientProfile(**{**METASTATIC, "current_therapy": None})
    answer = quick_predictor.predict([profile]).predictions[0]
    assert answer.status == "insufficient_data"
    assert answer.insufficient_data["progression"] == ["current_therapy"]
    assert answer.insufficient_data["resistance_endocrine"] == ["current_therapy"]
    assert answer.resistance == {}


def test_endocrine_resistance_does_not_apply_to_an_er_negative_patient_on_anti_her2(
        quick_predictor: Predictor) -> None:
    profile = PatientProfile(**{**METASTATIC, "er_status": "negative", "pr_status": "negative",
                                "her2_status": "positive", "current_therapy": "anti_her2",
                                "prior_therapies": ["anti_her2"]})
    answer = quick_predictor.explain([profile]).predictions[0]
    assert answer.status == "answered"  # progression on the line applies
    assert "endocrine" not in answer.resistance
    assert "resistance_endocrine" not in answer.explanations
    assert "ER-negative" in answer.not_applicable["resistance_endocrine"]


def test_a_line_that_is_not_endocrine_based_is_not_described_by_the_label(
        quick_predictor: Predictor) -> None:
    profile = PatientProfile(**{**METASTATIC, "current_therapy": "chemotherapy"})
    answer = quick_predictor.predict([profile]).predictions[0]
    assert "endocrine" not in answer.resistance
    assert "not an endocrine-based line" in answer.not_applicable["resistance_endocrine"]


def test_a_fourth_line_endocrine_patient_gets_the_answer_with_a_note(
        quick_predictor: Predictor) -> None:
    first = PatientProfile(**{**METASTATIC, "prior_therapies": ["endocrine"]})
    fourth = PatientProfile(**{**METASTATIC, "prior_therapies": [
        "endocrine", "endocrine", "chemotherapy", "endocrine_cdk46"]})
    answers = quick_predictor.predict([first, fourth]).predictions
    assert answers[0].resistance["endocrine"].notes == []  # the adjuvant line is not a line
    notes = answers[1].resistance["endocrine"].notes
    assert len(notes) == 1
    assert "first metastatic line of endocrine therapy" in notes[0]
    assert "2 earlier metastatic lines" in notes[0]
    assert "metastatic line 4" in notes[0]


def _categories_only(cohort: Cohort) -> Cohort:
    """The cohort as a study recording T and N categories, not tumour size or node counts."""
    tables = {name: cohort.table(name) for name in TABLES}
    patients = tables["patients"].copy()
    patients["t_category"] = t_from_size(patients["tumor_size_mm"].to_numpy(
        dtype=float, na_value=np.nan))
    patients["n_category"] = n_from_nodes(patients["positive_nodes"].to_numpy(
        dtype=float, na_value=np.nan))
    patients[["tumor_size_mm", "positive_nodes", "npi", "stage"]] = np.nan
    tables["patients"] = patients
    return build_cohort(dict(cohort.metadata), **tables)


@pytest.fixture(scope="module")
def category_predictor(quick_bundles: dict) -> Predictor:
    cohort = _categories_only(build_synthetic_cohort(1500, 11))
    relapse, _, _ = fit_bundle(cohort, "relapse", n_estimators=60)
    info = ModelInfo(name="categories", version="1", alias="champion", run_id="none")
    models = {"relapse": relapse, "progression": quick_bundles["progression"]}
    return Predictor({task: LoadedModel(bundle, info) for task, bundle in models.items()})


def test_a_model_trained_on_t_and_n_categories_answers_by_size_and_nodes(
        category_predictor: Predictor) -> None:
    learned = category_predictor.models["relapse"].bundle.learned_features
    assert {"clin__t_category", "clin__n_category"} <= learned
    assert not {"clin__tumor_size_mm", "clin__positive_nodes"} & learned
    base = {"age_years": 55, "er_status": "positive", "her2_status": "negative",
            "tumor_size_mm": 30, "grade": 2}
    nodes = [0, 2, 5, 12]  # pN0, pN1, pN2, pN3
    answers = category_predictor.predict([PatientProfile(**base, positive_lymph_nodes=n)
                                          for n in nodes]).predictions
    assert all(a.status == "answered" for a in answers)
    risks = [a.risk_score for a in answers]
    assert risks == sorted(risks), risks
    assert risks[-1] > risks[0], risks
    stage_only = PatientProfile(age_years=55, er_status="positive", her2_status="negative",
                                stage=2)
    answer = category_predictor.predict([stage_only]).predictions[0]
    assert answer.status == "insufficient_data"  # it never learned from a stage
