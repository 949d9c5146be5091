"""Security: keys on every protected endpoint, body size and content type, and no key or
patient identifier in any log (also checked after every serving test by ``no_secrets_in_logs``
and after every real server by ``running_server``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from serving.fhir.cds_hooks import SERVICE_ID
from serving.gateway import PROTECTED, is_protected
from serving.keys import KeyStore
from serving.settings import Settings
from tests.serving.conftest import EXAMPLE, auth, running_server, secrets_in
from tests.support.mcode_bundles import hook_call, metastatic_bundle

pytestmark = pytest.mark.slow

_BUNDLE = metastatic_bundle()[0]
_HOOK = hook_call(_BUNDLE)
#: A valid request to every protected route: (method, JSON body).
REQUESTS = {"/predict": ("POST", {"patients": [EXAMPLE]}),
            "/explain": ("POST", {"patients": [EXAMPLE]}),
            "/model_card": ("POST", {"model": "relapse"}), "/metadata": ("POST", {}),
            "/fhir/predict": ("POST", _BUNDLE), "/fhir/explain": ("POST", _BUNDLE),
            "/cds-services": ("GET", None), f"/cds-services/{SERVICE_ID}": ("POST", _HOOK)}


@pytest.fixture(scope="module")
def client(served: dict) -> Iterator[TestClient]:
    from serving.service import MBCRiskService

    with TestClient(MBCRiskService.to_asgi()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def revoked_key(served: dict) -> str:
    store = KeyStore(Settings.from_env().store_url)
    key = store.create("security-revoked")
    served["secrets"].append(key)
    assert store.revoke("security-revoked")
    return key


def test_every_protected_endpoint_is_listed() -> None:
    assert {p for p in REQUESTS if p in PROTECTED} == PROTECTED
    assert all(is_protected(p) for p in REQUESTS)


def _send(client: TestClient, path: str, headers: dict, **kwargs: object) -> httpx.Response:
    method, body = REQUESTS[path]
    if "content" not in kwargs and body is not None:
        kwargs["json"] = body
    return client.request(method, path, headers=headers, **kwargs)


@pytest.mark.parametrize("path", sorted(REQUESTS))
@pytest.mark.parametrize("credential", ["none", "not bearer", "wrong", "revoked", "empty"])
def test_requests_without_a_valid_key_are_refused(client: TestClient, served: dict,
                                                  revoked_key: str, path: str,
                                                  credential: str) -> None:
    headers = {"none": {}, "not bearer": {"Authorization": served["key"]},
               "wrong": auth(served, "mbk_" + "x" * 40), "revoked": auth(served, revoked_key),
               "empty": {"Authorization": "Bearer "}}[credential]
    response = _send(client, path, headers)
    assert response.status_code == 401
    assert "API key" in response.text
    assert _send(client, path, auth(served)).status_code == 200


@pytest.mark.parametrize("path", sorted(REQUESTS))
@pytest.mark.parametrize("content_type", ["application/python-pickle",
                                          "application/vnd.bentoml+pickle",
                                          "application/octet-stream", "text/plain",
                                          "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded"])
def test_non_json_bodies_are_refused(client: TestClient, served: dict, path: str,
                                     content_type: str) -> None:
    response = _send(client, path, {**auth(served), "Content-Type": content_type},
                     content=b"\x80\x04\x95payload")
    assert response.status_code == 415


@pytest.mark.parametrize("path", sorted(REQUESTS))
def test_bodies_over_the_limit_are_refused(client: TestClient, served: dict, path: str) -> None:
    limit = Settings.from_env().max_body_bytes
    padded = b'{"patients": [], "pad": "' + b"x" * limit + b'"}'
    assert _send(client, path, {**auth(served), "Content-Type": "application/json"},
                 content=padded).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b'{"pad": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    streamed = _send(client, path, {**auth(served), "Content-Type": "application/json"},
                     content=chunks())
    assert streamed.status_code == 413


@pytest.mark.long  # a real mbcrisk serve end to end: make test-long
def test_no_secret_in_server_logs(served: dict, tmp_path: Path, revoked_key: str) -> None:
    """A real server as ``mbcrisk serve`` runs it: valid, refused and invalid requests carrying
    keys and patient identifiers; its output never shows them. (Its worker ran with
    ``BENTOML_VERBOSITY=-1`` whatever ``BENTOML_DEBUG`` or ``BENTOML_VERBOSITY`` the server
    was given, as seen with BentoML 1.4: debug-level records are checked in process below.)"""
    log = tmp_path / "serve.log"
    patient = {**EXAMPLE, "patient_id": "secret-pid-0001"}
    with running_server(served, log) as server:
        for key, status in ((served["key"], 200), (revoked_key, 401)):
            for path in ("/predict", "/explain"):
                answer = httpx.post(server.base + path, json={"patients": [patient]},
                                    headers=auth(served, key), timeout=60)
                assert answer.status_code == status, (path, answer.text)
        bad = httpx.post(server.base + "/predict", headers=auth(served), timeout=60,
                         json={"patients": [{**patient, "age_years": 7}]})
        assert bad.status_code == 400
        huge = httpx.post(server.base + "/explain", headers=auth(served), timeout=60,
                          json={"patients": [patient] * 50})
        assert huge.status_code in (400, 413)
    # the rejection was logged, as one line without the body; running_server greps the log
    # for secrets on exit too
    assert "rejected /predict: 400 (patients.0.age_years)" in log.read_text(errors="replace")
    assert not secrets_in(log.read_text(errors="replace"), served)


def test_no_secret_in_in_process_logs_at_debug_level(client: TestClient, served: dict,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    patient = {**EXAMPLE, "patient_id": "secret-pid-0002"}
    client.post("/explain", json={"patients": [patient]}, headers=auth(served))
    client.post("/predict", json={"patients": [{**patient, "age_years": 7}]},
                headers=auth(served))
    client.post("/predict", json={"patients": [patient]}, headers=auth(served, "mbk_wrong"))
    assert caplog.records  # debug logging was on
    assert not secrets_in(caplog.text, served)


@pytest.mark.parametrize("path", ["/predict", "/explain"])
def test_a_deeply_nested_body_is_a_400_and_is_audited(client: TestClient, served: dict,
                                                      path: str) -> None:
    from serving.audit import AuditLog

    audit = AuditLog(Settings.from_env().store_url)
    before = len(audit.records())
    response = client.post(path, content=b"[" * 100_000, headers={
        **auth(served), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    records = audit.records()[before:]
    assert [(r.endpoint, r.status) for r in records] == [(path.lstrip("/"), 400)]


#: A unique identifier and value the rejected requests carry; neither may reach a log.
MARKER_ID, MARKER_VALUE = "MRN-7781236", "8123.4567"


@pytest.mark.long  # a real mbcrisk serve end to end: make test-long
def test_rejected_requests_leave_no_trace_of_their_content(served: dict,
                                                            tmp_path: Path) -> None:
    """Malformed and invalid bodies carrying an identifier and a clinical value: each is a
    4xx, and the server's whole output holds neither, nor any traceback."""
    log = tmp_path / "rejected.log"
    patient = {**EXAMPLE, "patient_id": MARKER_ID, "tumor_size_mm": float(MARKER_VALUE)}
    bodies = [
        f'{{"patients": [{{"age_years": 61, "tumor_size_mm": {MARKER_VALUE}, '
        f'"patient_id": "{MARKER_ID}",}}]}}'.encode(),  # a trailing comma: not JSON
        f'{{"patients": [{{"age_years": "sixty", "patient_id": "{MARKER_ID}"}}]}}'.encode(),
        httpx.Request("POST", "/", json={"patients": [{**patient, "age_years": 7}]}).content,
        httpx.Request("POST", "/", json={"patients": [{**patient, "grade": 9}]}).content,
        httpx.Request("POST", "/", json={"patients": [{**patient, "nonsense": MARKER_ID}]}
                      ).content,
    ]
    with running_server(served, log) as server:
        for path in ("/predict", "/explain"):
            for body in bodies:
                response = httpx.post(server.base + path, content=body, timeout=60, headers={
                    **auth(served), "Content-Type": "application/json"})
                assert 400 <= response.status_code < 500, (path, response.status_code)
    text = log.read_text(errors="replace")
    assert MARKER_ID not in text
    assert MARKER_VALUE not in text
    assert "Traceback" not in text


@pytest.mark.long  # sends 11 MB to a real server (~15 s): `make test-long` (CI)
def test_an_11_mb_body_gets_the_json_413_from_a_real_server(served: dict,
                                                            tmp_path: Path) -> None:
    """Not a reset connection: the body is read (and dropped) before the answer."""
    body = b'{"patients": [], "pad": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    with running_server(served, tmp_path / "big.log") as server:
        for _ in range(3):
            response = httpx.post(server.base + "/explain", content=body, timeout=120,
                                  headers={**auth(served), "Content-Type": "application/json"})
            assert response.status_code == 413
            assert "request body over" in response.json()["error"]
