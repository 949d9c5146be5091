"""Cancer-related medications of an mCODE Bundle (MedicationStatement, MedicationRequest,
MedicationAdministration) as therapy classes: the current line's and the prior ones."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from serving.fhir import codes
from serving.fhir.elements import as_date, words
from serving.fhir.outcome import Issue, warning

#: Statuses of a medication being taken now, and of one taken before (per resource type).
CURRENT = {"active", "intended", "in-progress", "on-hold"}
PRIOR = {"completed", "stopped"}
#: When several classes are given together, the one that names the line (a HER2-targeted
#: agent with chemotherapy is an anti-HER2 line; a CDK4/6 inhibitor goes with endocrine
#: therapy).
LINE_PRIORITY = ("anti_her2", "endocrine_cdk46", "pi3k_akt_mtor", "parp", "immunotherapy",
                 "chemotherapy", "endocrine")
MEDICATION_KINDS = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")


@dataclass
class Therapies:
    """Therapy classes: the current ones and the prior ones (with their start dates)."""

    current: set[str] = field(default_factory=set)
    current_start: date | None = None
    prior: list[tuple[date | None, str]] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def current_line(self) -> str | None:
        """The current line's class (see :data:`LINE_PRIORITY`)."""
        return line_class(self.current)

    def prior_lines(self) -> list[str]:
        """Prior classes in order of start (undated last), each once."""
        ordered = sorted(self.prior, key=lambda p: (p[0] is None, p[0] or date.min))
        seen: list[str] = []
        for _, therapy in ordered:
            therapy = "endocrine_cdk46" if therapy == "cdk46" else therapy
            if therapy not in seen:
                seen.append(therapy)
        return seen


def line_class(classes: set[str]) -> str | None:
    if not classes:
        return None
    if "cdk46" in classes:
        classes = (classes - {"cdk46", "endocrine"}) | {"endocrine_cdk46"}
    return next(c for c in LINE_PRIORITY if c in classes) if len(classes) > 1 else next(
        iter(classes))


def read_medication(resource: Any, where: str, medications: dict[str, Any],
                    found: Therapies) -> None:
    """One medication resource: its ingredient's class, and whether it is current or prior
    by its status. ``medications`` resolves a ``medicationReference`` to a Medication."""
    concept = resource.medicationCodeableConcept
    if concept is None and resource.medicationReference is not None:
        target = medications.get(resource.medicationReference.reference or "")
        concept = getattr(target, "code", None)
    therapy = therapy_class(concept)
    if therapy is None:
        found.warnings.append(warning("medication not recognised as a cancer therapy class "
                                      "(by ingredient name): not used", f"{where}.medication"))
        return
    status = resource.status
    start = as_date(_start(resource))
    if status in CURRENT:
        found.current.add(therapy)
        if start is not None and (found.current_start is None or start > found.current_start):
            found.current_start = start
    elif status in PRIOR:
        found.prior.append((start, therapy))
    else:
        found.warnings.append(warning(f"medication with status {status}: not used",
                                      f"{where}.status"))


def therapy_class(concept: Any) -> str | None:
    """The therapy class of a medication concept, by the ingredient names in its text and
    codings' displays (RxNorm displays name the ingredient)."""
    text = words(concept)
    for ingredient in sorted(codes.INGREDIENT_CLASSES, key=len, reverse=True):
        if re.search(rf"\b{re.escape(ingredient)}\b", text):
            return codes.INGREDIENT_CLASSES[ingredient]
    return None


def _start(resource: Any) -> Any:
    period = getattr(resource, "effectivePeriod", None)
    if period is not None and period.start is not None:
        return period.start
    for name in ("effectiveDateTime", "authoredOn"):
        value = getattr(resource, name, None)
        if value is not None:
            return value
    return None
