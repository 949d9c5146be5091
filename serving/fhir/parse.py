"""A request body read as a FHIR R4 Bundle, in three layers, each run when the one before
passed: what FHIR itself requires (:mod:`serving.fhir.conformance`: JSON types, required codes,
no nulls or empty elements, ids, contained resources, the Bundle invariants), mbcrisk's own
policy (:mod:`serving.fhir.policy`: references resolve, dates are possible), then every entry
validated by its resource's model (fhir.resources, R4B models, which R4 content passes:
required elements, cardinalities, formats).

Errors name the entry and element as FHIRPath, e.g. ``Bundle.entry[3].resource.
valueQuantity.value``; all of a layer's errors are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from serving.fhir.conformance import bundle_issues, resource_issues, resource_model
from serving.fhir.outcome import FhirInputError, Issue, error
from serving.fhir.policy import policy_issues

#: Entries a body may carry at most (a patient's record, not a population export).
MAX_ENTRIES = 2000


@dataclass(frozen=True)
class Entry:
    """One validated resource of the Bundle and where it sits."""

    index: int
    full_url: str | None
    resource: Any  # a fhir.resources model

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"

    @property
    def kind(self) -> str:
        return self.resource.get_resource_type()

    @property
    def reference(self) -> str:
        """How the answer's ``basis`` refers to this entry."""
        if self.full_url:
            return self.full_url
        return f"{self.kind}/{self.resource.id}" if self.resource.id else self.path


@dataclass(frozen=True)
class ParsedBundle:
    """The entries, and each one's reference keys (``fullUrl`` and ``Type/id``)."""

    entries: list[Entry]
    by_reference: dict[str, Entry]
    timestamp: str | None = None

    def of_kind(self, kind: str) -> Iterator[Entry]:
        return (e for e in self.entries if e.kind == kind)

    def resolve(self, reference: Any, expression: str) -> Entry:
        """The entry a Reference points to; a reference to no entry of the Bundle is an
        error naming ``expression``."""
        target = getattr(reference, "reference", None)
        entry = self.by_reference.get(target) if target else None
        if entry is None:
            raise FhirInputError([error(
                "not-found", "the reference points to no entry of the Bundle (references "
                "are resolved by fullUrl or ResourceType/id inside the Bundle)", expression)])
        return entry


def parse_bundle(data: Any, today: date) -> ParsedBundle:
    """``data`` (parsed JSON) as a Bundle of validated resources; FhirInputError otherwise.
    ``today`` bounds the dates (policy)."""
    entries = _entries_of(data)
    try:
        issues = resource_issues(data, "Bundle") or bundle_issues(data) or policy_issues(
            data, today)
    except RecursionError:  # elements nested absurdly deep (e.g. extensions of extensions)
        issues = [error("structure", "elements nested too deeply", "Bundle")]
    if issues:
        raise FhirInputError(issues)
    issues = _validation_issues(get_fhir_model_class("Bundle"),
                                {k: v for k, v in data.items() if k != "entry"}, "Bundle")
    parsed: list[Entry] = []
    for index, item in enumerate(entries):
        entry, problems = _entry(index, item)
        issues.extend(problems)
        if entry is not None:
            parsed.append(entry)
    if issues:
        raise FhirInputError(issues)
    keys: dict[str, Entry] = {}
    for entry in parsed:
        if entry.full_url:
            keys[entry.full_url] = entry
        if entry.resource.id:
            keys[f"{entry.kind}/{entry.resource.id}"] = entry
    timestamp = data.get("timestamp")
    return ParsedBundle(parsed, keys, timestamp if isinstance(timestamp, str) else None)


def _entries_of(data: Any) -> list[Any]:
    """The entries of what must be a Bundle, refused early when it is not one or too big."""
    if not isinstance(data, dict):
        raise FhirInputError([error("structure", "the body must be a JSON object: a FHIR "
                                                 "Bundle", "Bundle")])
    if data.get("resourceType") != "Bundle":
        raise FhirInputError([error("structure", "resourceType must be Bundle",
                                    "Bundle.resourceType")])
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise FhirInputError([error("structure", "entry must be an array", "Bundle.entry")])
    if len(entries) > MAX_ENTRIES:
        raise FhirInputError([error("too-costly", f"a Bundle may carry at most {MAX_ENTRIES} "
                                                  "entries", "Bundle.entry")])
    return entries


def _entry(index: int, item: Any) -> tuple[Entry | None, list[Issue]]:
    where = f"Bundle.entry[{index}]"
    if not isinstance(item, dict):
        return None, [error("structure", "an entry must be a JSON object", where)]
    resource = item.get("resource")
    if not isinstance(resource, dict):
        return None, [error("required", "the entry has no resource", f"{where}.resource")]
    kind = resource.get("resourceType")
    model = resource_model(kind)
    if model is None or kind == "Bundle":
        return None, [error("structure", "resourceType is missing or not a FHIR R4 resource "
                            "(a data type or a nested Bundle is not an entry)",
                            f"{where}.resource.resourceType")]
    issues = [*_validation_issues(get_fhir_model_class("BundleEntry"),
                                  {k: v for k, v in item.items() if k != "resource"}, where),
              *_validation_issues(model, resource, f"{where}.resource")]
    if issues:
        return None, issues
    return Entry(index, item.get("fullUrl"), model.model_validate(resource)), []


def _validation_issues(model: Any, data: dict, where: str) -> list[Issue]:
    try:
        model.model_validate(data)
    except ValidationError as failure:
        return [error("required" if "missing" in e["type"] else "invalid",
                      _message(e), _fhirpath(where, e["loc"]))
                for e in failure.errors(include_input=False, include_url=False)]
    except RecursionError:  # elements nested absurdly deep (e.g. extensions of extensions)
        return [error("structure", "elements nested too deeply", where)]
    except (ValueError, TypeError) as failure:  # a validator that raised outside pydantic
        return [error("invalid", type(failure).__name__, where)]
    return []


def _message(item: dict) -> str:
    """pydantic's message, which names the expected type and never the value sent."""
    return str(item["msg"]).removeprefix("Value error, ")


def _fhirpath(where: str, loc: tuple) -> str:
    path = where
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            path += f".{part}"
    return path
