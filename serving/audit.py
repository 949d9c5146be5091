"""The audit log (SQLite): who asked which model versions what, when, and how it went.

Only a digest of the request is kept, never clinical values or patient identifiers.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import astuple, dataclass
from pathlib import Path

_SCHEMA = """CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, key_name TEXT, endpoint TEXT,
    models TEXT, n_patients INTEGER, request_sha256 TEXT, status INTEGER, latency_ms REAL)"""


@dataclass(frozen=True)
class AuditRecord:
    """One request."""

    time: str
    key_name: str | None
    endpoint: str
    models: str
    n_patients: int | None
    request_sha256: str
    status: int
    latency_ms: float


class AuditLog:
    """Append-only records in ``<state dir>/audit.db``.

    WAL journal with ``synchronous=NORMAL``: every record is committed before :meth:`append`
    returns, so a crash or restart of the service loses nothing; only a power loss or an
    operating-system crash can lose the last commits (SQLite then skips their fsync, which
    would cost ~1 ms per request). Each thread keeps its own connection; several service
    processes may append to one file (SQLite's locking, 10 s busy timeout).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with sqlite3.connect(self.path, timeout=10) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def append(self, record: AuditRecord) -> None:
        """Write one record (committed before returning)."""
        with self._connection() as db:
            db.execute("INSERT INTO audit (time, key_name, endpoint, models, n_patients, "
                       "request_sha256, status, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       astuple(record))

    def records(self) -> list[AuditRecord]:
        """Every record, oldest first."""
        with sqlite3.connect(self.path, timeout=10) as db:
            rows = db.execute("SELECT time, key_name, endpoint, models, n_patients, "
                              "request_sha256, status, latency_ms FROM audit ORDER BY id")
            return [AuditRecord(*row) for row in rows]
