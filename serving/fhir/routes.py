"""The FHIR and CDS Hooks routes: a FastAPI app mounted on the BentoML service
(``serving.service``), whose route methods call the handlers here with the service's
predictor. Keys, size limits and the audit are the gateway's (:mod:`serving.gateway`), as for
every other route."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from features.cohorts.errors import CohortError
from serving.batching import BatchedPredictor
from serving.fhir import cds_hooks, errors
from serving.fhir.answer import answer_bundle
from serving.fhir.mcode import read_patient
from serving.fhir.outcome import OUTCOME_SCHEMA, FhirInputError, error, operation_outcome
from serving.fhir.parse import parse_bundle

FHIR_JSON = errors.FHIR_JSON

#: JSON Schemas for the published OpenAPI document (the FHIR definitions themselves are
#: referenced, not copied: http://hl7.org/fhir/R4/bundle.html).
BUNDLE_SCHEMA = {
    "type": "object", "title": "FHIR Bundle (mCODE)",
    "description": "a FHIR R4 Bundle holding one patient's mCODE resources (docs/fhir.md)",
    "required": ["resourceType", "type"],
    "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]},
                   "type": {"type": "string"},
                   "entry": {"type": "array", "items": {"type": "object"}}}}
ANSWER_SCHEMA = {
    "type": "object", "title": "FHIR Bundle of RiskAssessment",
    "required": ["resourceType", "type", "entry"],
    "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]},
                   "type": {"type": "string", "enum": ["collection"]},
                   "entry": {"type": "array", "items": {"type": "object"}}}}


def _body(schema: dict) -> dict[str, Any]:
    return {"required": True, "content": {FHIR_JSON: {"schema": schema},
                                          "application/json": {"schema": schema}}}


FHIR_ROUTE: dict[str, Any] = {
    "response_class": Response,
    "openapi_extra": {"requestBody": _body(BUNDLE_SCHEMA)},
    "responses": {200: {"description": "a Bundle: one RiskAssessment per answering model and "
                        "an OperationOutcome of warnings",
                        "content": {FHIR_JSON: {"schema": ANSWER_SCHEMA}}},
                  400: {"description": "not a valid mCODE Bundle, or one lacking what a "
                        "prediction needs: the issues name where (FHIRPath)",
                        "content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}}},
}
HOOK_SCHEMA = {
    "type": "object", "title": "CDS Hooks request", "required": ["hook", "hookInstance",
                                                               "context"],
    "properties": {"hook": {"type": "string", "enum": ["patient-view"]},
                   "hookInstance": {"type": "string"},
                   "context": {"type": "object", "required": ["patientId"], "properties": {
                       "patientId": {"type": "string"}, "userId": {"type": "string"}}},
                   "prefetch": {"type": "object"}}}
CARDS_SCHEMA = {"type": "object", "title": "CDS Hooks cards", "required": ["cards"],
                "properties": {"cards": {"type": "array", "items": {"type": "object"}}}}
CDS_ROUTE: dict[str, Any] = {
    "response_class": Response,
    "openapi_extra": {"requestBody": {"required": True, "content": {
        "application/json": {"schema": HOOK_SCHEMA}}}},
    "responses": {200: {"description": "cards, one per answering model",
                        "content": {"application/json": {"schema": CARDS_SCHEMA}}},
                  400: {"description": "a malformed call or prefetch: the issues name where",
                        "content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}},
                  404: {"description": "no such CDS service",
                        "content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}},
                  412: {"description": "the prefetch lacks the Patient (this service does not "
                        "query FHIR servers)",
                        "content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}}},
}

CARD_ROUTE: dict[str, Any] = {
    "response_class": Response,
    "responses": {200: {"description": "the model card (Markdown)",
                        "content": {"text/markdown": {"schema": {"type": "string"}}}},
                  404: {"description": "no served model of this name",
                        "content": {"text/plain": {"schema": {"type": "string"}}}}},
}
CAPABILITY_ROUTE: dict[str, Any] = {
    "response_class": Response,
    "responses": {200: {"description": "the CapabilityStatement (FHIR R4) of the operations "
                        "this server offers",
                        "content": {FHIR_JSON: {"schema": {"type": "object"}}}}},
}
DISCOVERY_ROUTE: dict[str, Any] = {
    "response_class": JSONResponse,
    "responses": {200: {"description": "the CDS services", "content": {"application/json": {
        "schema": {"type": "object", "required": ["services"], "properties": {
            "services": {"type": "array", "items": {"type": "object"}}}}}}}},
}

app = FastAPI(title="mbcrisk FHIR and CDS Hooks", openapi_url=None, docs_url=None,
              redoc_url=None)
errors.install(app)


def fhir_response(content: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(content), status_code=status, media_type=FHIR_JSON)


async def answer_fhir(predictor: BatchedPredictor, request: Request, explain: bool) -> Response:
    """``POST /fhir/predict`` and ``/fhir/explain``: an mCODE Bundle in, RiskAssessments out."""
    try:
        today = datetime.now(UTC).date()
        read = read_patient(parse_bundle(await _json(request), today), today)
        answered = await (predictor.explain if explain else predictor.predict)([read.profile])
    except FhirInputError as failure:
        return fhir_response(operation_outcome(failure.issues), 400)
    except CohortError as failure:
        return fhir_response(operation_outcome([error("invalid", str(failure), None)]), 400)
    return fhir_response(answer_bundle(read, answered.predictions[0]))


async def answer_hook(predictor: BatchedPredictor, request: Request, service_id: str,
                      public_url: str | None) -> Response:
    """``POST /cds-services/{id}``: a patient-view call with its prefetch in, cards out (their
    links under ``public_url``, the configured base URL; none without one)."""
    if service_id != cds_hooks.SERVICE_ID:
        return fhir_response(operation_outcome([error(
            "not-found", "no CDS service of this id (GET /cds-services lists them)",
            "id")]), 404)
    origin: dict[int, str] = {}
    try:
        call = cds_hooks.read_request(await _json(request))
        data, origin = cds_hooks.prefetch_bundle(call)
        today = datetime.now(UTC).date()
        read = read_patient(parse_bundle(data, today), today)
        answered = await predictor.explain([read.profile])
    except cds_hooks.MissingPrefetch as missing:
        return fhir_response(operation_outcome([error("required", str(missing),
                                                      "prefetch.patient")]), 412)
    except FhirInputError as failure:
        return fhir_response(operation_outcome(cds_hooks.located(failure.issues, origin)), 400)
    except CohortError as failure:
        return fhir_response(operation_outcome([error("invalid", str(failure), "prefetch")]),
                             400)
    cards = cds_hooks.cards(read, answered.predictions[0], public_url)
    return JSONResponse({"cards": cards})


def discovery() -> JSONResponse:
    """``GET /cds-services``."""
    return JSONResponse(cds_hooks.discovery())


def model_card(markdown: str | None) -> Response:
    """``GET /model-cards/{task}``: a served model's card as Markdown (public: it holds no
    patient data; the CDS cards link to it)."""
    if markdown is None:
        return PlainTextResponse("no such model", status_code=404)
    return Response(markdown, media_type="text/markdown; charset=utf-8")


async def _json(request: Request) -> Any:
    """The body as JSON (RFC 8259: no NaN or Infinity; a repeated member name refused, where
    json would silently keep the last)."""
    try:
        return json.loads(await request.body(), parse_constant=_not_json,
                          object_pairs_hook=_unique_members)
    except (ValueError, RecursionError) as failure:
        raise FhirInputError([error("structure", "the body is not JSON", None)]) from failure
    except _RepeatedMember as failure:
        raise FhirInputError([error("structure", "a JSON object repeats a member name "
                                    "(FHIR JSON: each element once)", None)]) from failure


class _RepeatedMember(Exception):
    """A JSON object names one member twice."""


def _not_json(constant: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _RepeatedMember
    return members
