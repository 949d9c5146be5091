"""The keys and audit database (serving/state.py) on a SQLite file, as by default: the schema
created and versioned, a newer one refused, two stores on one database (two replicas) seeing
each other's keys and revocations within the cache's time, audit records exactly once each.
The same against PostgreSQL with two real replicas: tests/serving/test_replicas.py."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from serving.audit import AuditLog, AuditRecord
from serving.keys import CACHE_SECONDS, KeyStore
from serving.state import SCHEMA_VERSION, StateError, engine_for, schema


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'state.db'}"


def test_two_stores_on_one_database_share_keys_and_revocations(tmp_path: Path) -> None:
    url = _url(tmp_path)
    first, second = KeyStore(url), KeyStore(url)
    second.engine = create_engine(url)  # a replica: its own engine and connections
    key = first.create("clinic")
    assert second.verify(key) == "clinic"
    assert first.revoke("clinic")
    assert second.verify(key) == "clinic"  # remembered for at most CACHE_SECONDS
    time.sleep(CACHE_SECONDS)
    assert second.verify(key) is None
    assert not first.revoke("clinic")
    assert [n for n, _, revoked in first.names() if revoked] == ["clinic"]
    with pytest.raises(ValueError, match="exists already"):
        first.create("clinic")


def test_a_database_of_a_newer_mbcrisk_is_refused(tmp_path: Path) -> None:
    url = _url(tmp_path)
    engine = engine_for(url)
    with engine.begin() as db:
        db.execute(update(schema).values(version=SCHEMA_VERSION + 1))
    engine_for.cache_clear()
    with pytest.raises(StateError, match="newer than this mbcrisk"):
        KeyStore(url)
    engine_for.cache_clear()


def test_audit_records_are_kept_once_each_in_order(tmp_path: Path) -> None:
    log = AuditLog(_url(tmp_path))
    records = [AuditRecord(f"2026-12-06T00:00:0{n}", "clinic", "explain", "m:1", 1, "ab" * 32,
                           200, 1.5 + n) for n in range(3)]
    for record in records:
        log.append(record)
    assert log.records() == records


def test_a_failed_audit_append_raises_and_the_next_one_reconnects(tmp_path: Path) -> None:
    log = AuditLog(_url(tmp_path))
    kept = AuditRecord("2026-12-06T00:00:00", "clinic", "explain", "m:1", 1, "ab" * 32, 200, 1.0)
    log.append(kept)
    with log.engine.begin() as db:  # the table goes away under the held connection
        db.exec_driver_sql("ALTER TABLE audit RENAME TO audit_away")
    # the driver's own error (PEP 249): append runs on the driver's connection
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        log.append(kept)
    with log.engine.begin() as db:
        db.exec_driver_sql("ALTER TABLE audit_away RENAME TO audit")
    log.append(kept)
    assert log.records() == [kept, kept]  # the failed append left nothing
