"""The service at three levels: the class called directly, the ASGI app through a test client,
and a real ``mbcrisk serve`` process over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import httpx
import pathspec
import pytest
import yaml
from starlette.testclient import TestClient

from serving.audit import AuditLog
from serving.keys import KeyStore
from serving.schemas import ExplainResponse, PatientProfile, PredictResponse
from serving.settings import SERVED_MODELS, Settings
from tests.conftest import REPO
from tests.serving.conftest import EXAMPLE, auth, free_port, running_server

pytestmark = pytest.mark.slow


def test_service_class_called_directly(served: dict) -> None:
    from serving.service import MBCRiskService

    service = MBCRiskService()
    response = asyncio.run(service.predict(patients=[PatientProfile(**EXAMPLE), PatientProfile(
        age_years=45, er_status="negative", her2_status="negative", tumor_size_mm=18,
        positive_lymph_nodes=0), PatientProfile(age_years=45, er_status="negative")]))
    assert isinstance(response, PredictResponse)
    first, early, unstaged = response.predictions
    assert (unstaged.status, unstaged.risk_group) == ("insufficient_data", None)
    assert unstaged.insufficient_data["relapse"] == [
        "her2_status", "stage, or t_category and n_category, or tumor_size_mm and "
        "positive_lymph_nodes"]
    assert early.status == "answered"
    assert first.patient_id == "study-0042"
    assert (first.setting, first.endpoint) == ("metastatic", "progression")
    assert "progression" in first.label_definition
    served = service.metadata()["progression"]["horizons_months"]
    assert set(served) <= {3.0, 6.0, 12.0, 24.0}  # progression on a line: its own horizons
    assert list(first.event_free_probability) == [f"{h:g}" for h in served]
    assert 0 < first.resistance["endocrine"].probability < 1
    assert "relapse from diagnosis no longer applies" in first.not_applicable["relapse"]
    assert first.model["relapse"].alias == "champion"
    assert (early.setting, early.endpoint) == ("early", "relapse")
    assert early.resistance == {}  # the line-level resistance model: metastatic setting only
    assert set(early.not_applicable) == {"progression", "resistance_endocrine"}
    assert any("not given, taken as unknown" in w and "tmb (relapse model)" in w
               for w in early.warnings)
    explained = asyncio.run(service.explain(patients=[PatientProfile(**EXAMPLE)]))
    assert isinstance(explained, ExplainResponse)
    explanations = explained.predictions[0].explanations
    assert set(explanations) == {"progression", "resistance_endocrine"}
    groups = explanations["resistance_endocrine"].groups
    assert any(g.value_shown == "ESR1 D538G" for g in groups)
    assert all(g.event_free_change_points is not None
               for g in explanations["progression"].groups)
    assert service.model_card(model="progression")["markdown"].startswith("# Model card")
    metadata = service.metadata()
    assert metadata["relapse"]["horizons_months"] == [12.0, 24.0, 36.0, 60.0]
    assert {task: m["serves_setting"] for task, m in metadata.items()} == {
        "relapse": "early", "progression": "metastatic", "resistance_endocrine": "metastatic"}


@pytest.fixture(scope="module")
def client(served: dict) -> TestClient:
    from serving.service import MBCRiskService

    with TestClient(MBCRiskService.to_asgi()) as test_client:
        yield test_client


def _readme_explain_body() -> dict:
    """The body of the README's ``/explain`` example, as a newcomer would send it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    call = readme[readme.index("curl -s -X POST http://127.0.0.1:3000/explain"):]
    return json.loads(call[call.index("-d '") + 4:call.index("}]}'") + 3])


def test_the_readme_patient_gets_progression_and_resistance_in_domain(
        client: TestClient, served: dict) -> None:
    response = client.post("/explain", json=_readme_explain_body(), headers=auth(served))
    assert response.status_code == 200
    answer = response.json()["predictions"][0]
    assert (answer["setting"], answer["endpoint"]) == ("metastatic", "progression")
    assert "relapse" in answer["not_applicable"]
    assert answer["applicability"] == {"in_domain": True, "reasons": []}
    assert answer["resistance"]["endocrine"]["applicability"]["in_domain"] is True
    assert set(answer["explanations"]) == {"progression", "resistance_endocrine"}
    for explanation in answer["explanations"].values():
        for record in (*explanation["groups"], *explanation["features"]):
            assert "not profiled" not in record["value_shown"]
            assert record["treatment"] == (record["group"] == "treatment")


def test_asgi_predict_explain_and_audit(client: TestClient, served: dict) -> None:
    before = len(AuditLog(Settings.from_env().store_url).records())
    ok = client.post("/predict", json={"patients": [EXAMPLE]}, headers=auth(served))
    assert ok.status_code == 200
    assert ok.json()["predictions"][0]["patient_id"] == "study-0042"
    assert client.post("/explain", json={"patients": [EXAMPLE]},
                       headers=auth(served)).status_code == 200
    records = AuditLog(Settings.from_env().store_url).records()[before:]
    assert [(r.endpoint, r.status, r.n_patients, r.key_name) for r in records] == [
        ("predict", 200, 1, "test-app"), ("explain", 200, 1, "test-app")]
    text = json.dumps([r.__dict__ for r in records])
    assert "study-0042" not in text
    assert served["key"] not in text
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(("body", "headers", "status", "says"), [
    ({"patients": [EXAMPLE]}, {}, 401, "API key"),
    ({"patients": [EXAMPLE]}, {"Authorization": "Bearer wrong"}, 401, "API key"),
    ({"patients": [{**EXAMPLE, "age_years": 7}]}, None, 400, "age_years"),
    ({"patients": [{**EXAMPLE, "er_status": "maybe"}]}, None, 400, "er_status"),
    ({"patients": [{**EXAMPLE, "grade": "three"}]}, None, 400, "grade"),
    ({"patients": []}, None, 400, "patients"),
    ({"patients": [EXAMPLE] * 6}, None, 400, "limit of 5"),
    ({"people": [EXAMPLE]}, None, 400, "patients"),
])
def test_asgi_bad_input_is_a_4xx_naming_the_field(client: TestClient, served: dict, body: dict,
                                                   headers: dict | None, status: int,
                                                   says: str) -> None:
    response = client.post("/predict", json=body,
                           headers=auth(served) if headers is None else headers)
    assert response.status_code == status
    assert says in response.text
    assert "Traceback" not in response.text


def test_asgi_malformed_json_oversized_and_wrong_type(client: TestClient, served: dict) -> None:
    headers = {**auth(served), "Content-Type": "application/json"}
    malformed = client.post("/predict", content=b'{"patients": [', headers=headers)
    assert malformed.status_code == 400
    big = client.post("/predict", content=b"{" + b" " * 300_000 + b"}", headers=headers)
    assert big.status_code == 413
    pickled = client.post("/predict", content=b"\x80\x04", headers={
        **auth(served), "Content-Type": "application/vnd.bentoml+pickle"})
    assert pickled.status_code == 415


def test_revoked_key_is_refused_within_a_second(client: TestClient, served: dict) -> None:
    store = KeyStore(Settings.from_env().store_url)
    key = store.create("to-revoke")
    served["secrets"].append(key)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/metadata", json={}, headers=headers).status_code == 200
    store.revoke("to-revoke")
    revoked = time.monotonic()
    while client.post("/metadata", json={}, headers=headers).status_code == 200:
        assert time.monotonic() - revoked < 1.0, "a revoked key still honoured after 1 s"
        time.sleep(0.05)


@pytest.mark.long  # a real mbcrisk serve end to end: make test-long
def test_real_server_over_http(served: dict, tmp_path: Path) -> None:
    with running_server(served, tmp_path / "serve.log") as server:
        response = httpx.post(f"{server.base}/explain", json={"patients": [EXAMPLE]},
                              headers=auth(served), timeout=30)
        assert response.status_code == 200
        assert response.json()["predictions"][0]["explanations"]
        assert httpx.post(f"{server.base}/predict", json={"patients": [EXAMPLE]},
                          timeout=30).status_code == 401
        schema = httpx.get(f"{server.base}/docs.json", timeout=10).json()
        assert {"/predict", "/explain", "/model_card", "/metadata"} <= set(schema["paths"])


@pytest.mark.long  # idles 6 s past the client pool's 5 s, with a real server: `make test-long` (CI)
def test_a_kept_alive_connection_outlives_a_client_pools_idle_time(served: dict,
                                                                   tmp_path: Path) -> None:
    """A connection idle longer than httpx keeps one (5 s) still answers: the server closes
    idle connections only after KEEP_ALIVE_S, so a client never reuses one it is closing."""
    from serving.settings import KEEP_ALIVE_S

    idle_s = 6.0
    assert KEEP_ALIVE_S > idle_s
    with running_server(served, tmp_path / "serve.log") as server:
        limits = httpx.Limits(keepalive_expiry=KEEP_ALIVE_S)  # the client keeps it longer
        with httpx.Client(base_url=server.base, headers=auth(served), limits=limits,
                          timeout=30) as client:
            first = client.post("/metadata", json={})
            time.sleep(idle_s)
            second = client.post("/metadata", json={})
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.extensions["network_stream"] is second.extensions["network_stream"], (
            "the server closed the idle connection: the client had to open another")


def test_serve_refuses_a_tampered_model(served: dict) -> None:
    from serving.store import MLFLOW_FOLDER, latest_champion

    model = latest_champion("mbcrisk-relapse")
    bundle = Path(model.path_of(MLFLOW_FOLDER)) / "artifacts" / "bundle.pkl"
    original = bundle.read_bytes()
    try:
        bundle.write_bytes(original + b"tampered")
        from models.loading import ModelLoadError
        from serving.store import load_served_models

        with pytest.raises(ModelLoadError, match="integrity check"):
            load_served_models()
    finally:
        bundle.write_bytes(original)


def test_a_state_database_of_a_newer_mbcrisk_stops_the_start(
        served: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import update

    from serving.service import MBCRiskService
    from serving.state import SCHEMA_VERSION, StateError, engine_for, schema

    url = f"sqlite:///{tmp_path / 'state.db'}"
    with engine_for(url).begin() as db:
        db.execute(update(schema).values(version=SCHEMA_VERSION + 1))
    engine_for.cache_clear()
    monkeypatch.setenv("MBCRISK_STATE_URL", url)
    try:
        with pytest.raises(StateError, match="newer than this mbcrisk"):
            MBCRiskService()
    finally:
        engine_for.cache_clear()


def test_the_bentofile_lists_exactly_the_served_models_and_every_file_served() -> None:
    """The Bento (tests/serving/test_bento.py builds and serves one) carries the served models
    and every tracked file of the packages the service runs (a data file left out was a 500)."""
    bentofile = yaml.safe_load((REPO / "bentofile.yaml").read_text())
    assert sorted(bentofile["models"]) == sorted(f"{name}:latest"
                                                 for name in SERVED_MODELS.values())
    tracked = subprocess.run(["git", "ls-files", "features", "models", "serving"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    included = pathspec.PathSpec.from_lines("gitwildmatch", bentofile["include"])  # as BentoML
    assert [f for f in tracked if not included.match_file(f)] == []


def test_responses_validate_against_the_published_openapi_schema(client: TestClient,
                                                                 served: dict) -> None:
    import jsonschema
    from referencing import Registry, Resource

    spec = client.get("/docs.json").json()
    registry = Registry().with_resource("urn:spec", Resource.opaque(spec))
    requests = {"/predict": {"patients": [EXAMPLE, {"age_years": 50}]},
                "/explain": {"patients": [EXAMPLE]},
                "/model_card": {"model": "resistance_endocrine"}, "/metadata": {}}
    for path, body in requests.items():
        response = client.post(path, json=body, headers=auth(served))
        assert response.status_code == 200, path
        schema = spec["paths"][path]["post"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        resolved = {"$ref": "urn:spec#" + schema["$ref"].removeprefix("#")} if (
            "$ref" in schema) else _rebase(schema)
        validator = jsonschema.Draft202012Validator(resolved, registry=registry)
        validator.validate(response.json())
        if path == "/predict":  # the schema is specific enough to catch a wrong response
            with pytest.raises(jsonschema.ValidationError):
                validator.validate({"predictions": [{"risk_score": "high"}], "model": {}})


def _rebase(schema: object) -> object:
    """Point local '#/components/...' references at the registered spec."""
    if isinstance(schema, dict):
        return {k: ("urn:spec" + v if k == "$ref" and v.startswith("#") else _rebase(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


def test_serve_refuses_to_start_without_a_champion(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    from cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("MBCRISK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "bentoml"))
    assert main(["serve", "--port", str(free_port())]) == 2
    assert ("refusing to start: no registered model mbcrisk-relapse with alias 'champion'"
            in capfd.readouterr().err)
