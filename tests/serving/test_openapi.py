"""The published schema is completed with what the gateway does (unit level; the fuzzing test
checks the whole against a real server)."""

from __future__ import annotations

from importlib.metadata import version
from typing import get_args

from serving.gateway import PROTECTED, is_protected
from serving.openapi import GATEWAY_RESPONSES, complete_spec
from serving.schemas import ServedTask
from serving.settings import SERVED_MODELS


def test_served_tasks_are_the_served_models() -> None:
    assert set(get_args(ServedTask)) == set(SERVED_MODELS)


def test_gateway_documented_metrics_removed_batch_limited() -> None:
    from serving.service import MBCRiskService

    bentoml_spec = MBCRiskService.openapi_spec.asdict()
    assert "/metrics" in bentoml_spec["paths"]
    spec = complete_spec(bentoml_spec, is_protected, max_batch=7)
    assert "/metrics" not in spec["paths"]
    assert spec["info"]["version"] == version("mbcrisk") != "None"
    assert "relapse risk" in spec["info"]["description"]
    assert "BentoML" not in spec["info"]["description"]
    for path in PROTECTED:
        operation = spec["paths"][path].get("post") or spec["paths"][path]["get"]
        assert set(GATEWAY_RESPONSES) <= set(operation["responses"])
        assert operation["security"] == [{"apiKey": []}]
        if "requestBody" in operation:
            assert operation["requestBody"]["required"] is True
    body = spec["paths"]["/explain"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["patients"]["maxItems"] == 7
    assert spec["components"]["schemas"]["explain__Input"]["properties"]["patients"][
        "maxItems"] == 7
    assert "maxItems" not in str(bentoml_spec["paths"]["/healthz"])
    assert bentoml_spec["paths"]["/explain"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]["patients"]["maxItems"] == 10_000
