"""The audit log: who asked which model versions what, when, and how it went, in the state
database (:mod:`serving.state`) that every replica shares.

Only a digest of the request is kept, never clinical values or patient identifiers. Each record
is committed before :meth:`AuditLog.append` returns, and the gateway appends it before the
answer's first byte goes out, so an answer a client holds is never missing from the log.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields

from sqlalchemy import PoolProxiedConnection, insert, select

from serving.state import audit, engine_for


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


#: The record's fields, in the order of its columns.
_FIELDS = tuple(f.name for f in fields(AuditRecord))


class AuditLog:
    """Append-only records in the state database at ``url``."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        # the insert compiled once for the database's driver (its SQL and, for a driver of
        # positional parameters, their order): append runs it on the driver's connection, so
        # no SQLAlchemy-side processing applies (a column added with a Python-side default or
        # a type needing a bind processor must be given its value here)
        compiled = insert(audit).inline().compile(dialect=self.engine.dialect,
                                                  column_keys=_FIELDS)
        self._sql = str(compiled)
        self._order = (tuple(compiled.positiontup) if self.engine.dialect.positional
                       else None)
        self._held: PoolProxiedConnection | None = None  # append's own, opened on first use

    def append(self, record: AuditRecord) -> None:
        """Write one record (committed before returning). Appends come from one thread (the
        service's event loop) and keep one connection of the engine's pool open between them,
        with no transaction left open. The insert runs on the driver's connection
        (``Engine.raw_connection``): SQLAlchemy's statement execution and transaction around
        it cost more than the insert itself (the served worker at one client, SQLite: 240 us
        against 85 us a record). A failed append invalidates the connection; the next one
        opens another."""
        parameters = ({name: getattr(record, name) for name in _FIELDS} if self._order is None
                      else tuple(getattr(record, name) for name in self._order))
        if self._held is None:
            self._held = self.engine.raw_connection()
        try:
            cursor = self._held.cursor()
            try:
                cursor.execute(self._sql, parameters)
            finally:
                cursor.close()
            self._held.commit()
        except BaseException:
            held, self._held = self._held, None
            with contextlib.suppress(Exception):
                held.invalidate()
            raise

    def records(self) -> list[AuditRecord]:
        """Every record, oldest first."""
        columns = [audit.c[name] for name in _FIELDS]
        with self.engine.connect() as db:
            return [AuditRecord(*row) for row in db.execute(
                select(*columns).order_by(audit.c.id))]
