"""FHIR's own rules (serving/fhir/conformance.py) and mbcrisk's policy (serving/fhir/policy.py)
on Bundles of our making: each rule refuses what it should, where it should, and lets through
what FHIR allows (a null aligning a primitive array, a partial date, an unresolved reference
to a Practitioner)."""

from __future__ import annotations

import copy
import uuid
from datetime import date
from typing import Any

import pytest

from serving.fhir.conformance import bundle_issues, resource_issues
from serving.fhir.policy import policy_issues
from tests.support.mcode_bundles import entry_index, metastatic_bundle

TODAY = date(2026, 12, 6)
OBSERVATION = {"resourceType": "Observation", "status": "final", "code": {"text": "ER"}}


def _issues(resource: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(i.expression, i.diagnostics) for i in resource_issues(resource, "R")]


def _refused_at(resource: dict[str, Any], where: str) -> bool:
    return where in [e for e, _ in _issues(resource)]


@pytest.mark.parametrize(("element", "value"), [
    ("valueInteger", "2"), ("valueInteger", True), ("valueInteger", 2.5),
    ("valueBoolean", "true"), ("valueString", 3), ("valueString", ""),
    ("valueQuantity", {"value": "23"}), ("valueQuantity", {"value": True}),
    ("valueQuantity", {"value": None}), ("valueQuantity", {}), ("note", []),
    ("status", "banana"), ("status", "Final"), ("id", "a" * 65), ("id", "a b"),
    ("bogus", 1), ("valueQuantity", {"comparator": "=<", "value": 1}),
])
def test_json_types_codes_and_empties_are_refused_at_the_element(element: str,
                                                                 value: Any) -> None:
    resource = {**OBSERVATION, element: value}
    found = [e for e, _ in _issues(resource)]
    assert found
    assert all(e.startswith(f"R.{element}") for e in found)


def test_what_fhir_allows_passes() -> None:
    patient = {"resourceType": "Patient", "id": "p-1.a", "gender": "female",
               "birthDate": "1963", "active": False, "multipleBirthInteger": 0,
               "name": [{"given": ["Ann", None], "_given": [None, {"extension": [
                   {"url": "http://example.org/x", "valueString": "y"}]}]}]}
    assert _issues(patient) == []
    assert _issues({**OBSERVATION, "valueQuantity": {"value": 0, "comparator": "<"},
                    "performer": [{"reference": "Practitioner/absent"}]}) == []


def test_nulls_are_allowed_only_to_align_a_primitive_array() -> None:
    unaligned = {"resourceType": "Patient", "name": [{"given": ["Ann", None]}]}
    assert _refused_at(unaligned, "R.name[0].given[1]")
    both_null = {"resourceType": "Patient", "name": [{"given": ["Ann", None],
                                                      "_given": [None, None]}]}
    assert _refused_at(both_null, "R.name[0].given[1]")
    short = {"resourceType": "Patient", "name": [{"given": ["Ann", "B"], "_given": [None]}]}
    assert _refused_at(short, "R.name[0]._given")


@pytest.mark.parametrize(("contained", "reference", "where"), [
    ([{"resourceType": "Nonsense", "id": "x"}], "#x", "R.contained[0].resourceType"),
    ([{"resourceType": "DomainResource", "id": "x"}], "#x", "R.contained[0].resourceType"),
    ([{"resourceType": "Specimen", "id": "x"}], None, "R.contained[0]"),  # dom-3
    ([{"resourceType": "Specimen", "id": "x", "contained": [
        {"resourceType": "Specimen", "id": "y"}]}], "#x", "R.contained[0].contained"),  # dom-2
    ([{"resourceType": "Specimen", "id": "x", "meta": {"versionId": "1"}}], "#x",
     "R.contained[0].meta.versionId"),  # dom-4
    ([{"resourceType": "Specimen", "id": "x"}], "#y", "R"),  # ref-1
])
def test_contained_resource_rules(contained: list, reference: str | None, where: str) -> None:
    resource = {**OBSERVATION, "contained": contained}
    if reference:
        resource["specimen"] = {"reference": reference}
    assert _refused_at(resource, where)


def test_a_contained_resource_referenced_or_referring_to_its_container_passes() -> None:
    referenced = {**OBSERVATION, "contained": [{"resourceType": "Specimen", "id": "x"}],
                  "specimen": {"reference": "#x"}}
    assert _issues(referenced) == []
    referring = {**OBSERVATION, "contained": [{"resourceType": "Specimen", "id": "x",
                                               "parent": [{"reference": "#"}]}]}
    assert _issues(referring) == []


def _bundle(**changes: Any) -> dict[str, Any]:
    bundle, _ = metastatic_bundle()
    bundle = copy.deepcopy(bundle)
    bundle.update(changes)
    return bundle


@pytest.mark.parametrize(("change", "where"), [
    (lambda b: b.update(total=3), "Bundle.total"),  # bdl-1
    (lambda b: b["entry"][1].update(search={"mode": "match"}), "Bundle.entry[1].search"),
    (lambda b: b.update(type="transaction"), "Bundle.entry[0].request"),  # bdl-3
    (lambda b: b["entry"][1].update(request={"method": "POST", "url": "Condition"}),
     "Bundle.entry[1].request"),
    (lambda b: b.update(type="batch-response"), "Bundle.entry[0].response"),  # bdl-4
    (lambda b: b["entry"][2].update(fullUrl=b["entry"][1]["fullUrl"]),
     "Bundle.entry[2].fullUrl"),  # bdl-7
    (lambda b: b["entry"][2].update(fullUrl="http://x.org/fhir/Condition/1/_history/2"),
     "Bundle.entry[2].fullUrl"),  # bdl-8
    (lambda b: b.update(type="document"), "Bundle.entry[0].resource"),  # bdl-11
    (lambda b: b.update(type="document"), "Bundle.identifier"),  # bdl-9
    (lambda b: b.update(type="message"), "Bundle.entry[0].resource"),  # bdl-12
    (lambda b: b["entry"][0].update(fullUrl="Patient/cancer-patient-jane"),
     "Bundle.entry[0].fullUrl"),  # relative
    (lambda b: b["entry"][0].update(fullUrl="urn:uuid:not-a-uuid"), "Bundle.entry[0].fullUrl"),
    (lambda b: b["entry"][0].update(fullUrl="http://x.org/fhir/Patient/other"),
     "Bundle.entry[0].fullUrl"),  # disagrees with the id
])
def test_bundle_invariants(change: Any, where: str) -> None:
    bundle = _bundle()
    change(bundle)
    assert where in [i.expression for i in resource_issues(bundle, "Bundle")
                     + bundle_issues(bundle)]


def test_a_valid_bundle_passes_every_layer() -> None:
    bundle = _bundle()
    assert resource_issues(bundle, "Bundle") == []
    assert bundle_issues(bundle) == []
    assert policy_issues(bundle, TODAY) == []


@pytest.mark.parametrize(("change", "where"), [
    (lambda b: _at(b, "Observation", "69548-6").update(specimen={
        "reference": "Specimen/elsewhere"}), "resource.specimen"),
    (lambda b: _at(b, "Observation", "85337-4").update(subject={
        "reference": f"urn:uuid:{uuid.uuid4()}"}), "resource.subject"),
    (lambda b: _at(b, "Condition").update(onsetDateTime="2026-12-08"), "onsetDateTime"),
    (lambda b: _at(b, "Condition").update(onsetDateTime="1963-04-09"), "onsetDateTime"),
    (lambda b: _at(b, "Condition").update(onsetDateTime="1962"), "onsetDateTime"),
    (lambda b: _at(b, "Patient").update(birthDate="2027-01"), "birthDate"),
    (lambda b: b.update(timestamp="2027-01-01T00:00:00Z"), "Bundle.timestamp"),
    (lambda b: b["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}",
                                  "resource": copy.deepcopy(_at(b, "Patient"))}),
     "resource.id"),
])
def test_policy_refusals(change: Any, where: str) -> None:
    bundle = _bundle()
    change(bundle)
    found = [i.expression for i in policy_issues(bundle, TODAY)]
    assert any(e and e.endswith(where) for e in found), found


@pytest.mark.parametrize(("change"), [
    lambda b: _at(b, "Condition").update(onsetDateTime="2026-12-07"),  # one day's grace
    lambda b: _at(b, "Condition").update(onsetDateTime="1963"),  # may be after the birth
    lambda b: _at(b, "Condition").update(onsetDateTime="1963-04"),
    lambda b: _at(b, "Observation", "85337-4").update(performer=[
        {"reference": "Practitioner/absent"}, {"reference": "Organization/absent"}]),
])
def test_what_the_policy_lets_through(change: Any) -> None:
    bundle = _bundle()
    change(bundle)
    assert policy_issues(bundle, TODAY) == []


def _at(bundle: dict[str, Any], kind: str, code: str | None = None) -> dict[str, Any]:
    return bundle["entry"][entry_index(bundle, kind, code)]["resource"]
