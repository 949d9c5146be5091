"""The mCODE reader: Bundles built from the IG's example patterns become the profile they mean;
malformed ones are refused naming the entry and element (FHIRPath); what cannot be used is a
warning naming where."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import date
from typing import Any

import pytest

from serving.fhir import codes
from serving.fhir.genomics import short_protein_change
from serving.fhir.mcode import read_patient, stage_group
from serving.fhir.medications import line_class, therapy_class
from serving.fhir.outcome import FhirInputError
from serving.fhir.parse import parse_bundle
from serving.schemas import PatientProfile
from tests.conftest import REPO
from tests.support.mcode_bundles import (
    LOINC,
    SNOMED,
    early_bundle,
    entry_index,
    hook_call,
    metastatic_bundle,
)

TODAY = date(2026, 12, 1)


def _read(bundle: dict[str, Any]) -> Any:
    return read_patient(parse_bundle(bundle, TODAY), TODAY)


def _refused(bundle: Any) -> list[tuple[str, str]]:
    """(expression, diagnostics) of every issue of the refusal."""
    with pytest.raises(FhirInputError) as refused:
        _read(bundle)
    return [(i.expression, i.diagnostics) for i in refused.value.issues]


def test_a_metastatic_patient_reads_as_the_equivalent_profile() -> None:
    bundle, expected = metastatic_bundle()
    read = _read(bundle)
    assert read.profile == PatientProfile(**expected)
    assert read.patient == bundle["entry"][0]["fullUrl"]
    # every resource that fed the profile is in the basis; nothing used is left out
    used = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] != "Specimen"}
    assert set(read.basis) == used
    assert read.warnings == []


def test_an_early_patient_reads_as_the_equivalent_profile() -> None:
    bundle, expected = early_bundle()
    assert _read(bundle).profile == PatientProfile(**expected)


@pytest.mark.parametrize(("system", "code", "status"), [
    (LOINC, "LA6576-8", "positive"), (LOINC, "LA6577-6", "negative"),
    (SNOMED, "10828004", "positive"), (SNOMED, "260385009", "negative"),
    (SNOMED, "42425007", "equivocal")])
def test_receptor_answers(system: str, code: str, status: str) -> None:
    bundle, _ = metastatic_bundle()
    her2 = bundle["entry"][entry_index(bundle, "Observation", "48676-1")]["resource"]
    her2["valueCodeableConcept"] = {"coding": [{"system": system, "code": code}]}
    assert _read(bundle).profile.her2_status == status


def test_an_unknown_receptor_answer_is_a_warning_naming_where() -> None:
    bundle, _ = metastatic_bundle()
    index = entry_index(bundle, "Observation", "85337-4")
    bundle["entry"][index]["resource"]["valueCodeableConcept"] = {"text": "weakly positive"}
    read = _read(bundle)
    assert read.profile.er_status is None
    assert [w.expression for w in read.warnings] == [
        f"Bundle.entry[{index}].resource.valueCodeableConcept"]


def test_elements_that_cannot_be_used_are_warnings_never_silent() -> None:
    bundle, expected = metastatic_bundle()
    bundle["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": {
        "resourceType": "Observation", "status": "final", "subject": {
            "reference": bundle["entry"][0]["fullUrl"]},
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "valueString": "120/80"}})
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationStatement", "status": "active", "subject": {
            "reference": bundle["entry"][0]["fullUrl"]},
        "medicationCodeableConcept": {"text": "paracetamol"}}})
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "status": "entered-in-error", "subject": {
            "reference": bundle["entry"][0]["fullUrl"]},
        "code": {"coding": [{"system": LOINC, "code": "85337-4"}]},
        **{"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6577-6"}]}}}})
    read = _read(bundle)
    n = len(bundle["entry"])
    assert [w.expression for w in read.warnings] == [
        f"Bundle.entry[{n - 3}].resource.code", f"Bundle.entry[{n - 1}].resource.status",
        f"Bundle.entry[{n - 2}].resource.medication"]
    assert read.profile == PatientProfile(**expected)  # none of them changed the profile


def _broken(change: Any) -> dict[str, Any]:
    bundle, _ = metastatic_bundle()
    bundle = copy.deepcopy(bundle)
    change(bundle)
    return bundle


def _at(bundle: dict[str, Any], kind: str, code: str | None = None) -> dict[str, Any]:
    return bundle["entry"][entry_index(bundle, kind, code)]["resource"]


@pytest.mark.parametrize(("change", "where", "words"), [
    (lambda b: _at(b, "Observation", "21889-1")["valueQuantity"].update(value="big"),
     "Bundle.entry[{obs_size}].resource.valueQuantity.value", "JSON number"),
    (lambda b: _at(b, "Observation", "21893-3").update(valueInteger="two"),
     "Bundle.entry[{obs_nodes}].resource.valueInteger", "integer"),
    (lambda b: _at(b, "Observation", "85337-4").pop("status"),
     "Bundle.entry[{obs_er}].resource.status", "required"),
    (lambda b: _at(b, "Observation", "85337-4").update(status="done"),
     "Bundle.entry[{obs_er}].resource.status", "required value set"),
    (lambda b: _at(b, "Observation", "85337-4")["code"]["coding"][0].update(code="85337-5"),
     "Bundle.entry[{obs_er}].resource.code.coding[0].code", "not a LOINC code"),
    (lambda b: _at(b, "Observation", "85339-0").update(subject={"reference": "Patient/none"}),
     "Bundle.entry[{obs_pr}].resource.subject", "no entry of the Bundle"),
    (lambda b: _at(b, "Observation", "69548-6").update(
        specimen={"reference": f"urn:uuid:{uuid.uuid4()}"}),
     "Bundle.entry[{obs_variant}].resource.specimen", "no entry of the Bundle"),
    (lambda b: _at(b, "Patient").pop("birthDate"),
     "Bundle.entry[0].resource.birthDate", "age at diagnosis"),
    (lambda b: _at(b, "Condition").pop("onsetDateTime"),
     "Bundle.entry[{condition}].resource.onset", "date of diagnosis"),
    (lambda b: b["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}",
                                  "resource": {**_at(b, "Patient"), "id": "another"}}),
     "Bundle.entry", "exactly one Patient"),
    (lambda b: _at(b, "Condition")["meta"].update(profile=["http://example.org/x"]),
     "Bundle.entry",
     "exactly one primary cancer Condition"),
    (lambda b: _at(b, "Condition").update(resourceType="Conditionx"),
     "Bundle.entry[{condition}].resource.resourceType", "not a concrete FHIR R4 resource"),
    (lambda b: b["entry"][3].update(resource=[1, 2]), "Bundle.entry[3].resource",
     "JSON object"),
    (lambda b: b.update(entry={"a": 1}), "Bundle.entry", "array"),
    (lambda b: b.update(resourceType="Patient"), "Bundle.resourceType", "Bundle"),
])
def test_malformed_bundles_are_refused_naming_the_entry_and_element(
        change: Any, where: str, words: str) -> None:
    bundle, _ = metastatic_bundle()
    places = {"obs_size": entry_index(bundle, "Observation", "21889-1"),
              "obs_nodes": entry_index(bundle, "Observation", "21893-3"),
              "obs_er": entry_index(bundle, "Observation", "85337-4"),
              "obs_pr": entry_index(bundle, "Observation", "85339-0"),
              "obs_variant": entry_index(bundle, "Observation", "69548-6"),
              "condition": entry_index(bundle, "Condition")}
    issues = _refused(_broken(change))
    assert any(expression == where.format(**places) and words in diagnostics
               for expression, diagnostics in issues), issues


def test_refusals_never_repeat_a_value_of_the_request() -> None:
    secret = "secret-pid-0091"
    issues = _refused(_broken(lambda b: _at(b, "Observation", "21889-1")[
        "valueQuantity"].update(value=secret)))
    assert secret not in repr(issues)


@pytest.mark.parametrize(("text", "short"), [
    ("NP_000116.2:p.Asp538Gly", "D538G"), ("p.(Tyr537Ser)", "Y537S"), ("p.H1047R", "H1047R"),
    ("NP_002519.2:p.Trp243Ter", "W243*"), ("p.Glu545fs", "E545fs"),
    ("NM_005228.4:c.2573T>G", None), ("", None)])
def test_protein_changes_from_hgvs(text: str, short: str | None) -> None:
    concept = type("Concept", (), {"coding": [type("Coding", (), {
        "system": codes.HGVS, "code": text, "display": None})()], "text": None})()
    assert short_protein_change(concept) == short


@pytest.mark.parametrize(("text", "therapy"), [
    ("letrozole 2.5 MG Oral Tablet", "endocrine"), ("Palbociclib", "endocrine_cdk46"),
    ("ado-trastuzumab emtansine", "anti_her2"), ("trastuzumab", "anti_her2"),
    ("paracetamol", None)])
def test_medication_classes(text: str, therapy: str | None) -> None:
    concept = type("Concept", (), {"coding": [], "text": text})()
    assert therapy_class(concept) == therapy


def test_lines_combine_cdk46_with_endocrine_and_name_her2_lines() -> None:
    assert line_class({"endocrine", "endocrine_cdk46"}) == "endocrine_cdk46"
    assert line_class({"endocrine_cdk46"}) == "endocrine_cdk46"
    assert line_class({"anti_her2", "chemotherapy"}) == "anti_her2"
    assert line_class(set()) is None


@pytest.mark.parametrize(("coding", "stage"), [
    ({"system": codes.AJCC, "code": "3C"}, 3), ({"system": SNOMED, "display": "IIB"}, 2),
    ({"system": SNOMED, "display": "American Joint Committee on Cancer stage 0a"}, 0),
    ({"system": SNOMED, "display": "IV"}, 4), ({"system": SNOMED, "display": "pending"}, None),
    ({"system": codes.AJCC, "code": "IIB"}, 2), ({"system": SNOMED, "display": "Stage 4"}, 4)])
def test_stage_groups(coding: dict, stage: int | None) -> None:
    concept = type("Concept", (), {"coding": [type("Coding", (), {
        "system": coding["system"], "code": coding.get("code"),
        "display": coding.get("display")})()], "text": None})()
    assert stage_group(concept) == stage


def test_loinc_check_digits() -> None:
    for code in [*codes.RECEPTOR_TESTS, codes.VARIANT, codes.GENE_STUDIED, codes.TMB,
                 codes.AMINO_ACID_CHANGE, codes.REGION_STUDIED, codes.ECOG]:
        assert codes.is_loinc(code)
        digits, check = code.split("-")
        assert not codes.is_loinc(f"{digits}-{(int(check) + 1) % 10}")


def test_the_documented_examples_are_the_tested_patients() -> None:
    """docs/examples/ holds the Bundle and CDS call these tests use, so docs/fhir.md's curl
    examples send exactly what is tested."""
    examples = REPO / "docs" / "examples"
    bundle, _ = metastatic_bundle()
    assert json.loads((examples / "mcode-bundle.json").read_text()) == bundle
    call = json.loads((examples / "cds-patient-view.json").read_text())
    assert call == hook_call(bundle, call["hookInstance"])
    assert read_patient(parse_bundle(bundle, TODAY), TODAY).profile.setting == "metastatic"


# Found by an independent review: each was a 500, a wrong profile or a value echoed back.

def _entry_of(bundle: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    patient = bundle["entry"][0]["fullUrl"]
    name = uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(resource, sort_keys=True))
    return {"fullUrl": f"urn:uuid:{name}",
            "resource": {**resource, "subject": {"reference": patient}}}


def test_a_variant_specimen_that_is_not_a_specimen_is_refused() -> None:
    bundle, _ = metastatic_bundle()
    index = entry_index(bundle, "Observation", "69548-6")
    bundle["entry"][index]["resource"]["specimen"] = {"reference": bundle["entry"][0]["fullUrl"]}
    assert (f"Bundle.entry[{index}].resource.specimen", "the variant's specimen refers to a "
            "Patient, not a Specimen") in _refused(bundle)


def test_numbers_that_are_not_finite_are_warnings() -> None:
    bundle, _ = metastatic_bundle()
    index = entry_index(bundle, "Observation", "21893-3")
    bundle["entry"][index]["resource"].pop("valueInteger")
    bundle["entry"][index]["resource"]["valueQuantity"] = {"value": 10 ** 400}
    read = _read(bundle)
    assert read.profile.positive_lymph_nodes is None
    assert f"Bundle.entry[{index}].resource.value" in [w.expression for w in read.warnings]


def test_extensions_nested_absurdly_deep_are_a_400() -> None:
    bundle, _ = metastatic_bundle()
    nested: dict[str, Any] = {"url": "x", "valueString": "y"}
    for _ in range(300):
        nested = {"url": "x", "extension": [nested]}
    bundle["entry"][0]["resource"]["extension"] = [nested]
    assert ("Bundle.entry[0].resource", "elements nested too deeply") in _refused(bundle)


def test_a_refuted_secondary_cancer_does_not_make_the_patient_metastatic() -> None:
    bundle, _ = early_bundle()
    secondary = copy.deepcopy(metastatic_bundle()[0]["entry"][
        entry_index(metastatic_bundle()[0], "Condition") + 1]["resource"])
    secondary["verificationStatus"] = {"coding": [{
        "system": codes.CONDITION_VERIFICATION, "code": "refuted"}]}
    bundle["entry"].append(_entry_of(bundle, secondary))
    read = _read(bundle)
    assert read.profile.setting == "early"
    assert read.warnings[-1].expression == (f"Bundle.entry[{len(bundle['entry']) - 1}]"
                                            ".resource.verificationStatus")


def test_regional_nodes_c77_are_not_metastatic_disease() -> None:
    bundle, _ = early_bundle()
    bundle["entry"].append(_entry_of(bundle, {
        "resourceType": "Condition", "code": {"coding": [{
            "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C77.3"}]}}))
    assert _read(bundle).profile.setting == "early"


def _medication(name: str, kind: str = "MedicationStatement", status: str = "active",
                start: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": kind, "status": status,
                                "medicationCodeableConcept": {"text": name}}
    if start is not None:
        resource["effectiveDateTime" if kind == "MedicationAdministration"
                 else "effectivePeriod"] = start if kind == "MedicationAdministration" else {
            "start": start}
    return resource


def _without_medications(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "MedicationStatement"]
    return bundle


def test_a_recent_completed_infusion_belongs_to_the_current_line() -> None:
    bundle = _without_medications(metastatic_bundle()[0])
    bundle["entry"].append(_entry_of(bundle, _medication(
        "trastuzumab", "MedicationAdministration", "completed", "2026-11-20")))
    bundle["entry"].append(_entry_of(bundle, _medication(
        "paclitaxel", "MedicationAdministration", "completed", "2021-01-10")))
    profile = _read(bundle).profile
    assert profile.current_therapy == "anti_her2"
    assert profile.prior_therapies == ["chemotherapy"]


def test_the_current_line_starts_at_its_earliest_start_never_in_the_future() -> None:
    bundle = _without_medications(metastatic_bundle()[0])
    bundle["entry"].append(_entry_of(bundle, _medication("letrozole", start="2023-01-10")))
    bundle["entry"].append(_entry_of(bundle, _medication("fulvestrant", status="intended",
                                                         start="2027-03-01")))
    profile = _read(bundle).profile
    expected = round((date(2023, 1, 10) - date(2019, 3, 12)).days / (365.25 / 12), 2)
    assert profile.months_since_diagnosis == expected


def test_prior_therapies_are_lines_adjuvant_first() -> None:
    bundle = _without_medications(metastatic_bundle()[0])
    for name, start in (("cyclophosphamide", "2019-04-01"), ("tamoxifen", "2019-10-01"),
                        ("fulvestrant", "2022-07-01"), ("capecitabine", "2023-05-01")):
        bundle["entry"].append(_entry_of(bundle, _medication(name, status="completed",
                                                             start=start)))
    bundle["entry"].append(_entry_of(bundle, _medication("paclitaxel", start="2024-02-01")))
    profile = _read(bundle).profile
    # one adjuvant line (chemotherapy then tamoxifen), then two metastatic lines
    assert profile.prior_therapies == ["chemotherapy", "endocrine", "chemotherapy"]
    assert profile.current_therapy == "chemotherapy"
    early = _without_medications(early_bundle()[0])
    for name in ("letrozole", "palbociclib"):
        early["entry"].append(_entry_of(early, _medication(name, start="2019-05-01")))
    assert _read(early).profile.prior_therapies == ["endocrine_cdk46"]


def test_a_variant_keeps_its_genomic_source_class_and_msi_is_read() -> None:
    bundle, _ = metastatic_bundle()
    index = entry_index(bundle, "Observation", "69548-6")
    bundle["entry"][index]["resource"]["component"].append({
        "code": {"coding": [{"system": LOINC, "code": codes.GENOMIC_SOURCE}]},
        "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6683-2"}]}})
    bundle["entry"].append(_entry_of(bundle, {
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": codes.MSI}]},
        "subject": {"reference": bundle["entry"][0]["fullUrl"]},
        "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA26203-2"}]}}))
    read = _read(bundle)
    esr1 = next(a for a in read.profile.alterations if a.gene == "ESR1")
    assert esr1.origin == "germline"
    assert read.profile.msi_status == "high"
    assert read.finding_sources["ESR1 D538G"] == bundle["entry"][index]["fullUrl"]
    assert read.finding_sources["MSI-high"] == bundle["entry"][-1]["fullUrl"]
    bundle["entry"][-1]["resource"]["valueCodeableConcept"]["coding"][0]["code"] = "LA11884-6"
    read = _read(bundle)  # indeterminate: not read, and said
    assert read.profile.msi_status is None
    assert any("microsatellite" in w.diagnostics for w in read.warnings)


def test_unread_histology_stays_unknown_and_statuses_are_never_echoed() -> None:
    bundle, _ = metastatic_bundle()
    condition = bundle["entry"][entry_index(bundle, "Condition")]["resource"]
    condition["extension"][0]["valueCodeableConcept"] = {"coding": [{
        "system": SNOMED, "code": "82711006"}]}
    secret = "secret-pid-0042 1963-04-10"
    bundle["entry"].append(_entry_of(bundle, _medication("letrozole", status=secret)))
    assert secret not in repr(_refused(bundle))
    bundle["entry"].pop()
    assert _read(bundle).profile.histology is None


def test_out_of_range_values_are_dropped_with_a_warning_naming_the_entry() -> None:
    bundle, _ = metastatic_bundle()
    index = entry_index(bundle, "Observation", "89247-1")
    bundle["entry"][index]["resource"]["valueInteger"] = 5  # valid ECOG, outside the models'
    read = _read(bundle)
    assert read.profile.ecog is None
    assert (f"Bundle.entry[{index}].resource.value", "ecog outside the range the models "
            "accept: not used") in [(w.expression, w.diagnostics) for w in read.warnings]


def test_the_latest_result_wins() -> None:
    bundle, _ = metastatic_bundle()
    index = entry_index(bundle, "Observation", "85337-4")
    later = copy.deepcopy(bundle["entry"][index]["resource"])
    bundle["entry"][index]["resource"]["effectiveDateTime"] = "2022-06-10"
    later["effectiveDateTime"] = "2019-03-20"
    later["valueCodeableConcept"] = {"coding": [{"system": LOINC, "code": "LA6577-6"}]}
    bundle["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": later})
    assert _read(bundle).profile.er_status == "positive"  # 2022's, though listed first


def test_data_types_are_not_entries() -> None:
    bundle, _ = metastatic_bundle()
    bundle["entry"].append({"resource": {"resourceType": "Quantity", "value": 1}})
    assert any("not a concrete FHIR R4 resource" in d for _, d in _refused(bundle))


@pytest.mark.parametrize(("text", "symbol"), [("C1orf112", "C1orf112"), ("esr1", "ESR1")])
def test_gene_symbols_as_hgnc_writes_them(text: str, symbol: str) -> None:
    from serving.fhir.genomics import gene_symbol

    assert gene_symbol(type("Concept", (), {"coding": [], "text": text})()) == symbol
