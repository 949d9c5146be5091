"""A hostile-input corpus for the FHIR and CDS Hooks routes: what EHR mappings send when they
go wrong, one or more cases per class of the issue that found them (issue #37), plus seeded,
bounded random mutations of a valid Bundle.

Each :class:`Case` says which statuses are right for it; :func:`problems` checks an answer the
way a FHIR client would: no 5xx, every refusal an OperationOutcome (valid FHIR, ``Allow`` on a
405) and no planted value echoed. Values planted in requests (``PLANT`` tokens) must never
reach the server's log either: the tests grep it.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.support.mcode_bundles import entry_index, hook_call, metastatic_bundle

#: The start of every planted value (each case's are unique).
PLANT = "planted-"
FHIR_JSON = "application/fhir+json"
#: The public base URL the corpus's server is configured with (MBCRISK_PUBLIC_URL).
PUBLIC_URL = "https://mbcrisk.example.org"
CDS_CALL = "/cds-services/mbcrisk-risk"


@dataclass(frozen=True)
class Case:
    """One request and the statuses a correct server may answer it with."""

    name: str
    method: str
    path: str
    body: bytes | None
    expect: frozenset[int]
    headers: dict[str, str] = field(default_factory=dict)
    keyed: bool = True  # send the API key
    planted: tuple[str, ...] = ()  # values: in no refusal and no log
    names: tuple[str, ...] = ()  # element names: a refusal may name them, no log may


def planted(label: str) -> str:
    """A value that must never come back in a refusal or reach a log."""
    return f"{PLANT}{label}-{uuid.uuid4().hex[:8]}"


def _post(name: str, body: Any, expect: int | set[int] = 400, path: str = "/fhir/explain",
          planted_values: tuple[str, ...] = (), **headers: str) -> Case:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    statuses = frozenset({expect} if isinstance(expect, int) else expect)
    return Case(name, "POST", path, data, statuses,
                {"Content-Type": FHIR_JSON, **headers}, planted=planted_values)


def _bundle() -> dict[str, Any]:
    return copy.deepcopy(metastatic_bundle()[0])


def _resource(bundle: dict[str, Any], kind: str, code: str | None = None) -> dict[str, Any]:
    return bundle["entry"][entry_index(bundle, kind, code)]["resource"]


def _changed(change: Any) -> dict[str, Any]:
    bundle = _bundle()
    change(bundle)
    return bundle


def invalid_fhir_cases() -> list[Case]:
    """Bundles FHIR R4 itself refuses, and those mbcrisk's policy refuses (docs/fhir.md)."""
    type_name = planted("Type").replace("-", "")
    cases = {
        "contained resource of an unknown type": lambda b: _resource(
            b, "Observation", "85337-4").update(
            contained=[{"resourceType": type_name, "id": "x"}],
            specimen={"reference": "#x"}),
        "Bundle.type banana": lambda b: b.update(type="banana"),
        "Bundle.type Collection": lambda b: b.update(type="Collection"),
        "document without a Composition": lambda b: b.update(
            type="document", timestamp="2024-01-01T00:00:00Z",
            identifier={"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}),
        "transaction without request": lambda b: b.update(type="transaction"),
        "gender banana": lambda b: _resource(b, "Patient").update(gender="banana"),
        "birthDate 0": lambda b: _resource(b, "Patient").update(birthDate=0),
        "valueInteger as a string": lambda b: _resource(b, "Observation", "21893-3").update(
            valueInteger="2"),
        "valueInteger true": lambda b: _resource(b, "Observation", "89247-1").update(
            valueInteger=True),
        "valueQuantity.value as a string": lambda b: _resource(
            b, "Observation", "21889-1")["valueQuantity"].update(value="23"),
        "valueQuantity.value null": lambda b: _resource(
            b, "Observation", "21889-1")["valueQuantity"].update(value=None),
        "medication status banana": lambda b: _resource(b, "MedicationStatement").update(
            status="banana"),
        "empty object": lambda b: _resource(b, "Observation", "85337-4").update(code={}),
        "empty array": lambda b: _resource(b, "Patient").update(identifier=[]),
        "empty string": lambda b: _resource(b, "Patient").update(gender=""),
        "null element": lambda b: _resource(b, "Patient").update(active=None),
        "null in an array": lambda b: _resource(b, "Condition")["meta"]["profile"].append(None),
        "id over 64 characters": lambda b: _resource(b, "Patient").update(id="a" * 65),
        "duplicate fullUrl": lambda b: b["entry"][2].update(fullUrl=b["entry"][1]["fullUrl"]),
        "empty fullUrl": lambda b: b["entry"][2].update(fullUrl=""),
        "relative fullUrl": lambda b: b["entry"][2].update(fullUrl="Condition/x"),
        "resourceType DomainResource": lambda b: b["entry"].append(
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": {
                "resourceType": "DomainResource", "id": "d"}}),
        "nested contained": lambda b: _resource(b, "Observation", "85337-4").update(
            contained=[{"resourceType": "Specimen", "id": "s", "contained": [
                {"resourceType": "Specimen", "id": "t"}]}], specimen={"reference": "#s"}),
        "unreferenced contained": lambda b: _resource(b, "Observation", "85337-4").update(
            contained=[{"resourceType": "Specimen", "id": "s"}]),
        "entry key bogus": lambda b: b["entry"][3].update(bogus=True),
        "specimen reference outside the Bundle": lambda b: _resource(
            b, "Observation", "69548-6").update(specimen={"reference": "Specimen/elsewhere"}),
        "diagnosis after the present": lambda b: _resource(b, "Condition").update(
            onsetDateTime="2999-01-01"),
        "diagnosis before birth": lambda b: _resource(b, "Condition").update(
            onsetDateTime="1950-01-01"),
        "repeated JSON member": None,
        "NaN": None,
    }
    out = [_post(name, _changed(change), planted_values=(type_name,) if "unknown" in name
                 else ()) for name, change in cases.items() if change is not None]
    text = json.dumps(_bundle())
    out.append(_post("repeated JSON member", text.replace(
        '"status": "final"', '"status": "final", "status": "cancelled"', 1).encode()))
    out.append(_post("NaN", text.replace('"valueInteger": 2', '"valueInteger": NaN',
                                         1).encode()))
    return out


def prefetch_cases() -> list[Case]:
    """CDS Hooks calls whose prefetch has the wrong shape."""
    bundle = _bundle()
    observation = _resource(bundle, "Observation", "85337-4")
    cases = []
    for name, value in (("a single Observation", observation),
                        ("a Patient", _resource(bundle, "Patient")), ("an empty object", {})):
        call = hook_call(bundle)
        call["prefetch"]["observations"] = value
        cases.append(_post(f"prefetch.observations is {name}", call, path=CDS_CALL,
                           **{"Content-Type": "application/json"}))
    call = hook_call(bundle)
    call["prefetch"]["laboratory"] = {"resourceType": "Bundle", "type": "searchset"}
    cases.append(_post("an unknown prefetch key", call, path=CDS_CALL))
    return cases


def protocol_cases(valid: bytes, call: bytes) -> list[Case]:
    """Methods, paths, keys, media types and sizes: every refusal an OperationOutcome."""
    json_type = {"Content-Type": "application/json"}
    return [
        Case("GET on a POST route", "GET", "/fhir/explain", None, frozenset({405})),
        Case("DELETE on a POST route", "DELETE", "/fhir/predict", None, frozenset({405})),
        Case("GET on a CDS service call", "GET", CDS_CALL, None, frozenset({405})),
        Case("CDS feedback (not offered)", "POST", f"{CDS_CALL}/feedback", b"{}",
             frozenset({404}), json_type),
        Case("an unknown CDS service", "POST", "/cds-services/other", call, frozenset({404}),
             json_type),
        Case("an unknown FHIR path", "GET", "/fhir/Patient/1", None, frozenset({404})),
        Case("the CapabilityStatement", "GET", "/fhir/metadata", None, frozenset({200}),
             keyed=False),
        Case("no key", "POST", "/fhir/explain", valid, frozenset({401}),
             {"Content-Type": FHIR_JSON}, keyed=False),
        Case("no key on discovery", "GET", "/cds-services", None, frozenset({401}),
             keyed=False),
        Case("a wrong key", "POST", CDS_CALL, call, frozenset({401}),
             {**json_type, "Authorization": f"Bearer {planted('key')}"}, keyed=False),
        Case("text/plain", "POST", "/fhir/explain", valid, frozenset({415}),
             {"Content-Type": "text/plain"}),
        Case("Accept only XML", "POST", "/fhir/explain", valid, frozenset({406}),
             {"Content-Type": FHIR_JSON, "Accept": "application/fhir+xml"}),
        Case("Accept refusing JSON by q=0", "GET", "/fhir/metadata", None, frozenset({406}),
             {"Accept": "application/json;q=0, application/fhir+json;q=0"}, keyed=False),
        Case("Application/FHIR+JSON (media types are case-insensitive)", "POST",
             "/fhir/explain", valid, frozenset({200}), {"Content-Type": "Application/FHIR+JSON",
                                                        "Accept": "Application/FHIR+JSON"}),
        Case("a body-less GET with a stray Content-Type", "GET", "/cds-services", None,
             frozenset({200}), {"Content-Type": "text/plain"}),
        Case("not JSON", "POST", "/fhir/predict", b'{"resourceType": "Bundle", ',
             frozenset({400}), {"Content-Type": FHIR_JSON}),
        Case("over the size limit", "POST", "/fhir/explain", b" " * 600_000 + valid,
             frozenset({413}), {"Content-Type": FHIR_JSON}),
    ]


def large_bundle(entries: int = 500) -> dict[str, Any]:
    """A valid Bundle grown to ``entries`` entries by repeated ER results (each superseded by
    a later one: one warning kind, repeated)."""
    bundle = _bundle()
    er = copy.deepcopy(_resource(bundle, "Observation", "85337-4"))
    for coding in (*er["code"]["coding"], *er["valueCodeableConcept"]["coding"]):
        coding.pop("display")  # smaller: 500 entries stay under the tests' body limit
    day = 0
    while len(bundle["entry"]) < entries:
        day += 1
        repeat = {**copy.deepcopy(er), "effectiveDateTime": f"2019-{1 + day % 12:02d}-"
                                                            f"{1 + day % 28:02d}"}
        bundle["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": repeat})
    return bundle


#: Values a random mutation puts in place of an element.
HOSTILE_VALUES: tuple[Any, ...] = (None, "", {}, [], True, False, 0, -1, 2**40, 1.5, "0",
                                   "true", [None], [{}], {"extension": []}, "x" * 300)


def random_cases(seed: int, count: int) -> list[Case]:
    """``count`` seeded mutations of the valid Bundle: an element replaced by a hostile value
    or a planted string, deleted, or a planted unknown element added. Each is answered 200
    (a change the models can do without, said in warnings) or 400; never anything else."""
    chooser = random.Random(seed)
    cases = []
    for n in range(count):
        bundle = _bundle()
        parent, key = _random_place(bundle, chooser)
        action = chooser.choice(("value", "planted", "delete", "unknown element"))
        values: tuple[str, ...] = ()
        if action == "value":
            parent[key] = copy.deepcopy(chooser.choice(HOSTILE_VALUES))
        elif action == "planted":
            values = (planted(f"value{n}"),)
            parent[key] = values[0]
        elif action == "delete":
            parent.pop(key)
        else:
            name = planted(f"element{n}").replace("-", "")
            value = planted(f"value{n}")
            (parent if isinstance(parent, dict) else bundle)[name] = value
            cases.append(Case(f"random mutation {n} ({action})", "POST", "/fhir/explain",
                              json.dumps(bundle).encode(), frozenset({400}),
                              {"Content-Type": FHIR_JSON}, planted=(value,), names=(name,)))
            continue
        cases.append(_post(f"random mutation {n} ({action})", bundle, {200, 400},
                           planted_values=values))
    return cases


def _random_place(bundle: dict[str, Any], chooser: random.Random) -> tuple[Any, Any]:
    """A random (container, key or index) inside one random entry's resource."""
    entry = chooser.choice(bundle["entry"])
    places: list[tuple[Any, Any]] = []
    stack: list[Any] = [entry["resource"]]
    while stack:
        item = stack.pop()
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, value in children:
            if key != "resourceType":
                places.append((item, key))
            if isinstance(value, dict | list):
                stack.append(value)
    return chooser.choice(places)


def corpus(seed: int = 37, random_count: int = 200) -> list[Case]:
    """The whole corpus: every class above, and ``random_count`` seeded random mutations."""
    bundle = _bundle()
    valid = json.dumps(bundle).encode()
    call = json.dumps(hook_call(bundle)).encode()
    return [*invalid_fhir_cases(), *prefetch_cases(), *protocol_cases(valid, call),
            *random_cases(seed, random_count)]


def problems(case: Case, status: int, headers: dict[str, str], body: bytes) -> list[str]:
    """What a FHIR client would find wrong with this answer to ``case`` (empty when none)."""
    found = []
    if status not in case.expect:
        found.append(f"status {status}, expected {sorted(case.expect)}")
    if status >= 400:
        media = headers.get("content-type", "")
        if not media.startswith(FHIR_JSON):
            found.append(f"a {status} answered as {media!r}, not an OperationOutcome")
        else:
            try:
                OperationOutcome.model_validate_json(body)
            except ValueError:
                found.append(f"a {status} whose body is not a valid OperationOutcome")
        if status == 405 and "allow" not in {k.lower() for k in headers}:
            found.append("a 405 without an Allow header")
        text = body.decode(errors="replace")
        found += [f"the refusal repeats a planted value ({v[:20]}...)" for v in case.planted
                  if v in text]
    return found
