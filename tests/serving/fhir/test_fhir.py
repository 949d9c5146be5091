"""The FHIR routes and the CDS Hooks service on the same prediction path as ``/explain``:
an mCODE Bundle and the equivalent JSON profile give identical numbers; bad Bundles are 400
OperationOutcomes naming where; CDS cards for a metastatic patient; keys, audit and privacy as
on every route; and the same against a real ``mbcrisk serve``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from starlette.testclient import TestClient

from serving.audit import AuditLog
from serving.fhir.answer import EXPLANATION, IN_DOMAIN, RISK_SCORE
from serving.fhir.cds_hooks import SERVICE_ID, SYNTHETIC_PREFIX
from serving.settings import Settings
from tests.serving.conftest import auth, running_server
from tests.support.mcode_bundles import early_bundle, entry_index, hook_call, metastatic_bundle

pytestmark = pytest.mark.slow
FHIR = {"Content-Type": "application/fhir+json"}
#: An identifier and a value carried by the Bundles; neither may reach a log.
SECRET_MRN = "secret-pid-fhir-7781"


@pytest.fixture(scope="module")
def client(served: dict) -> Iterator[TestClient]:
    from serving.service import MBCRiskService

    with TestClient(MBCRiskService.to_asgi()) as test_client:
        yield test_client


def _with_identifier(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"][0]["resource"]["identifier"] = [{"system": "urn:mrn", "value": SECRET_MRN}]
    return bundle


def _resources(answer: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in answer["entry"] if e["resource"]["resourceType"] == kind]


def _by_task(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["method"]["coding"][0]["display"]: r for r in _resources(answer, "RiskAssessment")}


def _extension(resource: dict[str, Any], url: str) -> Any:
    return next(e for e in resource.get("extension", []) if e["url"] == url)


def _drivers(explanation: dict[str, Any], kind: str) -> dict[str, float]:
    out = {}
    for part in explanation["extension"]:
        if part["url"] == kind:
            fields = {f["url"]: f for f in part["extension"]}
            out[fields["name"]["valueString"]] = fields["contribution"]["valueDecimal"]
    return out


@pytest.mark.parametrize("patient", [metastatic_bundle, early_bundle])
def test_a_bundle_and_the_equivalent_profile_give_identical_numbers(
        client: TestClient, served: dict, patient: Any) -> None:
    bundle, profile = patient()
    answer = client.post("/fhir/explain", content=json.dumps(bundle),
                         headers={**auth(served), **FHIR})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    Bundle.model_validate(answer.json())  # a valid FHIR Bundle
    expected = client.post("/explain", json={"patients": [profile]},
                           headers=auth(served)).json()["predictions"][0]
    assessments = _by_task(answer.json())
    endpoint = assessments[expected["endpoint"]]
    assert _extension(endpoint, RISK_SCORE)["valueDecimal"] == pytest.approx(
        expected["risk_score"], abs=1e-6)
    horizons = {p["whenRange"]["high"]["value"]: p["probabilityDecimal"]
                for p in endpoint["prediction"]}
    assert horizons == pytest.approx({float(h): 1 - s for h, s in
                                      expected["event_free_probability"].items()}, abs=1e-6)
    assert {p["qualitativeRisk"]["text"] for p in endpoint["prediction"]} == {
        expected["risk_group"]}
    assert _extension(endpoint, IN_DOMAIN)["valueBoolean"] == expected["applicability"][
        "in_domain"]
    assert set(assessments) == {expected["endpoint"], *(
        f"resistance_{t}" for t in expected["resistance"])}
    for therapy, resistance in expected["resistance"].items():
        assessment = assessments[f"resistance_{therapy}"]
        assert assessment["prediction"][0]["probabilityDecimal"] == pytest.approx(
            resistance["probability"], abs=1e-6)
    for task, explanation in expected["explanations"].items():
        fhir_explanation = _extension(assessments[task], EXPLANATION)
        for kind, records, name in (("group", explanation["groups"], "group"),
                                    ("feature", explanation["features"], "feature")):
            assert _drivers(fhir_explanation, kind) == pytest.approx(
                {r[name]: r["contribution"] for r in records}, abs=1e-6)
    outcome = _resources(answer.json(), "OperationOutcome")[0]
    said = {i["diagnostics"] for i in outcome["issue"]}
    assert set(expected["warnings"]) <= said
    assert {f"{task}: {why}" for task, why in expected["not_applicable"].items()} <= said


def test_the_metastatic_answer_references_its_basis_and_names_the_model(
        client: TestClient, served: dict) -> None:
    bundle, _ = metastatic_bundle()
    answer = client.post("/fhir/predict", content=json.dumps(bundle),
                         headers={**auth(served), **FHIR}).json()
    progression = _by_task(answer)["progression"]
    patient = bundle["entry"][0]["fullUrl"]
    assert progression["subject"] == {"reference": patient}
    assert {b["reference"] for b in progression["basis"]} >= {
        patient, bundle["entry"][entry_index(bundle, "Observation", "69548-6")]["fullUrl"]}
    assert progression["method"]["coding"][0]["code"] == "mbcrisk-progression"
    assert progression["method"]["coding"][0]["version"]
    assert all(p["whenRange"]["high"]["code"] == "mo" for p in progression["prediction"])
    assert not any(e["url"] == EXPLANATION for e in progression["extension"])  # predict
    assert "progression" in progression["note"][0]["text"]
    said = _resources(answer, "OperationOutcome")[0]["issue"]
    assert any("relapse" in i["diagnostics"] and i["severity"] == "information" for i in said)


def test_tiered_findings_are_therapeutic_implications_derived_from_their_variants(
        client: TestClient, served: dict) -> None:
    from fhir.resources.R4B.observation import Observation

    from features.actionability.table import load_table
    from serving.fhir.implications import ESCAT_SYSTEM
    from tests.support.mcode_bundles import variant

    bundle, _ = metastatic_bundle()
    germline = variant("BRCA2", "HGNC:1101", "p.Lys3326Ter")
    germline["component"].append({
        "code": {"coding": [{"system": "http://loinc.org", "code": "48002-0"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org",
                                             "code": "LA6683-2"}]}})
    germline["subject"] = {"reference": bundle["entry"][0]["fullUrl"]}
    bundle["entry"].append({"fullUrl": "urn:uuid:6a1f3e0e-0000-4000-8000-000000000077",
                            "resource": germline})
    answer = client.post("/fhir/predict", content=json.dumps(bundle),
                         headers={**auth(served), **FHIR}).json()
    implications = {o["component"][0]["valueCodeableConcept"]["coding"][0]["code"]:
                    o for o in _resources(answer, "Observation")}
    esr1 = bundle["entry"][entry_index(bundle, "Observation", "69548-6")]["fullUrl"]
    assert {tier: o["derivedFrom"] for tier, o in implications.items()} == {
        "I-A": [{"reference": "urn:uuid:6a1f3e0e-0000-4000-8000-000000000077"}],
        "II": [{"reference": esr1}]}
    for observation in implications.values():  # the profile's required elements, by hand
        Observation.model_validate(observation)
        assert observation["meta"]["profile"] == [
            "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
            "therapeutic-implication"]
        assert observation["status"] == "final"
        assert observation["category"][0]["coding"][0]["code"] == "laboratory"
        assert observation["code"]["coding"][0]["code"] == "therapeutic-implication"
        assert observation["subject"] == {"reference": bundle["entry"][0]["fullUrl"]}
        assert not any(key.startswith("value") for key in observation)
        codes = [c["code"]["coding"][0]["code"] for c in observation["component"]]
        assert codes == ["93044-6", "51963-7"]
        level = observation["component"][0]["valueCodeableConcept"]["coding"][0]
        assert level["system"] == ESCAT_SYSTEM
        assert "not a recommendation" in observation["note"][0]["text"]
        assert load_table().version in observation["note"][0]["text"]
    said = {i["diagnostics"] for i in _resources(answer, "OperationOutcome")[0]["issue"]}
    assert f"actionability: ESCAT table {load_table().version}" in said
    assert any(s.startswith("actionability: not tested") for s in said)


def test_explained_notes_word_the_drivers(client: TestClient, served: dict) -> None:
    bundle, _ = metastatic_bundle()
    answer = client.post("/fhir/explain", content=json.dumps(bundle),
                         headers={**auth(served), **FHIR}).json()
    notes = [n["text"] for n in _by_task(answer)["resistance_endocrine"]["note"]]
    assert any(n.startswith("Largest drivers:") and "ESR1" in n for n in notes)


@pytest.mark.parametrize(("change", "status", "where"), [
    (lambda b: b["entry"][entry_index(b, "Observation", "85337-4")]["resource"].pop(
        "status"), 400, "Bundle.entry[{er}].resource.status"),
    (lambda b: b["entry"][entry_index(b, "Observation", "85337-4")]["resource"]["code"][
        "coding"][0].update(code="12345-0"), 400,
     "Bundle.entry[{er}].resource.code.coding[0].code"),
    (lambda b: b["entry"][entry_index(b, "Observation", "21893-3")]["resource"].update(
        valueInteger=[2]), 400, "Bundle.entry[{nodes}].resource.valueInteger"),
    (lambda b: b["entry"][entry_index(b, "Observation", "85337-4")]["resource"].update(
        subject={"reference": "Patient/absent"}), 400, "Bundle.entry[{er}].resource.subject"),
    (lambda b: b["entry"].pop(0), 400, "Bundle.entry[0].resource.subject"),
])
def test_bad_bundles_are_400_operation_outcomes_naming_where(
        client: TestClient, served: dict, change: Any, status: int, where: str) -> None:
    bundle, _ = metastatic_bundle()
    places = {"er": entry_index(bundle, "Observation", "85337-4"),
              "nodes": entry_index(bundle, "Observation", "21893-3")}
    change(bundle)
    response = client.post("/fhir/explain", content=json.dumps(bundle),
                           headers={**auth(served), **FHIR})
    assert response.status_code == status
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert where.format(**places) in [e for i in outcome["issue"] for e in i["expression"]]


def test_gateway_refusals_on_fhir_routes_are_operation_outcomes(
        client: TestClient, served: dict) -> None:
    bundle, _ = metastatic_bundle()
    for headers, status in (({**FHIR}, 401), ({**auth(served), "Content-Type": "text/plain"},
                                               415)):
        response = client.post("/fhir/explain", content=json.dumps(bundle), headers=headers)
        assert response.status_code == status
        assert response.json()["resourceType"] == "OperationOutcome"
    not_json = client.post("/fhir/explain", content=b"{\"resourceType\": ",
                           headers={**auth(served), **FHIR})
    assert not_json.status_code == 400
    assert not_json.json()["issue"][0]["diagnostics"] == "the body is not JSON"


def test_cds_discovery_lists_the_patient_view_service(client: TestClient, served: dict) -> None:
    services = client.get("/cds-services", headers=auth(served)).json()["services"]
    assert [(s["hook"], s["id"]) for s in services] == [("patient-view", SERVICE_ID)]
    assert set(services[0]["prefetch"]) == {"patient", "conditions", "observations",
                                            "medications", "specimens"}
    assert client.get("/cds-services").status_code == 401


def test_cds_cards_for_a_metastatic_patient(client: TestClient, served: dict) -> None:
    bundle, profile = metastatic_bundle()
    response = client.post(f"/cds-services/{SERVICE_ID}", json=hook_call(bundle),
                           headers=auth(served))
    assert response.status_code == 200, response.text
    *cards, actionable = response.json()["cards"]
    expected = client.post("/explain", json={"patients": [profile]},
                           headers=auth(served)).json()["predictions"][0]
    assert len(cards) == 1 + len(expected["resistance"])
    # one information card of evidence levels, never an order or a suggestion
    assert actionable["indicator"] == "info"
    assert len(actionable["summary"]) < 140
    assert actionable["summary"].startswith("Actionability (ESCAT evidence levels): 0 tier I, "
                                            "1 tier II")
    assert "ESR1 D538G: ESCAT II" in actionable["detail"]
    assert "not recommendations" in actionable["detail"]
    assert not {"suggestions", "selectionBehavior"} & set(actionable)
    assert actionable["source"]["label"] == (
        f"mbcrisk: ESCAT table {expected['actionability']['table_version']}")
    indicator = {"low": "info", "intermediate": "warning", "high": "critical"}
    progression = cards[0]
    assert expected["model"]["progression"]["trained_on_synthetic_data"]
    assert all(c["summary"].startswith(SYNTHETIC_PREFIX) for c in cards)  # while synthetic
    assert progression["summary"].removeprefix(SYNTHETIC_PREFIX).startswith(
        "Progression on current line")
    assert progression["indicator"] == indicator[expected["risk_group"]]
    assert all(len(c["summary"]) < 140 for c in cards)  # CDS Hooks: shorter than 140
    for horizon, event_free in expected["event_free_probability"].items():
        assert f"| {horizon} | {1 - event_free:.1%} |" in progression["detail"]
    assert "**Largest drivers**" in progression["detail"]
    model = expected["model"]["progression"]
    assert progression["source"]["label"] == f"mbcrisk: {model['name']} version {model['version']}"
    resistance = cards[1]
    assert resistance["indicator"] == indicator[expected["resistance"]["endocrine"][
        "risk_group"]]
    assert "ESR1" in resistance["detail"]
    # no public base URL configured: no link (CDS clients resolve links as absolute URLs,
    # and one built from the request's Host header would point wherever the caller says)
    assert "links" not in progression
    assert "url" not in progression["source"]
    card_page = client.get("/model-cards/progression")
    assert card_page.status_code == 200
    assert card_page.headers["content-type"].startswith("text/markdown")
    assert "mbcrisk-progression" in card_page.text


def test_cds_calls_that_cannot_be_answered(client: TestClient, served: dict) -> None:
    bundle, _ = metastatic_bundle()
    call = hook_call(bundle)
    call["prefetch"]["observations"]["entry"][2]["resource"].pop("status")
    bad = client.post(f"/cds-services/{SERVICE_ID}", json=call, headers=auth(served))
    assert bad.status_code == 400
    assert "prefetch.observations.entry[2].resource.status" in bad.text
    no_patient = hook_call(bundle)
    no_patient["prefetch"].pop("patient")
    assert client.post(f"/cds-services/{SERVICE_ID}", json=no_patient,
                       headers=auth(served)).status_code == 412
    wrong_hook = {**hook_call(bundle), "hook": "order-sign"}
    refused = client.post(f"/cds-services/{SERVICE_ID}", json=wrong_hook, headers=auth(served))
    assert refused.status_code == 400
    assert "hook" in refused.text
    assert client.post("/cds-services/other", json=hook_call(bundle),
                       headers=auth(served)).status_code == 404
    assert client.post(f"/cds-services/{SERVICE_ID}", json=hook_call(bundle)).status_code == 401


def _age_only_bundle() -> dict[str, Any]:
    """The early patient described by her birth date and diagnosis alone."""
    bundle, _ = early_bundle()
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] in ("Patient", "Condition")]
    return bundle


def test_an_age_only_patient_gets_no_risk_assessment_but_what_is_needed(
        client: TestClient, served: dict) -> None:
    bundle = _age_only_bundle()
    answer = client.post("/fhir/explain", content=json.dumps(bundle),
                         headers={**auth(served), **FHIR})
    assert answer.status_code == 200, answer.text
    Bundle.model_validate(answer.json())
    assert _resources(answer.json(), "RiskAssessment") == []
    issues = _resources(answer.json(), "OperationOutcome")[0]["issue"]
    incomplete = [i for i in issues if i["code"] == "incomplete"]
    assert len(incomplete) == 1
    assert incomplete[0]["diagnostics"].startswith("relapse: not answered")
    for element in ("LOINC 85337-4", "LOINC 48676-1", "LOINC 21889-1"):  # ER, HER2, size
        assert element in incomplete[0]["diagnostics"]
    cards = client.post(f"/cds-services/{SERVICE_ID}", json=hook_call(bundle),
                        headers=auth(served)).json()["cards"]
    assert len(cards) == 2  # and the actionability card, last
    assert cards[1]["summary"].startswith("Actionability (ESCAT evidence levels): 0 tier I")
    assert cards[0]["summary"] == f"{SYNTHETIC_PREFIX}Relapse model: not answered, data needed"
    assert cards[0]["indicator"] == "info"
    assert "ER status Observation" in cards[0]["detail"]


def test_the_published_schema_lists_the_fhir_and_cds_routes(client: TestClient) -> None:
    paths = client.get("/docs.json").json()["paths"]
    for path, method in (("/fhir/predict", "post"), ("/fhir/explain", "post"),
                         ("/cds-services", "get"), ("/cds-services/{service_id}", "post")):
        operation = paths[path][method]
        assert operation["security"] == [{"apiKey": []}]
        assert {"401", "413", "415"} <= set(operation["responses"])
    assert "application/fhir+json" in paths["/fhir/explain"]["post"]["requestBody"]["content"]
    assert "security" not in paths["/model-cards/{model}"]["get"]


@pytest.mark.long  # a real mbcrisk serve end to end: make test-long
def test_against_a_real_server_audited_and_private(served: dict, tmp_path: Path) -> None:
    audit = AuditLog(Settings.from_env().store_url)
    before = len(audit.records())
    bundle, _ = metastatic_bundle()
    bundle = _with_identifier(bundle)
    broken = json.loads(json.dumps(bundle))
    broken["entry"][entry_index(broken, "Observation", "21889-1")]["resource"][
        "valueQuantity"]["value"] = SECRET_MRN
    with running_server(served, tmp_path / "serve.log") as server:
        post = {"headers": {**auth(served), **FHIR}, "timeout": 60}
        explained = httpx.post(f"{server.base}/fhir/explain", content=json.dumps(bundle), **post)
        assert explained.status_code == 200
        assert _by_task(explained.json())["progression"]["prediction"]
        predicted = httpx.post(f"{server.base}/fhir/predict", content=json.dumps(bundle),
                               **post)
        assert predicted.status_code == 200
        refused = httpx.post(f"{server.base}/fhir/explain", content=json.dumps(broken), **post)
        assert refused.status_code == 400
        assert SECRET_MRN not in refused.text
        cards = httpx.post(f"{server.base}/cds-services/{SERVICE_ID}", json=hook_call(bundle),
                           headers=auth(served), timeout=60)
        assert cards.status_code == 200
        assert cards.json()["cards"]
        log = server.log
    records = audit.records()[before:]
    assert [(r.endpoint, r.status, r.n_patients) for r in records] == [
        ("fhir/explain", 200, 1), ("fhir/predict", 200, 1), ("fhir/explain", 400, 1),
        (f"cds-services/{SERVICE_ID}", 200, 1)]
    assert SECRET_MRN not in log.read_text(errors="replace")
    assert SECRET_MRN not in json.dumps([r.__dict__ for r in records])
