"""Cancer-related medications of an mCODE Bundle (MedicationStatement, MedicationRequest,
MedicationAdministration) as therapy classes: the current line's and the prior ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from features.cohorts.treatments.drugs import load_drug_dictionary, regimen_class
from serving.fhir import codes
from serving.fhir.elements import as_date, codings
from serving.fhir.outcome import Issue, warning

#: Statuses of a medication being taken now, and of one taken before (per resource type).
CURRENT = {"active", "intended", "in-progress", "on-hold"}
PRIOR = {"completed", "stopped"}
#: A completed MedicationAdministration (one dose or cycle) this recent belongs to the current
#: line (a 3-weekly infusion given within the last six weeks).
RECENT_ADMINISTRATION = timedelta(days=42)
MEDICATION_KINDS = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")


@dataclass
class Therapies:
    """Therapy classes: the current ones (and the current line's start, the earliest start
    among them that is not in the future) and the prior ones with their start dates."""

    current: set[str] = field(default_factory=set)
    current_start: date | None = None
    prior: list[tuple[date | None, str]] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def current_line(self) -> str | None:
        """The current line's class (:func:`line_class`)."""
        return line_class(self.current)

    def early_line(self, metastasis: date | None) -> set[str]:
        """The classes of the prior therapies started before the first metastasis (all of
        them when there is none): one adjuvant or early-setting line."""
        return {c for start, c in self.prior
                if metastasis is None or start is None or start < metastasis}

    def metastatic_lines(self, metastasis: date | None) -> list[str]:
        """The prior metastatic lines, in order: the prior therapies started at or after the
        first metastasis, those started in the same month forming one line."""
        if metastasis is None:
            return []
        months: dict[tuple[int, int], set[str]] = {}
        for start, therapy in self.prior:
            if start is not None and start >= metastasis:
                months.setdefault((start.year, start.month), set()).add(therapy)
        return [line for key in sorted(months) if (line := line_class(months[key]))]


def line_class(classes: set[str]) -> str | None:
    """The therapy class of a line given together (the drug dictionary's regimen rule: a
    CDK4/6 inhibitor with endocrine therapy is ``endocrine_cdk46``, anti-HER2 with
    chemotherapy ``anti_her2``); None for no class."""
    return regimen_class(classes)


def read_medication(resource: Any, where: str, medications: dict[str, Any],
                    found: Therapies, today: date) -> None:
    """One medication resource: its ingredient's class, and whether it is current or prior
    by its status (a completed administration within :data:`RECENT_ADMINISTRATION` of
    ``today`` is current). ``medications`` resolves a ``medicationReference``."""
    concept = resource.medicationCodeableConcept
    if concept is None and resource.medicationReference is not None:
        target = medications.get(resource.medicationReference.reference or "")
        if target is None:
            found.warnings.append(warning("medicationReference points to no Medication of the "
                                          "Bundle: not used", f"{where}.medicationReference"))
            return
        concept = getattr(target, "code", None)
    therapy = therapy_class(concept)
    if therapy is None:
        found.warnings.append(warning("medication not recognised as a cancer therapy class "
                                      "(by ingredient name): not used", f"{where}.medication"))
        return
    status = resource.status
    start = as_date(_start(resource))
    recent = (resource.get_resource_type() == "MedicationAdministration"
              and status == "completed" and start is not None
              and today - start <= RECENT_ADMINISTRATION)
    if status in CURRENT or recent:
        found.current.add(therapy)
        if start is not None and start <= today and (
                found.current_start is None or start < found.current_start):
            found.current_start = start
    elif status in PRIOR:
        found.prior.append((start, therapy))
    else:  # the status is not repeated: it is free text from the request
        found.warnings.append(warning("medication status neither current nor prior: not "
                                      "used", f"{where}.status"))


def therapy_class(concept: Any) -> str | None:
    """The therapy class of a medication concept, by the agent names of the drug dictionary
    (:mod:`features.cohorts.treatments.drugs`: generic, brand or development names) in its text
    and in the displays of its RxNorm codings (RxNorm displays name the ingredient); a display
    in another code system is not read as a drug name."""
    text = " ".join([getattr(concept, "text", None) or ""]
                    + [display or "" for system, _, display in codings(concept)
                       if system == codes.RXNORM])
    drug = load_drug_dictionary().find_in_text(text)
    return None if drug is None else drug.therapy_class


def _start(resource: Any) -> Any:
    period = getattr(resource, "effectivePeriod", None)
    if period is not None and period.start is not None:
        return period.start
    for name in ("effectiveDateTime", "authoredOn"):
        value = getattr(resource, name, None)
        if value is not None:
            return value
    return None
