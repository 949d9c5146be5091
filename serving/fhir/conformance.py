"""What FHIR R4(B) itself requires of a JSON resource and fhir.resources leaves unchecked.

The library coerces where the standard refuses (``"2"`` or ``true`` as an integer, ``0`` as a
date), accepts any code where a value set is required (``Bundle.type`` ``banana``), nulls and
empty elements, over-long ids, unknown resource types inside ``contained`` (a ``KeyError``)
and contained resources nested or referenced by nothing. This module walks the parsed JSON with
the library's own element definitions (each model field's type, cardinality and required
codes) and enforces:

- JSON primitive types (FHIR JSON: booleans and numbers unquoted, everything else a string),
  integer ranges, no empty string;
- required value-set bindings: on ``code`` elements of the resources and data types a
  patient's record carries (``REVIEWED_BINDINGS``, ``REQUIRED_CODES``), and on the two
  CodeableConcepts the reader follows (Condition clinical and verification status);
- no ``null`` and no empty object or array, except the ``null`` that aligns a primitive array
  with its ``_element`` array;
- ``id`` at most 64 characters of ``[A-Za-z0-9-.]``; no element FHIR does not define;
- known, concrete resource types everywhere (``DomainResource`` is abstract), contained ones
  too; a contained resource holds no contained resources (dom-2), is referenced from its
  container or refers to it (dom-3), has no ``meta.versionId``, ``lastUpdated`` (dom-4) or
  ``security`` (dom-5), and a ``#id`` reference names one of them (ref-1);
- the Bundle invariants bdl-1 to bdl-12 and ``fullUrl`` rules (an absolute URI, no version,
  agreeing with the resource's type and id).

Every failure is an :class:`~serving.fhir.outcome.Issue` naming the element's FHIRPath; none
repeats a value from the request.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from serving.fhir.outcome import Issue, error

#: Resource types that cannot be instantiated.
ABSTRACT_TYPES = frozenset({"Resource", "DomainResource"})
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: Code elements with a required binding whose codes the library lists in full (its
#: ``enum_values``, checked against the R4 value sets). Elsewhere its lists can be short
#: descriptions, not value sets (``Observation.status`` ends in "+",
#: ``CapabilityStatement.format`` reads "formats, json, mime, ttl"): not enforced here.
REVIEWED_BINDINGS = frozenset({
    ("Bundle", "type"), ("BundleEntryRequest", "method"), ("BundleEntrySearch", "mode"),
    ("Patient", "gender"), ("PatientContact", "gender"), ("PatientLink", "type"),
    ("Specimen", "status"), ("Medication", "status"), ("MedicationStatement", "status"),
    ("MedicationRequest", "status"), ("MedicationRequest", "intent"),
    ("MedicationRequest", "priority"), ("MedicationAdministration", "status"),
    ("Procedure", "status"), ("Identifier", "use"), ("HumanName", "use"),
    ("ContactPoint", "system"), ("ContactPoint", "use"), ("Address", "type"),
    ("Address", "use"), ("Narrative", "status"), ("TimingRepeat", "dayOfWeek"),
    ("TimingRepeat", "durationUnit"), ("TimingRepeat", "periodUnit"),
})
#: Required bindings the library lists in part or not at all: their value sets.
REQUIRED_CODES = {
    ("Observation", "status"): frozenset({
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown"}),
    ("Quantity", "comparator"): frozenset({"<", "<=", ">=", ">"}),
}
#: Required bindings on CodeableConcepts of resources the reader follows: (system, codes).
REQUIRED_CONCEPTS = {
    ("Condition", "clinicalStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}),
    ("Condition", "verificationStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        {"unconfirmed", "provisional", "differential", "confirmed", "refuted",
         "entered-in-error"}),
}
ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
UUID_URN = re.compile(r"urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{12}")
RESTFUL_TAIL = re.compile(r"/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True)
class Slot:
    """One element a model defines: its JSON name, whether it repeats and what it holds.

    ``kind`` is ``boolean``, ``integer``, ``decimal`` or ``string`` (the FHIR primitives by
    their JSON type), ``complex`` (a data type or backbone element: ``model``), ``resource``
    (``contained``, ``Bundle.entry.resource``) or ``extension`` (a primitive's ``_element``).
    """

    many: bool
    kind: str
    model: Any = None
    enum: frozenset[str] | None = None
    low: int | None = None
    high: int | None = None
    is_id: bool = False


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the element type, whether it repeats) of a field annotation."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, many
            annotation = args[0]
        elif origin is list:
            many = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, many


def _slot(field: Any) -> Slot:
    base, many = _unwrap(field.annotation)
    extra = field.json_schema_extra or {}
    listed = extra.get("enum_values")
    enum = frozenset(listed) if listed else None
    if typing.get_origin(base) is typing.Annotated:
        inner, *marks = typing.get_args(base)
        mark = marks[-1]
        if inner is bool:
            return Slot(many, "boolean")
        if inner is int:
            return Slot(many, "integer", low=getattr(mark, "min_length", None),
                        high=getattr(mark, "max_length", None))
        if inner is decimal.Decimal:
            return Slot(many, "decimal")
        return Slot(many, "string", enum=enum, is_id=type(mark).__name__ == "Id")
    if base is bool:
        return Slot(many, "boolean")
    name = getattr(base, "__name__", "")
    if name == "ResourceType":
        return Slot(many, "resource")
    if name == "FHIRPrimitiveExtensionType":
        return Slot(many, "extension", model=get_fhir_model_class("FHIRPrimitiveExtension"))
    if hasattr(base, "get_model_klass"):
        return Slot(many, "complex", model=base.get_model_klass())
    return Slot(many, "string", enum=enum)


@functools.cache
def slots(model: Any) -> dict[str, Slot]:
    """Every element ``model`` defines, by its JSON name."""
    defined = {}
    for name, field in model.model_fields.items():
        if name == "fhir_comments":
            continue
        element = field.alias or name
        slot = _slot(field)
        key = (model.__name__, element)
        codes = REQUIRED_CODES.get(key, slot.enum if key in REVIEWED_BINDINGS else None)
        defined[element] = dataclasses.replace(slot, enum=codes)
    return defined


def resource_model(kind: Any) -> Any:
    """The model of a concrete FHIR resource type, or None."""
    if not isinstance(kind, str) or kind in ABSTRACT_TYPES or not kind.isidentifier():
        return None
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError):
        return None
    return model if isinstance(model, type) and issubclass(model, Resource) else None


def resource_issues(data: Any, where: str, contained: bool = False) -> list[Issue]:
    """What the standard refuses in ``data``, a resource's JSON at FHIRPath ``where``."""
    if not isinstance(data, dict):
        return [error("structure", "a resource must be a JSON object", where)]
    kind = data.get("resourceType")
    model = resource_model(kind)
    if model is None:
        return [error("structure", "resourceType is missing or not a concrete FHIR R4 "
                                   "resource type", f"{where}.resourceType")]
    issues = _element_issues(model, data, where, kind, top=True)
    if contained:
        issues += _contained_issues(data, where)
    else:
        issues += _local_reference_issues(data, where)
    return issues


def _element_issues(model: Any, data: dict, where: str, kind: str, top: bool = False,
                    ) -> list[Issue]:
    issues: list[Issue] = []
    if not data:
        return [error("required", "an element must not be empty (FHIR: an object is never "
                                  "empty)", where)]
    defined = slots(model)
    for key, value in data.items():
        if top and key == "resourceType":
            continue
        path = f"{where}.{key}"
        slot = defined.get(key)
        if slot is None:
            issues.append(error("structure", "an element FHIR R4 does not define here", path))
        elif slot.many:
            issues += _array_issues(slot, value, path, data.get(f"_{key}")
                                    if not key.startswith("_") else data.get(key[1:]), kind)
        elif value is None:
            issues.append(error("invalid", "null is not a value (FHIR JSON: leave the element "
                                           "out)", path))
        else:
            issues += _value_issues(slot, value, path, kind, key)
    return issues


def _array_issues(slot: Slot, value: Any, path: str, partner: Any, kind: str) -> list[Issue]:
    if not isinstance(value, list):
        return [error("structure", "must be an array", path)]
    if not value:
        return [error("required", "an array must not be empty (FHIR: leave the element out)",
                      path)]
    issues: list[Issue] = []
    aligned = isinstance(partner, list) and len(partner) == len(value)
    if slot.kind in ("extension", "boolean", "integer", "decimal", "string") and isinstance(
            partner, list) and not aligned:
        issues.append(error("structure", "a primitive array and its _element array must have "
                                         "the same length", path))
    for i, item in enumerate(value):
        if item is None:
            if not (aligned and partner[i] is not None):
                issues.append(error("invalid", "null in an array is allowed only to align a "
                                               "primitive array with its _element array",
                                    f"{path}[{i}]"))
        else:
            issues += _value_issues(slot, item, f"{path}[{i}]", kind, path.rsplit(".", 1)[-1])
    return issues


def _value_issues(slot: Slot, value: Any, path: str, kind: str, key: str) -> list[Issue]:
    if slot.kind == "boolean":
        return [] if isinstance(value, bool) else [
            error("invalid", "must be a JSON boolean (true or false, unquoted)", path)]
    if slot.kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [error("invalid", "must be a JSON integer (unquoted)", path)]
        if (slot.low is not None and value < slot.low) or (
                slot.high is not None and value > slot.high):
            return [error("invalid", f"an integer from {slot.low} to {slot.high}", path)]
        return []
    if slot.kind == "decimal":
        if not isinstance(value, int | float) or isinstance(value, bool) or (
                isinstance(value, float) and not math.isfinite(value)):
            return [error("invalid", "must be a JSON number (unquoted)", path)]
        return []
    if slot.kind == "string":
        return _string_issues(slot, value, path)
    if slot.kind == "resource":
        return resource_issues(value, path, contained=key == "contained")
    if not isinstance(value, dict):
        return [error("structure", "must be a JSON object", path)]
    issues = _element_issues(slot.model, value, path, kind)
    concept = REQUIRED_CONCEPTS.get((kind, key))
    if concept is not None and not issues:
        issues += _concept_issues(value, path, *concept)
    return issues


def _string_issues(slot: Slot, value: Any, path: str) -> list[Issue]:
    if not isinstance(value, str):
        return [error("invalid", "must be a JSON string", path)]
    if not value:
        return [error("invalid", "an empty string is not a value (FHIR JSON: leave the element "
                                 "out)", path)]
    if slot.is_id and not ID_PATTERN.fullmatch(value):
        return [error("invalid", "an id is 1 to 64 characters of A-Z, a-z, 0-9, - and .",
                      path)]
    if slot.enum is not None and value not in slot.enum:
        return [error("code-invalid", "not a code of the required value set (one of "
                                      f"{', '.join(sorted(slot.enum))})", path)]
    return []


def _concept_issues(value: dict, path: str, system: str, codes: set[str]) -> list[Issue]:
    return [error("code-invalid", f"not a code of the required value set ({system}: "
                                  f"{', '.join(sorted(codes))})", f"{path}.coding[{i}].code")
            for i, coding in enumerate(value.get("coding", []))
            if isinstance(coding, dict) and coding.get("system") == system
            and coding.get("code") not in codes]


def reference_places(data: Any, where: str = "", contained: bool = True,
                     ) -> list[tuple[str, str]]:
    """(FHIRPath, reference) of every Reference in ``data`` (JSON at ``where``), those inside
    contained resources left out unless ``contained``."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("reference"), str):
                found.append((path, item["reference"]))
            stack.extend((v, f"{path}.{k}") for k, v in item.items()
                         if contained or k != "contained")
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{j}]") for j, v in enumerate(item))
    return found


def references_in(data: Any) -> list[str]:
    """Every ``reference`` string anywhere in ``data`` (a resource's JSON)."""
    return [reference for _, reference in reference_places(data)]


def _contained_issues(data: dict, where: str) -> list[Issue]:
    issues = []
    if "contained" in data:
        issues.append(error("structure", "a contained resource must not contain resources "
                                         "(dom-2)", f"{where}.contained"))
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    for element, rule in (("versionId", "dom-4"), ("lastUpdated", "dom-4"),
                          ("security", "dom-5")):
        if element in meta:
            issues.append(error("structure", f"a contained resource has no meta.{element} "
                                             f"({rule})", f"{where}.meta.{element}"))
    return issues


def _local_reference_issues(data: dict, where: str) -> list[Issue]:
    """dom-3 and ref-1 for a resource that is not itself contained."""
    contained = data.get("contained")
    if not isinstance(contained, list):
        contained = []
    ids = {c.get("id") for c in contained if isinstance(c, dict)}
    # each part walked once: the container's own elements, then each contained resource
    own = references_in({k: v for k, v in data.items() if k != "contained"})
    inside = [references_in(c) if isinstance(c, dict) else [] for c in contained]
    issues = []
    for i, item in enumerate(contained):
        if not isinstance(item, dict):
            continue
        others = own + [r for j, found in enumerate(inside) if j != i for r in found]
        referred = f"#{item.get('id')}" in others
        if not (item.get("id") and referred) and "#" not in inside[i]:
            issues.append(error("structure", "a contained resource must be referenced from "
                                             "its container (#id) or refer to it (dom-3)",
                                f"{where}.contained[{i}]"))
    for reference in {r for found in (own, *inside) for r in found}:
        if reference.startswith("#") and reference != "#" and reference[1:] not in ids:
            issues.append(error("not-found", "a local reference (#id) must name a contained "
                                             "resource (ref-1)", where))
    return issues


def bundle_issues(data: dict, where: str = "Bundle") -> list[Issue]:
    """The Bundle invariants (bdl-1 to bdl-12) and the fullUrl rules, for a Bundle at
    FHIRPath ``where`` whose elements passed :func:`resource_issues`."""
    kind = data.get("type")
    entries = [e for e in data.get("entry", []) if isinstance(e, dict)]
    issues = []
    if "total" in data and kind not in ("searchset", "history"):
        issues.append(error("invariant", "total only when a search or history (bdl-1)",
                            f"{where}.total"))
    if kind == "document":
        identifier = data.get("identifier") or {}
        if not (identifier.get("system") and identifier.get("value")):
            issues.append(error("invariant", "a document has an identifier with a system and "
                                             "a value (bdl-9)", f"{where}.identifier"))
        if "timestamp" not in data:
            issues.append(error("invariant", "a document has a timestamp (bdl-10)",
                                f"{where}.timestamp"))
    first = {"document": "Composition", "message": "MessageHeader"}.get(kind)
    if first and not (entries and (entries[0].get("resource") or {}).get(
            "resourceType") == first):
        issues.append(error("invariant", f"a {kind} has a {first} as its first resource "
                                         f"({'bdl-11' if kind == 'document' else 'bdl-12'})",
                            f"{where}.entry[0].resource"))
    seen: dict[tuple[str, Any], int] = {}
    for i, entry in enumerate(data.get("entry", [])):
        if not isinstance(entry, dict):
            continue
        at = f"{where}.entry[{i}]"
        issues += _entry_issues(entry, at, kind)
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            version = ((entry.get("resource") or {}).get("meta") or {}).get("versionId")
            if (full_url, version) in seen and kind != "history":
                issues.append(error("invariant", "fullUrl must be unique in a Bundle (bdl-7; "
                                                 f"also entry[{seen[(full_url, version)]}])",
                                    f"{at}.fullUrl"))
            seen.setdefault((full_url, version), i)
    return issues


def _entry_issues(entry: dict, where: str, kind: Any) -> list[Issue]:
    issues = []
    if "search" in entry and kind != "searchset":
        issues.append(error("invariant", "entry.search only when a search (bdl-2)",
                            f"{where}.search"))
    needs_request = kind in ("batch", "transaction", "history")
    if needs_request != ("request" in entry):
        issues.append(error("invariant", "entry.request is required in a batch, transaction "
                                         "or history and allowed nowhere else (bdl-3)",
                            f"{where}.request"))
    needs_response = kind in ("batch-response", "transaction-response", "history")
    if needs_response != ("response" in entry):
        issues.append(error("invariant", "entry.response is required in a batch-response, "
                                         "transaction-response or history and allowed nowhere "
                                         "else (bdl-4)", f"{where}.response"))
    if not any(k in entry for k in ("resource", "request", "response")):
        issues.append(error("invariant", "an entry has a resource, a request or a response "
                                         "(bdl-5)", where))
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str):
        issues += _full_url_issues(full_url, entry.get("resource"), f"{where}.fullUrl")
    return issues


def _full_url_issues(full_url: str, resource: Any, where: str) -> list[Issue]:
    if not ABSOLUTE_URI.fullmatch(full_url):
        return [error("invalid", "fullUrl must be an absolute URI (a URL, urn:uuid: or "
                                 "urn:oid:)", where)]
    if full_url.startswith("urn:uuid:") and not UUID_URN.fullmatch(full_url):
        return [error("invalid", "a urn:uuid: fullUrl must hold a UUID", where)]
    if "/_history/" in full_url:
        return [error("invariant", "fullUrl cannot be a version-specific reference (bdl-8)",
                      where)]
    tail = RESTFUL_TAIL.search(full_url)
    if tail and isinstance(resource, dict) and resource.get("id") and (
            tail.group(1), tail.group(2)) != (resource.get("resourceType"), resource["id"]):
        return [error("invalid", "fullUrl must agree with the resource's type and id", where)]
    return []
