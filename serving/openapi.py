"""The published OpenAPI schema, made true to the service: what the gateway adds (API keys and
the 401, 413 and 415 it answers with) is documented; request bodies are marked required (the
JSON body carries the arguments); a 400's ``detail`` may be pydantic's list of field errors;
and BentoML's ``/metrics`` route is removed because the service runs with metrics off (it
answers 404). Found by fuzzing the schema with schemathesis."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from serving.fhir.errors import is_fhir_path
from serving.fhir.outcome import OUTCOME_SCHEMA

SECURITY_SCHEME = "apiKey"
ERROR_SCHEMA = "GatewayError"
GATEWAY_RESPONSES = {
    "401": "missing, invalid or revoked API key",
    "413": "request body over the size limit (MBCRISK_MAX_BODY_BYTES)",
    "415": "content type other than application/json",
}

#: What the gateway answers on the FHIR and CDS Hooks paths besides.
FHIR_GATEWAY_RESPONSES = {
    "406": "an Accept header allowing none of the media types the route answers in",
}


#: What the service is, for the schema's readers (BentoML's default is its own boilerplate).
DESCRIPTION = (
    "Explained, versioned estimates of relapse risk and treatment resistance in breast cancer "
    "from a patient's clinical-pathological and genomic profile. `predict` and `explain` "
    "answer with the registered champion models (name and version in every response, and what "
    "each number means); `model_card` returns a model's card; `metadata` describes the served "
    "models. Every prediction endpoint needs an API key (`Authorization: Bearer <key>`) and is "
    "audited without clinical values. Research and decision-support software: never the sole "
    "basis of a treatment decision.")


def service_info() -> dict[str, Any]:
    """The schema's ``info``: title, the installed mbcrisk version and the description."""
    try:
        release = version("mbcrisk")
    except PackageNotFoundError:
        release = "unknown"
    return {"title": "mbcrisk", "version": release, "description": DESCRIPTION,
            "license": {"name": "Apache-2.0"}}


def complete_spec(spec: dict[str, Any], protected: Callable[[str], bool], max_batch: int,
                  ) -> dict[str, Any]:
    """A copy of BentoML's ``spec`` with the gateway documented on the paths ``protected``
    says are (FHIR paths answer its refusals as OperationOutcome), and the batch limit
    (``max_batch`` patients per request) on every ``patients`` list."""
    spec = copy.deepcopy(spec)
    spec["info"] = service_info()
    spec.get("paths", {}).pop("/metrics", None)
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http", "scheme": "bearer",
        "description": "an API key made by `mbcrisk keys create NAME`"}
    components.setdefault("schemas", {})[ERROR_SCHEMA] = {
        "type": "object", "title": ERROR_SCHEMA, "required": ["error"],
        "properties": {"error": {"type": "string", "title": "Message"}}}
    _limit_patients(spec, max_batch)
    invalid = components["schemas"].get("InvalidArgument", {}).get("properties", {})
    if "detail" in invalid:
        invalid["detail"] = {"title": "Error Detail", "anyOf": [
            {"type": "string"}, {"type": "array", "items": {"type": "object"}}]}
    for path, item in spec.get("paths", {}).items():
        if not protected(re.sub(r"\{[^}]+\}", "x", path)):  # a template: any value
            continue
        fhir = is_fhir_path(path)
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            operation["security"] = [{SECURITY_SCHEME: []}]
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
            for code, text in {**GATEWAY_RESPONSES, **(FHIR_GATEWAY_RESPONSES if fhir else {})
                               }.items():
                content = ({"application/fhir+json": {"schema": OUTCOME_SCHEMA}} if fhir else
                           {"application/json": {"schema": {
                               "$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}})
                if fhir and code == "415":
                    text = "content type other than application/fhir+json or application/json"
                operation["responses"][code] = {"description": text, "content": content}
    return spec


def _limit_patients(node: object, max_batch: int) -> None:
    """Set ``maxItems`` of every ``patients`` array property in the spec (in place)."""
    if isinstance(node, dict):
        patients = node.get("properties", {}).get("patients") if isinstance(
            node.get("properties"), dict) else None
        if isinstance(patients, dict) and patients.get("type") == "array":
            patients["maxItems"] = min(max_batch, patients.get("maxItems", max_batch))
        for value in node.values():
            _limit_patients(value, max_batch)
    elif isinstance(node, list):
        for value in node:
            _limit_patients(value, max_batch)
