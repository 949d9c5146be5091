"""OperationOutcome: how the FHIR routes say what they could not read, and where.

Every issue names the place in the request by a FHIRPath ``expression`` (for example
``Bundle.entry[2].resource.status``) where an element is at fault, and says what is wrong in
``diagnostics``; it never repeats a value from the request. Issues of one kind (the same
severity, code and words) are sent as one, with their count and the first few places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from fhir.resources.R4B.operationoutcome import OperationOutcome

Severity = Literal["fatal", "error", "warning", "information"]
#: An OperationOutcome as the published OpenAPI schema documents it (the FHIR definition is
#: referenced, not copied: http://hl7.org/fhir/R4/operationoutcome.html).
OUTCOME_SCHEMA = {"type": "object", "title": "FHIR OperationOutcome",
                  "required": ["resourceType", "issue"],
                  "properties": {"resourceType": {"type": "string", "enum": ["OperationOutcome"]},
                                 "issue": {"type": "array", "items": {"type": "object"}}}}


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue: ``code`` from the FHIR issue-type value set (``invalid``,
    ``required``, ``structure``, ``not-found``, ``code-invalid``, ``not-supported``, ...)."""

    severity: Severity
    code: str
    diagnostics: str
    expression: str | None

    @property
    def kind(self) -> tuple[str, str, str]:
        return self.severity, self.code, self.diagnostics


class FhirInputError(Exception):
    """A request the FHIR routes cannot answer: a 400 with these issues."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.diagnostics}" for i in issues))
        self.issues = issues


def error(code: str, diagnostics: str, expression: str) -> Issue:
    return Issue("error", code, diagnostics, expression)


def warning(diagnostics: str, expression: str, code: str = "informational") -> Issue:
    return Issue("warning", code, diagnostics, expression)


#: Places an issue of many names (the rest are counted).
PLACES_SHOWN = 3


@dataclass(frozen=True)
class GroupedIssue:
    """Issues of one kind: how many, and where (in order of the request)."""

    issue: Issue
    count: int
    places: tuple[str, ...]

    @property
    def diagnostics(self) -> str:
        """The words, with the count when the kind occurs more than once."""
        if self.count == 1:
            return self.issue.diagnostics
        shown = min(len(self.places), PLACES_SHOWN)
        where = f"; the first {shown} in expression" if shown else ""
        return f"{self.issue.diagnostics} ({self.count} places{where})"

    def as_fhir(self) -> dict[str, Any]:
        issue = {"severity": self.issue.severity, "code": self.issue.code,
                 "diagnostics": self.diagnostics}
        if self.places:
            issue["expression"] = list(self.places[:PLACES_SHOWN])
        return issue


def grouped(issues: Iterable[Issue]) -> list[GroupedIssue]:
    """One entry per kind of issue, in order of first occurrence."""
    kinds: dict[tuple[str, str, str], list[Issue]] = {}
    for issue in issues:
        kinds.setdefault(issue.kind, []).append(issue)
    return [GroupedIssue(found[0], len(found), tuple(dict.fromkeys(
        i.expression for i in found if i.expression))) for found in kinds.values()]


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """The issues, grouped by kind, as an OperationOutcome resource (validated by
    fhir.resources), as JSON."""
    outcome = OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": [g.as_fhir() for g in grouped(issues)]
         or [{"severity": "information", "code": "informational",
              "diagnostics": "no issues"}]})
    return outcome.model_dump(mode="json", exclude_none=True)
