"""The load report: what was read, excluded, recoded and not understood. Nothing is dropped
without being counted here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Exclusion:
    """``count`` rows (or values) of ``table`` left out, and why."""

    table: str
    reason: str
    count: int


@dataclass
class LoadReport:
    """Counts and decisions made while loading one cohort source.

    Counts are of rows read from the source, before any exclusion. Recodings are keyed by
    ``(column, raw value, canonical value)``; a canonical value of ``None`` means "set to missing".
    """

    source: str
    counts: dict[str, int] = field(default_factory=dict)
    exclusions: list[Exclusion] = field(default_factory=list)
    recodings: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)
    unknown_columns: list[tuple[str, str]] = field(default_factory=list)
    #: Columns deliberately not read: (file, column, reason).
    not_used: list[tuple[str, str, str]] = field(default_factory=list)
    #: Clinical columns read: (file, column, the cohort column it went to).
    columns_read: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Per timeline file: ``{file, read: {event kind: rows}, unread: {event kind: rows}}``.
    timelines: list[dict[str, Any]] = field(default_factory=list)
    #: Agent names the drug dictionary does not know (as written, upper case) -> rows.
    unknown_agents: dict[str, int] = field(default_factory=dict)
    #: Lines of therapy derived from agent rows: how many times each rule acted.
    line_rules: dict[str, int] = field(default_factory=dict)

    def exclude(self, table: str, reason: str, count: int) -> None:
        """Record that ``count`` rows or values of ``table`` were left out for ``reason``."""
        if count > 0:
            self.exclusions.append(Exclusion(table, reason, int(count)))

    def recode(self, column: str, raw: str, canonical: str | None, count: int) -> None:
        """Record that ``count`` cells of ``column`` spelled ``raw`` now read ``canonical``."""
        if count > 0:
            self.recodings[(column, raw, canonical)] += int(count)

    def warn(self, message: str) -> None:
        """Record something a user should know that did not stop the load."""
        if message not in self.warnings:
            self.warnings.append(message)

    def excluded_count(self, table: str) -> int:
        """Total rows or values of ``table`` left out."""
        return sum(e.count for e in self.exclusions if e.table == table)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the ``validate --json`` fields)."""
        return {
            "source": self.source,
            "counts": dict(self.counts),
            "excluded": [
                {"table": e.table, "reason": e.reason, "count": e.count} for e in self.exclusions
            ],
            "recoded": [
                {"column": column, "from": raw, "to": canonical, "count": count}
                for (column, raw, canonical), count in sorted(
                    self.recodings.items(), key=lambda item: (item[0][0], -item[1], item[0][1])
                )
            ],
            "unknown_columns": [{"file": f, "column": c} for f, c in self.unknown_columns],
            "not_used": [{"file": f, "column": c, "reason": r} for f, c, r in self.not_used],
            "columns_read": [{"file": f, "column": c, "to": to} for f, c, to in self.columns_read],
            "warnings": list(self.warnings),
            "timelines": [dict(t) for t in self.timelines],
            "unknown_agents": dict(sorted(self.unknown_agents.items())),
            "line_rules": dict(self.line_rules),
        }
