"""Where API keys, their revocations and the audit trail live: one SQLAlchemy database, named
by ``MBCRISK_STATE_URL``, that every replica of the service shares.

By default a SQLite file under the state directory (``sqlite:///serving-state/state.db``: no
set-up, one host); for two or more replicas a PostgreSQL database
(``postgresql+psycopg://user@host/db``), so a key created or revoked once holds on every
replica and the audit trail is one. mbcrisk creates the tables and records the schema's version
(table ``mbcrisk_schema``): a database written by a newer mbcrisk is refused, not misread.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    make_url,
    select,
    text,
)

#: The version of the tables below; raise it with a migration in :func:`_ensure_schema`.
SCHEMA_VERSION = 1
#: PostgreSQL advisory lock taken while the schema is created (replicas may start together).
_SCHEMA_LOCK = 0x6D62_6372

metadata = MetaData()
api_keys = Table(
    "api_keys", metadata,
    Column("name", String(64), primary_key=True),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("created", String(40), nullable=False),
    Column("revoked", String(40)))
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", String(40), nullable=False),
    Column("key_name", String(64)),
    Column("endpoint", String(200)),
    Column("models", Text),
    Column("n_patients", Integer),
    Column("request_sha256", String(64)),
    Column("status", Integer),
    Column("latency_ms", Float))
schema = Table("mbcrisk_schema", metadata, Column("version", Integer, nullable=False))


class StateError(Exception):
    """The state database cannot be used by this mbcrisk."""


@functools.cache
def engine_for(url: str) -> Engine:
    """The engine of ``url``, its schema created or checked (one engine per URL and process).
    SQLite: write-ahead log (a key lookup never waits for a writer), ``synchronous=NORMAL``
    (each commit survives a crash of the service, not a power loss) and a 10 s busy timeout."""
    sqlite = url.startswith("sqlite")
    database = make_url(url).database
    if sqlite and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=not sqlite,
                           connect_args={"timeout": 10} if sqlite else {})
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    _ensure_schema(engine)
    return engine


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ensure_schema(engine: Engine) -> None:
    with engine.begin() as db:
        if engine.dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _SCHEMA_LOCK})
        metadata.create_all(db)
        version = db.execute(select(schema.c.version)).scalar()
        if version is None:
            db.execute(insert(schema), {"version": SCHEMA_VERSION})
        elif version > SCHEMA_VERSION:
            raise StateError(f"the state database has schema version {version}, newer than "
                             f"this mbcrisk's ({SCHEMA_VERSION}): upgrade mbcrisk")
