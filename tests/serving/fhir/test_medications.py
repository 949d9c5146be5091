"""Which words of a medication concept name its drug."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.codeableconcept import CodeableConcept

from serving.fhir.codes import RXNORM, SNOMED
from serving.fhir.medications import line_class, therapy_class


def concept(**fields: object) -> CodeableConcept:
    return CodeableConcept.model_validate(fields)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"coding": [{"system": RXNORM, "code": "72965", "display": "letrozole 2.5 MG"}]},
     "endocrine"),
    ({"text": "Letrozole 2.5 mg oral tablet"}, "endocrine"),
    # a display in another code system is not a drug name
    ({"coding": [{"system": SNOMED, "code": "1", "display": "letrozole"}]}, None),
    ({"text": "letrozoles"}, None),  # whole words only
])
def test_a_drug_is_named_by_the_text_or_an_rxnorm_display(fields: dict, expected: str | None,
                                                          ) -> None:
    assert therapy_class(concept(**fields)) == expected


def test_a_cdk46_inhibitor_with_endocrine_therapy_is_one_line() -> None:
    assert line_class({"endocrine_cdk46", "endocrine"}) == "endocrine_cdk46"
    assert line_class({"anti_her2", "chemotherapy"}) == "anti_her2"
    assert line_class(set()) is None
