"""The gateway commits a request's audit record before the response starts: a client never
holds an answer (or any byte of it) the audit log lacks, and work after the answer can never
break the kept-alive connection under the client's next request. Driven at the ASGI level
with a real audit database and key store, and an app that answers, or fails, as told."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from serving.audit import AuditLog
from serving.gateway import Gateway
from serving.keys import KeyStore
from serving.settings import Settings


def _scope(key: str) -> dict:
    return {"type": "http", "method": "POST", "path": "/explain",
            "headers": [(b"content-type", b"application/json"),
                        (b"authorization", f"Bearer {key}".encode())]}


def _exchange(gateway: Gateway, key: str, body: bytes) -> list[tuple[dict, int]]:
    """Send ``body`` through the gateway; each message the client gets, with the number of
    audit records committed when it went out."""
    audit = AuditLog(Settings.from_env().store_url)
    sent: list[tuple[dict, int]] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append((message, len(audit.records())))

    asyncio.run(gateway(_scope(key), receive, send))
    return sent


def _answering(status: int, fail_after: bool = False):
    async def app(scope: dict, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"ok": 1}', "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if fail_after:
            raise RuntimeError("work after the answer failed")
    return app


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MBCRISK_STATE_DIR", str(tmp_path / "state"))
    return KeyStore(Settings.from_env().store_url).create("gateway-test")


@pytest.mark.parametrize("status", [200, 503])
def test_the_record_is_committed_before_any_byte_of_the_answer(key: str, status: int) -> None:
    # the app sends its whole body, then an empty last message: a client holds the complete
    # answer before that last message, so the record must precede the first
    sent = _exchange(Gateway(_answering(status)), key, json.dumps({"patients": [{}]}).encode())
    assert [m["type"] for m, _ in sent] == ["http.response.start", "http.response.body",
                                            "http.response.body"]
    assert all(count == 1 for _, count in sent), "a message went out before the audit record"
    (record,) = AuditLog(Settings.from_env().store_url).records()
    assert (record.status, record.endpoint, record.n_patients) == (status, "explain", 1)


def test_a_refused_request_is_recorded_before_its_answer(key: str) -> None:
    sent = _exchange(Gateway(_answering(200)), "not-a-key", b"{}")
    assert sent[0][0]["status"] == 401
    assert all(count == 1 for _, count in sent)
    (record,) = AuditLog(Settings.from_env().store_url).records()
    assert (record.status, record.key_name) == (401, None)


def test_concurrent_requests_are_each_recorded_exactly_once(key: str) -> None:
    """64 requests in flight at once through one gateway, their app yielding to the others
    between messages: one record each, none repeated (a real server under load:
    tests/serving/test_load.py, in make test-long)."""
    gateway = Gateway(_answering(200))
    bodies = [json.dumps({"patients": [{"n": n}]}).encode() for n in range(64)]
    statuses: list[int] = []

    async def one(body: bytes) -> None:
        async def receive() -> dict:
            await asyncio.sleep(0)
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            await asyncio.sleep(0)
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await gateway(_scope(key), receive, send)

    async def all_at_once() -> None:
        await asyncio.gather(*(one(body) for body in bodies))

    asyncio.run(all_at_once())
    records = AuditLog(Settings.from_env().store_url).records()
    assert statuses == [200] * len(bodies)
    assert sorted(r.request_sha256 for r in records) == sorted(
        hashlib.sha256(body).hexdigest() for body in bodies)
    assert {(r.status, r.key_name, r.n_patients) for r in records} == {(200, "gateway-test", 1)}


def test_an_app_failing_before_its_answer_is_recorded_once_as_500(key: str) -> None:
    async def failing(scope: dict, receive, send) -> None:
        raise RuntimeError("scoring failed")

    with pytest.raises(RuntimeError):
        _exchange(Gateway(failing), key, b'{"patients": []}')
    (record,) = AuditLog(Settings.from_env().store_url).records()
    assert record.status == 500


def test_work_failing_after_the_answer_leaves_one_record(key: str) -> None:
    with pytest.raises(RuntimeError):
        _exchange(Gateway(_answering(200, fail_after=True)), key, b'{"patients": []}')
    (record,) = AuditLog(Settings.from_env().store_url).records()
    assert record.status == 200
