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
from serving.fhir.outcome import Issue, operation_outcome
from serving.keys import KeyStore
from serving.openapi import complete_spec
from serving.settings import Settings

PROTECTED = frozenset({"/predict", "/explain", "/model_card", "/metadata", "/fhir/predict",
                       "/fhir/explain", "/cds-services"})
#: Protected too: every path under these (a CDS service's calls).
PROTECTED_PREFIXES = ("/cds-services/",)
#: Paths answering in FHIR (and the CDS service calls, whose errors are OperationOutcome
#: too): they accept application/fhir+json, and the gateway's refusals are OperationOutcome.
FHIR_PREFIXES = ("/fhir/", "/cds-services/")
SPEC_PATH = "/docs.json"


def is_protected(path: str) -> bool:
    return path in PROTECTED or path.startswith(PROTECTED_PREFIXES)


def is_fhir(path: str) -> bool:
    return path.startswith(FHIR_PREFIXES)


async def _respond(send: Any, status: int, error: str, fhir: bool = False) -> None:
    if fhir:
        body = json.dumps(operation_outcome([Issue("error", FHIR_ISSUE.get(status, "processing"),
                                                   error, "Bundle")])).encode()
    else:
        body = json.dumps({"error": error}).encode()
    media = b"application/fhir+json" if fhir else b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


#: The OperationOutcome issue type of each refusal.
FHIR_ISSUE = {400: "invalid", 401: "login", 413: "too-costly", 415: "not-supported"}


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
        self.keys = KeyStore(settings.keys_db)
        self.audit = AuditLog(settings.audit_db)
        self._ready = True

    def _models(self) -> str:
        """``name:version`` of the served models, as the service recorded at start."""
        if not hasattr(self, "_served"):
            path = self.settings.served_file
            self._served = (",".join(f"{k}:{v}" for k, v in json.loads(path.read_text()).items())
                            if path.is_file() else "unknown")
        return self._served

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not (is_protected(scope["path"])
                                           or scope["path"] == SPEC_PATH):
            await self.app(scope, receive, send)
            return
        if not self._ready:
            self._setup()
        if scope["path"] == SPEC_PATH:
            await self._send_spec(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        # the key lookup is an indexed read of a WAL database that writers never lock for
        # readers (~5 us): on the event loop, where a thread hop would cost ~160 us; the audit
        # write, which waits for the disk, stays off it
        key_name = self.keys.verify(_bearer(headers.get(b"authorization", b"")))
        exchange = _Exchange(self.audit, scope["path"], key_name, self._models())
        problem = self._precheck(key_name, headers, scope["path"])
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
            await exchange.record()
            await _respond(send, code, error, fhir=is_fhir(scope["path"]))
            return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": exchange.body, "more_body": False}
            return await receive()

        try:
            await self.app(scope, replay, _ErrorBodyFix(exchange.recording(send), exchange))
        finally:  # no complete response (the app failed before its end): recorded here
            await exchange.record()

    def _check_body(self, body: bytes, scope: dict,
                    ) -> tuple[int | None, tuple[int, str] | None]:
        """The number of patients in ``body`` (a FHIR Bundle or CDS Hooks call holds one),
        and (status, error) when it is refused."""
        try:
            count = _count(body)
        except RecursionError:  # json.loads of absurdly nested arrays or objects
            return None, (400, "request body nested too deeply to be read as JSON")
        if count is None and scope.get("method") == "POST" and scope["path"].startswith(
                ("/fhir/", "/cds-services/")):
            count = 1
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

    def _precheck(self, key_name: str | None, headers: dict, path: str,
                  ) -> tuple[int, str] | None:
        """(status, error) when the request is refused before its body is read."""
        if key_name is None:
            return 401, "missing, invalid or revoked API key (header Authorization: Bearer <key>)"
        media = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
        accepted = (b"application/json", b"application/fhir+json") if is_fhir(path) else (
            b"application/json",)
        if media not in accepted:
            return 415, f"only {' or '.join(m.decode() for m in accepted)} is accepted"
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
    response's last message goes out, so a client never holds an answer the audit log lacks,
    and a kept-alive connection carries no next request while this one's work goes on (work
    failing after a complete response made the server close the connection under the
    client's next request)."""

    def __init__(self, audit: AuditLog, path: str, key_name: str | None, models: str) -> None:
        self.audit = audit
        self.path = path
        self.key_name = key_name
        self.models = models
        self.started = time.perf_counter()
        self.status = 500  # until a response starts
        self.body = b""
        self.n_patients: int | None = None
        self.recorded = False

    async def record(self) -> None:
        """Commit the audit record (status and latency as of now), once: later calls do
        nothing."""
        if self.recorded:
            return
        self.recorded = True
        entry = AuditRecord(
            time=datetime.now(UTC).isoformat(), key_name=self.key_name,
            endpoint=self.path.lstrip("/"), models=self.models, n_patients=self.n_patients,
            request_sha256=hashlib.sha256(self.body).hexdigest(), status=self.status,
            latency_ms=round((time.perf_counter() - self.started) * 1000, 3))
        # the SQLite commit waits for the disk: off the event loop, so others go on
        await anyio.to_thread.run_sync(self.audit.append, entry)

    def recording(self, send: Any) -> Any:
        """``send``, committing the record before the response's last message."""

        async def send_recorded(message: dict) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await self.record()
            await send(message)

        return send_recorded


class _ErrorBodyFix:
    """Passes the response on, recording its status; a 4xx body that BentoML 1.4 wraps in a
    one-element list (``[{"error": ...}]``, from a stray tuple in its error handler) is sent
    as the object its OpenAPI schema documents."""

    def __init__(self, send: Any, exchange: _Exchange) -> None:
        self.send = send
        self.exchange = exchange
        self.start: dict | None = None
        self.body = b""

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.exchange.status = message["status"]
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
