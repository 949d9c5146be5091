"""The audit log: who asked which model versions what, when, and how it went, in the state
database (:mod:`serving.state`) that every replica shares.

Only a digest of the request is kept, never clinical values or patient identifiers. Each record
is committed before :meth:`AuditLog.append` returns, and the gateway appends it before the
answer's last byte goes out, so an answer a client holds is never missing from the log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import insert, select

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


class AuditLog:
    """Append-only records in the state database at ``url``."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)

    def append(self, record: AuditRecord) -> None:
        """Write one record (committed before returning)."""
        with self.engine.begin() as db:
            db.execute(insert(audit), asdict(record))

    def records(self) -> list[AuditRecord]:
        """Every record, oldest first."""
        columns = [audit.c[name] for name in AuditRecord.__dataclass_fields__]
        with self.engine.connect() as db:
            return [AuditRecord(*row) for row in db.execute(
                select(*columns).order_by(audit.c.id))]
