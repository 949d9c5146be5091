"""Every refusal and failure on the FHIR and CDS Hooks routes as an OperationOutcome.

FastAPI answers an unknown path (404) or method (405) and a request it cannot validate with
JSON of its own; on ``/fhir/...`` and ``/cds-services...`` these become OperationOutcomes (the
405 keeps its ``Allow`` header). An unexpected error becomes a 500 OperationOutcome saying no
more than a request id, and one log line: the request id, the exception's type and where it
was raised, never its message (a library's message may quote the request, as fhir.resources'
``KeyError`` on an unknown contained type quoted the type name sent).
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, exception_handlers
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from serving.fhir.outcome import Issue, operation_outcome

FHIR_JSON = "application/fhir+json"
#: OperationOutcome issue type by HTTP status.
ISSUE_TYPE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
              405: "not-supported", 406: "not-supported", 412: "required",
              413: "too-costly", 415: "not-supported", 500: "exception"}
WORDS = {404: "no such FHIR or CDS Hooks route (GET /fhir/metadata and GET /cds-services "
              "list them)",
         405: "this route does not take this method (header Allow lists those it takes)"}
logger = logging.getLogger(__name__)


def is_fhir_path(path: str) -> bool:
    """Paths whose every refusal is an OperationOutcome: FHIR's, and CDS Hooks'."""
    return path == "/cds-services" or path.startswith(("/fhir/", "/cds-services/"))


def outcome_response(status: int, diagnostics: str, expression: str | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    """An OperationOutcome of one error as the response."""
    body = operation_outcome([Issue("error", ISSUE_TYPE.get(status, "processing"), diagnostics,
                                    expression)])
    return Response(json.dumps(body), status_code=status, media_type=FHIR_JSON,
                    headers=headers)


async def _http_error(request: Request, failure: Exception) -> Response:
    assert isinstance(failure, HTTPException)
    if not is_fhir_path(request.url.path):
        return await exception_handlers.http_exception_handler(request, failure)
    return outcome_response(failure.status_code, WORDS.get(
        failure.status_code, "the request cannot be answered"), headers=failure.headers)


async def _validation_error(request: Request, failure: Exception) -> Response:
    assert isinstance(failure, RequestValidationError)
    if not is_fhir_path(request.url.path):
        return await exception_handlers.request_validation_exception_handler(
            request, failure)
    first = failure.errors()[0] if failure.errors() else {"loc": ()}
    return outcome_response(400, "the request is not valid here",
                            ".".join(str(p) for p in first.get("loc", ())) or None)


class ServerErrors:
    """ASGI middleware: an exception escaping a route is logged as one line and answered with
    a 500 OperationOutcome (a plain 500 when the response had already started)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as failure:  # noqa: BLE001 - every failure gets the same answer
            request_id = uuid.uuid4().hex[:16]
            logger.error("unexpected error, request %s: %s at %s", request_id,
                         type(failure).__name__, raised_at(failure))
            if started:
                return
            response = outcome_response(500, f"an unexpected error (request {request_id})",
                                        headers={"X-Request-Id": request_id})
            await response(scope, receive, send)


def raised_at(failure: BaseException) -> str:
    """``file:line in function`` of the frame that raised ``failure`` (its innermost frame)."""
    frames = traceback.extract_tb(failure.__traceback__)
    if not frames:
        return "unknown"
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


def install(app: FastAPI) -> None:
    """The handlers and the middleware on ``app``."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(ServerErrors)


#: Every method a fallback route takes.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def add_fallback_routes(app: FastAPI) -> None:
    """Routes for every other path under ``/fhir/`` and ``/cds-services/``, added after all
    others: a 405 with ``Allow`` when a route has the path (another method), a 404 otherwise,
    both OperationOutcomes. (BentoML mounts the app without claiming paths none of its routes
    match, so without these its own plain-text 404 would answer.)"""

    async def unmatched(request: Request) -> Response:
        routes = [r for r in app.router.routes if getattr(r, "path", None) not in FALLBACK_PATHS]
        allowed = [method for method in METHODS if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in routes)]
        if allowed:
            return outcome_response(405, WORDS[405], headers={"Allow": ", ".join(allowed)})
        return outcome_response(404, WORDS[404])

    for path in FALLBACK_PATHS:
        app.add_api_route(path, unmatched, methods=METHODS, include_in_schema=False)


FALLBACK_PATHS = ("/fhir/{rest:path}", "/cds-services/{rest:path}")
