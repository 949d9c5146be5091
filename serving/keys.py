"""API keys: created once, shown once, stored only as SHA-256 hashes in the state database
(:mod:`serving.state`), which every replica shares."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from serving.state import api_keys, engine_for

KEY_BYTES = 32
#: Seconds a verified key (or a refused one) is remembered: a key created or revoked on any
#: replica holds on every other within this time, and most requests read no database.
CACHE_SECONDS = 0.5
#: Remembered keys at most (a flood of invalid keys cannot grow the cache without bound).
CACHE_SIZE = 10_000


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """Named API keys in the state database at ``url``."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self._seen: dict[str, tuple[float, str | None]] = {}

    def create(self, name: str) -> str:
        """A new key for ``name`` (returned once; only its hash is kept)."""
        if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError("key name: 1-64 letters, digits, '-' or '_'")
        key = "mbk_" + secrets.token_urlsafe(KEY_BYTES)
        try:
            with self.engine.begin() as db:
                db.execute(insert(api_keys), {"name": name, "key_sha256": _hash(key),
                                              "created": datetime.now(UTC).isoformat()})
        except IntegrityError as error:
            raise ValueError(f"a key named {name!r} exists already") from error
        return key

    def revoke(self, name: str) -> bool:
        """Revoke ``name``'s key; False if there is no such active key."""
        with self.engine.begin() as db:
            done = db.execute(update(api_keys).where(
                api_keys.c.name == name, api_keys.c.revoked.is_(None)).values(
                revoked=datetime.now(UTC).isoformat()))
            return done.rowcount == 1

    def verify(self, key: str | None) -> str | None:
        """The name of the active key ``key``, or None (as of at most CACHE_SECONDS ago)."""
        if not key:
            return None
        digest = _hash(key)
        now = time.monotonic()
        seen = self._seen.get(digest)
        if seen is not None and now - seen[0] < CACHE_SECONDS:
            return seen[1]
        with self.engine.connect() as db:
            row = db.execute(select(api_keys.c.name, api_keys.c.key_sha256).where(
                api_keys.c.key_sha256 == digest, api_keys.c.revoked.is_(None))).first()
        name = str(row[0]) if row is not None and hmac.compare_digest(row[1], digest) else None
        if len(self._seen) >= CACHE_SIZE:
            self._seen.clear()
        self._seen[digest] = (now, name)
        return name

    def names(self) -> list[tuple[str, str, str | None]]:
        """``(name, created, revoked)`` of every key."""
        with self.engine.connect() as db:
            return [(r.name, r.created, r.revoked) for r in db.execute(select(
                api_keys.c.name, api_keys.c.created, api_keys.c.revoked).order_by(
                api_keys.c.name))]
