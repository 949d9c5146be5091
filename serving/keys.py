"""API keys: created once, shown once, stored only as SHA-256 hashes (SQLite)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

KEY_BYTES = 32
_SCHEMA = """CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY, key_sha256 TEXT NOT NULL UNIQUE, created TEXT NOT NULL,
    revoked TEXT)"""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """Named API keys in ``<state dir>/keys.db``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as db:
            # write-ahead log: a lookup never waits for `mbcrisk keys create/revoke`
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def _reader(self) -> sqlite3.Connection:
        """This thread's connection for lookups (kept open: a request pays no connect)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def create(self, name: str) -> str:
        """A new key for ``name`` (returned once; only its hash is kept)."""
        if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError("key name: 1-64 letters, digits, '-' or '_'")
        key = "mbk_" + secrets.token_urlsafe(KEY_BYTES)
        try:
            with self._connect() as db:
                db.execute("INSERT INTO api_keys VALUES (?, ?, ?, NULL)",
                           (name, _hash(key), datetime.now(UTC).isoformat()))
        except sqlite3.IntegrityError as error:
            raise ValueError(f"a key named {name!r} exists already") from error
        return key

    def revoke(self, name: str) -> bool:
        """Revoke ``name``'s key; False if there is no such active key."""
        with self._connect() as db:
            cursor = db.execute("UPDATE api_keys SET revoked = ? WHERE name = ? AND "
                                "revoked IS NULL", (datetime.now(UTC).isoformat(), name))
            return cursor.rowcount == 1

    def verify(self, key: str | None) -> str | None:
        """The name of the active key ``key``, or None."""
        if not key:
            return None
        digest = _hash(key)
        with self._reader() as db:  # commits the read: a key revoked since is seen
            row = db.execute("SELECT name, key_sha256 FROM api_keys WHERE key_sha256 = ? AND "
                             "revoked IS NULL", (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row[1], digest):
            return None
        return str(row[0])

    def names(self) -> list[tuple[str, str, str | None]]:
        """``(name, created, revoked)`` of every key."""
        with self._connect() as db:
            return [tuple(r) for r in db.execute(
                "SELECT name, created, revoked FROM api_keys ORDER BY name")]
