"""Every answer of /predict and /explain carries the profile's ESCAT findings, what it did not
test and the table's version (features/actionability); the request's origin and MSI status
reach the matching."""

from __future__ import annotations

import pytest

from features.actionability.table import load_table
from serving.actionability import actionability
from serving.inference import Predictor
from serving.schemas import PatientProfile
from tests.serving.conftest import EXAMPLE

pytestmark = pytest.mark.slow

METASTATIC = {
    "age_years": 58, "er_status": "positive", "her2_status": "negative",
    "setting": "metastatic", "months_since_diagnosis": 36, "current_therapy": "endocrine",
    "prior_therapies": ["endocrine_cdk46"], "sample_type": "ctdna", "msi_status": "stable",
    "alterations": [{"gene": "ESR1", "kind": "mutation", "protein_change": "D538G"},
                    {"gene": "BRCA2", "kind": "mutation", "protein_change": "K3326*",
                     "origin": "germline"},
                    {"gene": "TP53", "kind": "mutation", "protein_change": "R175H"}],
    "profiled_genes": ["ESR1", "BRCA2", "TP53", "PIK3CA"],
}


@pytest.fixture(scope="module")
def predictor(served: dict) -> Predictor:
    from serving.store import load_served_models

    return Predictor(load_served_models())


def test_predict_and_explain_carry_the_findings_and_the_table_version(
        predictor: Predictor) -> None:
    profile = PatientProfile(**METASTATIC)
    for answer in (predictor.predict([profile]), predictor.explain([profile])):
        found = answer.predictions[0].actionability
        assert found.table_version == load_table().version
        assert [(f.finding, f.tier) for f in found.findings] == [
            ("BRCA2 K3326*", "I-A"), ("ESR1 D538G", "II")]
        assert found.findings[1].sentence.startswith("ESR1 D538G: ESCAT II for oral SERD")
        assert "ERBB2" in found.not_tested
        assert "PIK3CA" not in found.not_tested
        assert "microsatellite instability" not in found.not_tested
        assert found.notes == []


def test_an_early_primary_without_esr1_mutation_is_not_informative_for_esr1(
        predictor: Predictor) -> None:
    profile = PatientProfile(**{**EXAMPLE, "setting": "early", "sample_type": "primary",
                                "alterations": [], "profiled_genes": ["ESR1", "PIK3CA"]})
    found = predictor.predict([profile]).predictions[0].actionability
    assert found.findings == []
    assert len(found.notes) == 1
    assert "not informative for ESR1" in found.notes[0]


@pytest.mark.parametrize(("changes", "note"), [
    ({"setting": "early", "sample_type": "primary"}, "in a primary tumour sample"),
    ({"prior_therapies": [], "sample_type": "metastasis"}, "before any endocrine therapy"),
    ({"sample_type": "primary"}, "in a primary tumour sample"),
    ({"sample_type": "metastasis"}, None),  # after endocrine therapy: a real negative
])
def test_whether_the_sample_followed_endocrine_therapy_is_read_from_the_profile(
        changes: dict, note: str | None) -> None:
    profile = PatientProfile(**{**METASTATIC, "alterations": [], **changes})
    notes = actionability(profile)["notes"]
    assert notes == [] if note is None else (len(notes) == 1 and note in notes[0])


def test_a_germline_variant_is_read_for_actionability_not_by_the_models(
        predictor: Predictor) -> None:
    import numpy as np

    somatic_only = {**METASTATIC, "alterations": METASTATIC["alterations"][:1]}
    with_germline = {**METASTATIC, "alterations": [
        *somatic_only["alterations"], {"gene": "PIK3CA", "kind": "mutation",
                                       "protein_change": "H1047R", "origin": "germline"}]}
    profiles = [PatientProfile(**somatic_only), PatientProfile(**with_germline)]
    for task, encoder in predictor.encoders.items():
        assert "mut__PIK3CA" in encoder.columns, task  # the models read PIK3CA
        a, b = encoder.encode(profiles)
        np.testing.assert_array_equal(a, b)
    answer = predictor.predict(profiles[1:]).predictions[0]
    assert any(w.startswith("PIK3CA germline variant: read for actionability only")
               for w in answer.warnings)
    assert [f.finding for f in answer.actionability.findings] == [
        "ESR1 D538G", "PIK3CA H1047R"]
    assert answer.actionability.findings[1].tier is None  # the table ranks somatic PIK3CA
