"""The FHIR and CDS Hooks routes under hostile input (tests/support/hostile_fhir.py): no 5xx,
every refusal an OperationOutcome, each invalid class refused, links never built from request
headers, media types compared case-insensitively, warnings grouped, and nothing planted in a
request reaching a log. In-process on part of the corpus here; the whole corpus against a real
``mbcrisk serve`` in ``make test-long``."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from serving.audit import AuditLog
from serving.fhir.conformance import bundle_issues, resource_issues
from serving.settings import Settings
from tests.serving.conftest import auth, running_server
from tests.support.hostile_fhir import (
    CDS_CALL,
    FHIR_JSON,
    PLANT,
    PUBLIC_URL,
    Case,
    corpus,
    invalid_fhir_cases,
    large_bundle,
    problems,
)
from tests.support.mcode_bundles import hook_call, metastatic_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(served: dict) -> Iterator[TestClient]:
    from serving.service import MBCRiskService

    with TestClient(MBCRiskService.to_asgi(), raise_server_exceptions=False) as test_client:
        yield test_client


def _send(client: TestClient | httpx.Client, served: dict, case: Case) -> httpx.Response:
    headers = {**(auth(served) if case.keyed else {}), **case.headers}
    return client.request(case.method, case.path, content=case.body, headers=headers)


def _run(client: TestClient | httpx.Client, served: dict, cases: list[Case],
         ) -> tuple[list[str], Counter]:
    failures, statuses = [], Counter()
    for case in cases:
        response = _send(client, served, case)
        statuses[response.status_code] += 1
        failures += [f"{case.name}: {p}" for p in problems(
            case, response.status_code, dict(response.headers), response.content)]
    return failures, statuses


def test_every_invalid_class_is_a_400_operation_outcome_naming_where(
        client: TestClient, served: dict) -> None:
    for case in invalid_fhir_cases():
        response = _send(client, served, case)
        assert problems(case, response.status_code, dict(response.headers),
                        response.content) == [], case.name
        issues = response.json()["issue"]
        assert all(i["severity"] == "error" for i in issues), case.name
        if case.name not in ("repeated JSON member", "NaN"):  # those are not JSON at all
            assert all(i.get("expression") for i in issues), case.name


def test_part_of_the_corpus_in_process(client: TestClient, served: dict,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    audit = AuditLog(Settings.from_env().store_url)
    before = len(audit.records())
    cases = [c for c in corpus(seed=7, random_count=40) if c.name != "over the size limit"]
    failures, statuses = _run(client, served, cases)
    assert failures == [], "\n".join(failures)
    assert not [s for s in statuses if s >= 500]
    assert PLANT not in caplog.text
    endpoints = {r.endpoint for r in audit.records()[before:]}
    # a path that is no route is audited by its prefix: /fhir/Patient/<id> leaves no id
    assert endpoints == {"fhir/explain", "fhir/predict", "cds-services", "fhir/(other)",
                         "cds-services/mbcrisk-risk", "cds-services/(other)"}


def test_an_unexpected_error_is_one_log_line_and_a_bare_500_outcome(
        client: TestClient, served: dict, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from serving.fhir import routes

    secret = f"{PLANT}in-an-exception-message"

    def fails(*_: object) -> None:
        raise KeyError(secret)  # as fhir.resources quoted a request's invented type name

    monkeypatch.setattr(routes, "read_patient", fails)
    caplog.set_level(logging.DEBUG)
    response = client.post("/fhir/explain", content=json.dumps(metastatic_bundle()[0]),
                           headers={**auth(served), "Content-Type": FHIR_JSON})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(FHIR_JSON)
    (issue,) = response.json()["issue"]
    request_id = response.headers["x-request-id"]
    assert issue == {"severity": "error", "code": "exception",
                     "diagnostics": f"an unexpected error (request {request_id})"}
    lines = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(lines) == 1
    assert "KeyError at test_hostile.py:" in lines[0].getMessage()  # where it was raised
    assert lines[0].exc_info is None
    assert secret not in caplog.text


def test_the_capability_statement_is_public_valid_fhir(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    assert resource_issues(statement, "CapabilityStatement") == []
    assert [o["name"] for o in statement["rest"][0]["operation"]] == ["predict", "explain"]


def test_answers_pass_the_rules_the_routes_apply_to_requests(client: TestClient,
                                                             served: dict) -> None:
    answer = client.post("/fhir/explain", content=json.dumps(metastatic_bundle()[0]),
                         headers={**auth(served), "Content-Type": FHIR_JSON}).json()
    assert resource_issues(answer, "Bundle") == []
    assert bundle_issues(answer) == []


def test_a_500_entry_bundle_gets_grouped_warnings(client: TestClient, served: dict) -> None:
    bundle = large_bundle(500)
    answer = client.post("/fhir/explain", content=json.dumps(bundle, separators=(",", ":")),
                         headers={**auth(served), "Content-Type": FHIR_JSON})
    assert answer.status_code == 200
    outcome = next(e["resource"] for e in answer.json()["entry"]
                   if e["resource"]["resourceType"] == "OperationOutcome")
    assert len(outcome["issue"]) < 20
    repeated = [i for i in outcome["issue"] if "places" in i["diagnostics"]]
    assert repeated
    assert all(len(i["expression"]) <= 3 for i in repeated)
    cards = client.post(CDS_CALL, json=hook_call(bundle), headers=auth(served))
    assert cards.status_code == 200
    assert all(len(c["detail"].encode()) < 4096 for c in cards.json()["cards"])


@pytest.mark.long  # the whole corpus (~250 requests) against a real server: `make test-long`
def test_the_corpus_against_a_real_server(served: dict, tmp_path: Path) -> None:
    cases = corpus(seed=37, random_count=200)
    env = {"MBCRISK_PUBLIC_URL": PUBLIC_URL}
    with running_server(served, tmp_path / "serve.log", env=env) as server, httpx.Client(
            base_url=server.base, timeout=60) as http:
        failures, statuses = _run(http, served, cases)
        hooked = http.post(CDS_CALL, json=hook_call(metastatic_bundle()[0]),
                           headers={**auth(served), "Host": "evil.example:666"})
        large = http.post("/fhir/explain", content=json.dumps(large_bundle(500),
                                                              separators=(",", ":")),
                          headers={**auth(served), "Content-Type": FHIR_JSON})
    assert failures == [], "\n".join(failures)
    assert not [s for s in statuses if s >= 500]
    assert sum(statuses.values()) == len(cases)  # every request answered
    assert hooked.status_code == 200
    links = [link["url"] for c in hooked.json()["cards"] for link in c.get("links", [])]
    models = [c for c in hooked.json()["cards"]  # the actionability card names a table
              if not c["summary"].startswith("Actionability")]
    assert len(models) < len(hooked.json()["cards"])
    links += [c["source"]["url"] for c in models]
    assert links
    assert all(url.startswith(f"{PUBLIC_URL}/model-cards/") for url in links)
    assert large.status_code == 200
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert PLANT not in log
    assert "evil.example" not in hooked.text
