"""An ASGI middleware in front of the API: JSON only (415), body size limit (413), API keys
(401), one audit record per request to a protected endpoint, and the published OpenAPI schema
completed with all of that (:mod:`serving.openapi`)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import anyio

from serving.audit import AuditLog, AuditRecord
from serving.fhir.cds_hooks import SERVICE_ID
from serving.fhir.errors import ISSUE_TYPE, is_fhir_path
from serving.fhir.outcome import Issue, operation_outcome
from serving.keys import KeyStore
from serving.openapi import complete_spec
from serving.settings import Settings

PROTECTED = frozenset({"/predict", "/explain", "/model_card", "/metadata", "/cds-services"})
#: Protected too: every path under these (the FHIR operations, a CDS service's calls) but
#: the public ones.
PROTECTED_PREFIXES = ("/cds-services/", "/fhir/")
#: FHIR's CapabilityStatement is public (clients read it before they authenticate).
PUBLIC_FHIR = frozenset({"/fhir/metadata"})
#: What the FHIR and CDS routes answer in, by path prefix; an Accept header that allows none
#: of these is a 406.
PRODUCED = {"/fhir/": ("application/fhir+json", "application/json"),
            "/cds-services": ("application/json",)}
#: Methods whose requests carry a body (and so a Content-Type that matters).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
SPEC_PATH = "/docs.json"


#: Routes under the protected prefixes, audited by name; any other path there is audited as
#: ``<prefix>(other)``, so a path carrying an identifier (``/fhir/Patient/<id>``) leaves none.
NAMED_ROUTES = frozenset({"/fhir/predict", "/fhir/explain", f"/cds-services/{SERVICE_ID}"})


def audited_endpoint(path: str) -> str:
    """How the audit log names the endpoint of a request to ``path``."""
    if path in PROTECTED or path in NAMED_ROUTES:
        return path.lstrip("/")
    return next(f"{p.strip('/')}/(other)" for p in PROTECTED_PREFIXES if path.startswith(p))


def is_protected(path: str) -> bool:
    return path in PROTECTED or (path.startswith(PROTECTED_PREFIXES)
                                 and path not in PUBLIC_FHIR)


async def _respond(send: Any, status: int, error: str, fhir: bool = False) -> None:
    if fhir:
        body = json.dumps(operation_outcome([Issue("error", ISSUE_TYPE.get(status, "processing"),
                                                   error, None)])).encode()
    else:
        body = json.dumps({"error": error}).encode()
    media = b"application/fhir+json" if fhir else b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})




def media_problem(headers: dict[bytes, bytes], path: str, method: str,
                  ) -> tuple[int, str] | None:
    """(406 or 415, error) when the request's media types cannot be served, compared
    case-insensitively (RFC 9110); a request without a body (a GET with no Content-Length or
    one of 0) is never refused for its Content-Type."""
    if is_fhir_path(path):
        produced = next(v for k, v in PRODUCED.items() if path.startswith(k))
        accept = headers.get(b"accept", b"").decode("latin-1")
        if accept.strip() and not _acceptable(accept, produced):
            return 406, f"this route answers only {' or '.join(produced)} (header Accept)"
    length = headers.get(b"content-length", b"0")
    if method in BODY_METHODS or b"transfer-encoding" in headers or (
            length.isdigit() and int(length) > 0):
        media = headers.get(b"content-type", b"application/json").split(b";")[0].strip().lower()
        accepted = (b"application/json", b"application/fhir+json") if is_fhir_path(path) else (
            b"application/json",)
        if media not in accepted:
            return 415, f"only {' or '.join(m.decode() for m in accepted)} is accepted"
    return None


def _acceptable(accept: str, produced: tuple[str, ...]) -> bool:
    """Whether an Accept header allows one of ``produced`` (a range with q=0 refuses)."""
    for item in accept.split(","):
        media, *parameters = (p.strip().lower() for p in item.split(";"))
        quality = next((p[2:] for p in parameters if p.startswith("q=")), "1")
        try:
            if float(quality) <= 0:
                continue
        except ValueError:
            continue
        kind = media.split("/")[0]
        if media in ("*/*", *produced) or media == f"{kind}/*" and any(
                p.startswith(f"{kind}/") for p in produced):
            return True
    return False


#: A body over the size limit is still read, and dropped, up to this size before the 413, so
#: the client gets the answer; beyond it the connection is closed.
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
#: ... and for at most this many seconds.
DRAIN_SECONDS = 10.0


class Gateway:
    """Wraps the service's ASGI app; settings are read on the first request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._ready = False

    def _setup(self) -> None:
        settings = Settings.from_env()
        self.settings = settings
        self.keys = KeyStore(settings.store_url)
        self.audit = AuditLog(settings.store_url)
        self._ready = True

    def _models(self) -> str:
        """``name:version`` of the served models, as the service recorded at start."""
        if not hasattr(self, "_served"):
            path = self.settings.served_file
            self._served = (",".join(f"{k}:{v}" for k, v in json.loads(path.read_text()).items())
                            if path.is_file() else "unknown")
        return self._served

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not (is_protected(scope["path"]) or is_fhir_path(
                scope["path"]) or scope["path"] == SPEC_PATH):
            await self.app(scope, receive, send)
            return
        if not self._ready:
            self._setup()
        if scope["path"] == SPEC_PATH:
            await self._send_spec(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if not is_protected(scope["path"]):  # a public FHIR route: media types only
            problem = media_problem(headers, scope["path"], scope.get("method", "GET"))
            if problem is not None:
                await _respond(send, *problem, fhir=True)
                return
            await self.app(scope, receive, send)
            return
        # the key lookup is answered from memory but at most every 0.5 s per key (then one
        # indexed read of the state database): on the event loop, where a thread hop would
        # cost ~160 us; so is the audit write (see _Exchange.record)
        key_name = self.keys.verify(_bearer(headers.get(b"authorization", b"")))
        exchange = _Exchange(self.audit, audited_endpoint(scope["path"]), key_name,
                             self._models())
        problem = self._precheck(key_name, headers, scope["path"], scope.get("method", "GET"))
        # a client waiting for "100 Continue" has sent nothing yet: answer it at once
        body_pending = (problem is not None
                        and b"100-continue" not in headers.get(b"expect", b"").lower())
        if problem is None:
            received, body_pending = await self._read_body(receive)
            if received is None:
                problem = 413, self._too_large
            else:
                exchange.body = received
                exchange.n_patients, problem = self._check_body(received, scope)
        if problem is not None:
            if body_pending:
                # read (and drop) what the client is still sending, so it gets the answer
                # instead of a reset connection; never wait long for a silent client
                with anyio.move_on_after(DRAIN_SECONDS):
                    await _drain(receive, DRAIN_LIMIT_BYTES)
            code, error = problem
            exchange.status = code
            exchange.record()
            await _respond(send, code, error, fhir=is_fhir_path(scope["path"]))
            return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": exchange.body, "more_body": False}
            return await receive()

        try:
            await self.app(scope, replay, _ErrorBodyFix(exchange.recording(send)))
        finally:  # no complete response (the app failed before its end): recorded here
            exchange.record()

    def _check_body(self, body: bytes, scope: dict,
                    ) -> tuple[int | None, tuple[int, str] | None]:
        """The number of patients in ``body`` (a FHIR Bundle or CDS Hooks call holds one),
        and (status, error) when it is refused."""
        if is_fhir_path(scope["path"]):  # one patient per call; the route reads the body once
            return (1 if scope.get("method") == "POST" else None), None
        try:
            count = _count(body)
        except RecursionError:  # json.loads of absurdly nested arrays or objects
            return None, (400, "request body nested too deeply to be read as JSON")
        if count is not None and count > self.settings.max_batch:
            return count, (400, f"patients: {count} patients exceed the limit of "
                                f"{self.settings.max_batch} per request")
        return count, None

    async def _send_spec(self, scope: dict, receive: Any, send: Any) -> None:
        """BentoML's OpenAPI schema, completed with what this gateway does."""
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start.get("status") == 200:
            body = json.dumps(complete_spec(json.loads(body), is_protected,
                                            self.settings.max_batch)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({"type": "http.response.start", "status": start.get("status", 500),
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    @property
    def _too_large(self) -> str:
        return f"request body over {self.settings.max_body_bytes} bytes"

    def _precheck(self, key_name: str | None, headers: dict, path: str, method: str,
                  ) -> tuple[int, str] | None:
        """(status, error) when the request is refused before its body is read."""
        if key_name is None:
            return 401, "missing, invalid or revoked API key (header Authorization: Bearer <key>)"
        problem = media_problem(headers, path, method)
        if problem is not None:
            return problem
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.settings.max_body_bytes:
            return 413, self._too_large
        return None

    async def _read_body(self, receive: Any) -> tuple[bytes | None, bool]:
        """The whole body (None once it exceeds the size limit), and whether more of it is
        still to come."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.settings.max_body_bytes:
                return None, more
            chunks.append(chunk)
        return b"".join(chunks), False


async def _drain(receive: Any, limit: int) -> None:
    """Receive and drop the rest of a request body, up to ``limit`` bytes."""
    drained = 0
    while drained <= limit:
        message = await receive()
        drained += len(message.get("body", b""))
        if message.get("type") != "http.request" or not message.get("more_body", False):
            return


def _bearer(value: bytes) -> str | None:
    text = value.decode("latin-1").strip()
    return text[7:].strip() if text.lower().startswith("bearer ") else None


def _count(body: bytes) -> int | None:
    try:
        patients = json.loads(body).get("patients")
    except (ValueError, AttributeError):
        return None
    return len(patients) if isinstance(patients, list) else None




class _Exchange:
    """One request to a protected endpoint and its audit record, written once: before the
    response's first message goes out, so no byte of an answer reaches a client before its
    record is committed (recorded at the last message instead, a body sent in several
    messages could reach the client whole while the commit was still running: a replica
    killed then left an answer the audit log lacked), and a kept-alive connection carries no
    next request while this one's work goes on."""

    def __init__(self, audit: AuditLog, endpoint: str, key_name: str | None, models: str,
                 ) -> None:
        self.audit = audit
        self.endpoint = endpoint
        self.key_name = key_name
        self.models = models
        self.started = time.perf_counter()
        self.status = 500  # until a response starts
        self.body = b""
        self.n_patients: int | None = None
        self.recorded = False

    def record(self) -> None:
        """Commit the audit record (status and latency as of now), once: later calls do
        nothing."""
        if self.recorded:
            return
        self.recorded = True
        entry = AuditRecord(
            time=datetime.now(UTC).isoformat(), key_name=self.key_name,
            endpoint=self.endpoint, models=self.models, n_patients=self.n_patients,
            request_sha256=hashlib.sha256(self.body).hexdigest(), status=self.status,
            latency_ms=round((time.perf_counter() - self.started) * 1000, 3))
        # on the event loop: a hop to a worker thread and back cost more than the commit
        # (SQLite: WAL, synchronous=NORMAL, no disk flush per commit). Measured together with
        # scoring small batches on the event loop, both hops removed at once
        # (benchmarks/serving_service.py, one explained patient per request, 2 cores, SQLite
        # state): 85 -> 112-146 requests/s at one client
        self.audit.append(entry)

    def recording(self, send: Any) -> Any:
        """``send``, committing the record (with the response's status) before the response
        starts."""

        async def send_recorded(message: dict) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.record()
            await send(message)

        return send_recorded


class _ErrorBodyFix:
    """Passes the response on; a 4xx body that BentoML 1.4 wraps in a one-element list
    (``[{"error": ...}]``, from a stray tuple in its error handler) is sent as the object its
    OpenAPI schema documents."""

    def __init__(self, send: Any) -> None:
        self.send = send
        self.start: dict | None = None
        self.body = b""

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            if 400 <= message["status"] < 500:
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body += message.get("body", b"")
            if message.get("more_body", False):
                return
            body = _unwrapped(self.body)
            headers = [(k, v) for k, v in self.start.get("headers", [])
                       if k.lower() != b"content-length"]
            await self.send({**self.start, "headers": [
                *headers, (b"content-length", str(len(body)).encode())]})
            await self.send({"type": "http.response.body", "body": body})
            return
        await self.send(message)


def _unwrapped(body: bytes) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return json.dumps(data[0]).encode()
    return body
