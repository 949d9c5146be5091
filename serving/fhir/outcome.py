"""OperationOutcome: how the FHIR routes say what they could not read, and where.

Every issue names the place in the request by a FHIRPath ``expression`` (for example
``Bundle.entry[2].resource.status``) and says what is wrong in ``diagnostics``; it never repeats
a value from the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fhir.resources.R4B.operationoutcome import OperationOutcome

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue: ``code`` from the FHIR issue-type value set (``invalid``,
    ``required``, ``structure``, ``not-found``, ``code-invalid``, ``not-supported``, ...)."""

    severity: Severity
    code: str
    diagnostics: str
    expression: str

    def as_fhir(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics,
                "expression": [self.expression]}


class FhirInputError(Exception):
    """A request the FHIR routes cannot answer: a 400 with these issues."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.diagnostics}" for i in issues))
        self.issues = issues


def error(code: str, diagnostics: str, expression: str) -> Issue:
    return Issue("error", code, diagnostics, expression)


def warning(diagnostics: str, expression: str, code: str = "informational") -> Issue:
    return Issue("warning", code, diagnostics, expression)


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """The issues as an OperationOutcome resource (validated by fhir.resources), as JSON."""
    outcome = OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in issues] or [
            {"severity": "information", "code": "informational",
             "diagnostics": "no issues"}]})
    return outcome.model_dump(mode="json", exclude_none=True)
