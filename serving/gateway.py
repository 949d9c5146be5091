"""An ASGI middleware in front of the API: JSON only (415), body size limit (413), API keys
(401), and one audit record per request to a protected endpoint."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from serving.audit import AuditLog, AuditRecord
from serving.keys import KeyStore
from serving.settings import Settings

PROTECTED = frozenset({"/predict", "/explain", "/model_card", "/metadata"})


async def _respond(send: Any, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


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
        if scope["type"] != "http" or scope["path"] not in PROTECTED:
            await self.app(scope, receive, send)
            return
        if not self._ready:
            self._setup()
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        status = {"code": 500}
        body = b""
        key_name = self.keys.verify(_bearer(headers.get(b"authorization", b"")))

        async def record() -> None:
            self.audit.append(AuditRecord(
                time=datetime.now(UTC).isoformat(), key_name=key_name,
                endpoint=scope["path"].lstrip("/"), models=self._models(),
                n_patients=_count(body), request_sha256=hashlib.sha256(body).hexdigest(),
                status=status["code"], latency_ms=round((time.perf_counter() - started) * 1000,
                                                        3)))

        async def refuse(code: int, error: str) -> None:
            status["code"] = code
            await _respond(send, code, error)
            await record()

        problem = self._precheck(key_name, headers)
        if problem is None:
            body_or_none = await self._read_body(receive)
            problem = (413, self._too_large) if body_or_none is None else None
        if problem is not None:
            await refuse(*problem)
            return
        body = body_or_none
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            await record()


    @property
    def _too_large(self) -> str:
        return f"request body over {self.settings.max_body_bytes} bytes"

    def _precheck(self, key_name: str | None, headers: dict) -> tuple[int, str] | None:
        """(status, error) when the request is refused before its body is read."""
        if key_name is None:
            return 401, "missing, invalid or revoked API key (header Authorization: Bearer <key>)"
        media = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
        if media != b"application/json":
            return 415, "only application/json is accepted"
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.settings.max_body_bytes:
            return 413, self._too_large
        return None

    async def _read_body(self, receive: Any) -> bytes | None:
        """The whole body, or None once it exceeds the size limit."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _bearer(value: bytes) -> str | None:
    text = value.decode("latin-1").strip()
    return text[7:].strip() if text.lower().startswith("bearer ") else None


def _count(body: bytes) -> int | None:
    try:
        patients = json.loads(body).get("patients")
    except (ValueError, AttributeError):
        return None
    return len(patients) if isinstance(patients, list) else None


