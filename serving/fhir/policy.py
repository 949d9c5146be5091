"""mbcrisk's own rules for a patient's Bundle, beyond what FHIR requires (docs/fhir.md keeps
the two apart).

- **References resolve.** A reference to a resource of a kind the reader follows (a Patient,
  Condition, Observation, Specimen, medication) must point to an entry of the Bundle (by
  ``fullUrl`` or ``ResourceType/id``), and so must every ``urn:uuid:`` or ``urn:oid:``
  reference: otherwise the answer would silently miss what it points to. References to other
  kinds (a Practitioner, an Organization, an Encounter) are not followed and need not resolve.
  Two entries may not share a ``ResourceType/id``.
- **Dates are possible.** A date of birth, diagnosis, observation, specimen collection or
  prescription is not after the present (one day's grace for time zones) nor, apart from the
  birth date itself, before birth; nor is the Bundle's timestamp in the future. A partial date
  (``2019``, ``2019-03``) is refused only when every day it can mean is impossible.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Any

from serving.fhir.conformance import reference_places
from serving.fhir.outcome import Issue, error

#: Resource kinds the reader follows references to.
FOLLOWED_KINDS = frozenset({"Patient", "Condition", "Observation", "Specimen", "Medication",
                            "MedicationStatement", "MedicationRequest",
                            "MedicationAdministration"})
#: The dated elements checked, by resource type (a dotted path inside the resource).
DATED_ELEMENTS = {
    "Patient": ("birthDate",),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "recordedDate", "abatementDateTime"),
    "Observation": ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant",
                    "issued"),
    "Specimen": ("collection.collectedDateTime", "collection.collectedPeriod.start",
                 "receivedTime"),
    "MedicationStatement": ("dateAsserted",),
    "MedicationRequest": ("authoredOn",),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod.start"),
}
#: Days a date may lie after today (the client's time zone may be ahead of the server's).
FUTURE_GRACE_DAYS = 1
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_KIND_AND_ID = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def policy_issues(data: dict, today: date) -> list[Issue]:
    """mbcrisk's rules for ``data``, a Bundle that FHIR's own rules accept."""
    resources = [(i, e.get("fullUrl"), e.get("resource"))
                 for i, e in enumerate(data.get("entry", []))
                 if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    keys: set[str] = set()
    issues: list[Issue] = []
    for i, full_url, resource in resources:
        if isinstance(full_url, str):
            keys.add(full_url)
        if resource.get("id"):
            key = f"{resource['resourceType']}/{resource['id']}"
            if key in keys:
                issues.append(error("duplicate", "two entries hold a resource of this type and "
                                                 "id: references to it would be ambiguous",
                                    f"Bundle.entry[{i}].resource.id"))
            keys.add(key)
    for i, _, resource in resources:
        issues += _unresolved(resource, f"Bundle.entry[{i}].resource", keys)
    issues += _impossible_dates(data, resources, today)
    return issues


def _unresolved(resource: dict, where: str, keys: set[str]) -> list[Issue]:
    issues = []
    for path, reference in reference_places(resource, where, contained=False):
        if reference.startswith("#") or reference in keys:
            continue
        matched = _KIND_AND_ID.search(reference)
        followed = reference.startswith(("urn:uuid:", "urn:oid:")) or (
            matched is not None and matched.group(1) in FOLLOWED_KINDS)
        if followed:
            issues.append(error("not-found", "the reference points to no entry of the Bundle "
                                             "(mbcrisk reads what it points to: include it, "
                                             "by fullUrl or ResourceType/id)", path))
    return issues


def _impossible_dates(data: dict, resources: list, today: date) -> list[Issue]:
    latest_possible = today + timedelta(days=FUTURE_GRACE_DAYS)
    births = [_span(r.get("birthDate")) for _, _, r in resources
              if r.get("resourceType") == "Patient"]
    born = next((span[0] for span in births if span is not None), None)
    issues = []
    stamp = _span(data.get("timestamp"))
    if stamp is not None and stamp[0] > latest_possible:
        issues.append(error("invalid", "the Bundle's timestamp is in the future",
                            "Bundle.timestamp"))
    for i, _, resource in resources:
        kind = resource["resourceType"]
        for element in DATED_ELEMENTS.get(kind, ()):
            span = _span(_at(resource, element))
            where = f"Bundle.entry[{i}].resource.{element}"
            if span is None:
                continue
            if span[0] > latest_possible:
                issues.append(error("invalid", "a date after the present", where))
            elif born is not None and element != "birthDate" and span[1] < born:
                issues.append(error("invalid", "a date before the patient's birth", where))
    return issues


def _at(resource: dict, dotted: str) -> Any:
    value: Any = resource
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _span(value: Any) -> tuple[date, date] | None:
    """The first and last day a FHIR date or dateTime can mean; None when it is not one."""
    if not isinstance(value, str):
        return None
    matched = _DATE.match(value)
    if matched is None:
        return None
    year, month, day = (int(g) if g else None for g in matched.groups())
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, month, day), date(year, month, day)
    except ValueError:
        return None
