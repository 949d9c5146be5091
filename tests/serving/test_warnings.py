"""Every model input a profile leaves unknown is named in the warnings, worded for people; a
model trained on synthetic data says so; a listed gene is profiled for copy number too."""

from __future__ import annotations

import numpy as np
import pytest

from models.explanation.wording import GENOMIC_INPUT_PREFIXES, input_label
from serving.inference import Predictor
from serving.profile import request_field
from serving.schemas import PatientProfile
from tests.serving.conftest import EXAMPLE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def predictor(served: dict) -> Predictor:
    from serving.store import load_served_models

    return Predictor(load_served_models())


@pytest.mark.parametrize("profile", [
    {"age_years": 50, "er_status": "positive", "her2_status": "negative", "stage": 2},
    {"age_years": 70, "er_status": "positive", "setting": "metastatic",
     "months_since_diagnosis": 30, "current_therapy": "endocrine"},
    EXAMPLE,
])
def test_every_unknown_model_input_is_named_once_by_its_request_field(
        predictor: Predictor, profile: dict) -> None:
    patient = PatientProfile(**profile)
    answer = predictor.predict([patient]).predictions[0]
    warnings = answer.warnings
    not_given = [w for w in warnings if "not given, taken as unknown" in w]
    no_field = [w for w in warnings if "the API takes no field for" in w]
    assert len(not_given) <= 1
    assert len(no_field) <= 1
    fields, checked = set(), 0
    for task, scorer in predictor.scorers.items():
        if predictor.settings[task] != patient.setting or task in answer.insufficient_data \
                or task in answer.not_applicable:
            continue  # the model does not answer this patient
        checked += 1
        row = scorer.score(predictor.encoders[task].encode([patient])).features[0]
        for feature, value in zip(scorer.features, row, strict=True):
            if not np.isnan(value):
                continue
            if feature.startswith(GENOMIC_INPUT_PREFIXES):
                assert any(scorer.groups[feature] in w and "not profiled" in w
                           for w in warnings), feature
            elif (field := request_field(feature)) is not None:
                fields.add(field)
                assert f"{field} (" in not_given[0], feature
            else:
                assert f"{input_label(feature)} (" in no_field[0], feature
    assert checked  # each profile here is answered by at least one model
    if fields:
        assert not_given[0].startswith(f"{len(fields)} input")


def test_models_trained_on_synthetic_data_say_so_in_every_prediction(
        predictor: Predictor) -> None:
    answers = predictor.explain([PatientProfile(**EXAMPLE), PatientProfile(age_years=40)])
    for prediction in answers.predictions:
        synthetic = [w for w in prediction.warnings if "SYNTHETIC" in w]
        assert len(synthetic) == len(predictor.models)


def test_a_listed_gene_is_profiled_for_copy_number_as_well(predictor: Predictor) -> None:
    scorer = predictor.scorers["relapse"]
    cna = [f for f in scorer.bundle.input_features if f.startswith("cna__")]
    assert cna, "the relapse model has no copy-number input"
    gene = cna[0].removeprefix("cna__").rsplit("_", 1)[0]
    encoder = predictor.encoders["relapse"]
    position = scorer.bundle.input_features.index(cna[0])
    early = {"age_years": 55, "setting": "early", "sample_type": "primary",
             "alterations": [{"gene": "PIK3CA", "kind": "mutation", "protein_change": "H1047R"}]}
    unlisted = PatientProfile(**{**early, "profiled_genes": ["TP53"]})
    listed = PatientProfile(**{**early, "profiled_genes": ["TP53", gene]})
    amplified = PatientProfile(**{**early, "profiled_genes": ["TP53", gene], "alterations": [
        *early["alterations"], {"gene": gene, "kind": "amplification"}]})
    values = encoder.encode([unlisted, listed, amplified])[:, position]
    assert np.isnan(values[0])
    assert values[1] == 0.0
    assert values[2] == (1.0 if cna[0].endswith("_amp") else 0.0)
