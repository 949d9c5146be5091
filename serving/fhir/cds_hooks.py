"""CDS Hooks 2.0: the discovery document, a ``patient-view`` call's prefetch read as one mCODE
Bundle, and the answer's cards (one per answering model)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.actionability.table import tier_level
from serving.fhir.answer import record_elements
from serving.fhir.conformance import bundle_issues, resource_issues
from serving.fhir.mcode import ReadPatient
from serving.fhir.outcome import FhirInputError, Issue, error, grouped
from serving.profile import MODEL_NAMES
from serving.schemas import Actionability, Prediction

SERVICE_ID = "mbcrisk-risk"
#: The FHIR searches a CDS client runs before the call (CDS Hooks prefetch templates).
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "specimens": "Specimen?patient={{context.patientId}}",
}
#: A risk group in a summary, said for what it is: a third of the training cohort's
#: out-of-fold risk, not an absolute level (85% by 12 months can be the lowest third).
GROUP_WORDS = {"low": "low: lowest third of training risk",
               "intermediate": "intermediate: middle third of training risk",
               "high": "high: highest third of training risk"}
#: Card indicator by risk group.
INDICATOR = {"low": "info", "intermediate": "warning", "high": "critical"}
#: The start of every card's summary while its model was trained on synthetic data.
SYNTHETIC_PREFIX = "[SYNTHETIC-data model] "
#: Kinds of warning a card's detail lists (the rest are counted), which keeps it a few KB.
WARNING_KINDS_SHOWN = 10
#: A card's summary must be shorter than 140 characters (CDS Hooks 2.0).
SUMMARY_LIMIT = 139


def discovery() -> dict[str, Any]:
    """``GET /cds-services``."""
    return {"services": [{
        "hook": "patient-view", "id": SERVICE_ID,
        "title": "mbcrisk: relapse, progression and treatment-resistance risk",
        "description": (
            "Explained risk estimates for a patient with breast cancer from the mCODE "
            "record: relapse from diagnosis (early setting) or progression on the current "
            "line (metastatic setting), and resistance to the current therapy class. "
            "Decision support only, never the sole basis of a treatment decision."),
        "prefetch": PREFETCH,
        "usageRequirements": "an mbcrisk API key as the bearer token",
    }]}


class HookContext(BaseModel):
    """The ``patient-view`` context."""

    model_config = ConfigDict(extra="allow")
    userId: str | None = Field(default=None, max_length=256)
    patientId: str = Field(max_length=256)


class HookRequest(BaseModel):
    """A CDS Hooks call; the prefetch holds the Patient and searchset Bundles."""

    model_config = ConfigDict(extra="allow")
    hook: Literal["patient-view"]
    hookInstance: str = Field(max_length=256)
    context: HookContext
    prefetch: dict[str, Any] | None = None


def read_request(data: Any) -> HookRequest:
    """The call, validated; errors name the field (never its value)."""
    try:
        return HookRequest.model_validate(data)
    except ValidationError as failure:
        raise FhirInputError([error("invalid", e["msg"], ".".join(map(str, e["loc"])))
                              for e in failure.errors(include_input=False,
                                                      include_url=False)]) from failure


class MissingPrefetch(Exception):
    """The call lacks prefetched data this service needs (it does not query FHIR servers)."""


#: The resource type each prefetch key's search returns.
PREFETCH_KIND = {key: template.split("?")[0].split("/")[0] for key, template in PREFETCH.items()}


def prefetch_bundle(call: HookRequest) -> tuple[dict[str, Any], dict[int, str]]:
    """The prefetch as one ``collection`` Bundle, and for each of its entries where it came
    from (e.g. ``prefetch.observations.entry[3]``), to name places in errors.

    Its shape is checked first: only this service's keys; ``patient`` a Patient resource (null
    or absent: :class:`MissingPrefetch`), the context's; every other key null (the client
    could not run that search) or a Bundle valid by FHIR's rules whose entries hold the
    resource type its template searches for. Nothing is dropped unsaid."""
    prefetch = call.prefetch or {}
    unknown = [error("structure", "not a prefetch key of this service (GET /cds-services "
                                  "lists them)", f"prefetch.{key}")
               for key in prefetch if key not in PREFETCH]
    if unknown:
        raise FhirInputError(unknown)
    patient = prefetch.get("patient")
    if patient is None:
        raise MissingPrefetch("prefetch.patient is required: this service reads only prefetched "
                              "data (it does not query the FHIR server)")
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise FhirInputError([error("structure", "must be a Patient resource (the result of "
                                    f"{PREFETCH['patient']})", "prefetch.patient")])
    if patient.get("id") != call.context.patientId:
        raise FhirInputError([error("invalid", "the prefetched Patient is not the patient of "
                                    "the context (context.patientId)", "prefetch.patient.id")])
    entries: list[Any] = [{"resource": patient}]
    origin = {0: "prefetch.patient"}
    for key in PREFETCH:
        if key == "patient" or prefetch.get(key) is None:
            continue
        for j, item in enumerate(_searched(prefetch[key], key)):
            origin[len(entries)] = f"prefetch.{key}.entry[{j}]"
            entries.append({k: v for k, v in item.items() if k in ("fullUrl", "resource")})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, origin


def _searched(found: Any, key: str) -> list[dict[str, Any]]:
    """The entries of a prefetch key's search result, which must be a valid Bundle of the
    template's resource type."""
    where = f"prefetch.{key}"
    if not isinstance(found, dict) or found.get("resourceType") != "Bundle":
        raise FhirInputError([error("structure", "must be a Bundle (the searchset of "
                                    f"{PREFETCH[key]}) or null", where)])
    issues = resource_issues(found, where)
    if not issues and "type" not in found:
        issues = [error("required", "a Bundle has a type", f"{where}.type")]
    issues = issues or bundle_issues(found, where)
    if issues:
        raise FhirInputError(issues)
    entries = found.get("entry", [])
    wrong = [error("structure", f"holds {PREFETCH_KIND[key]} resources only (the result of "
                                f"{PREFETCH[key]})", f"{where}.entry[{j}].resource")
             for j, item in enumerate(entries)
             if (item.get("resource") or {}).get("resourceType") != PREFETCH_KIND[key]]
    if wrong:
        raise FhirInputError(wrong)
    return entries


def located(issues: list[Issue], origin: dict[int, str]) -> list[Issue]:
    """The issues with ``Bundle.entry[i]`` rewritten to the prefetch place it came from."""
    def where(expression: str) -> str:
        return re.sub(r"^Bundle\.entry\[(\d+)\]",
                      lambda m: origin.get(int(m.group(1)), m.group(0)), expression)
    return [Issue(i.severity, i.code, i.diagnostics,
                  where(i.expression) if i.expression else None) for i in issues]


def cards(read: ReadPatient, prediction: Prediction, public_url: str | None,
          ) -> list[dict[str, Any]]:
    """One card per answering model: summary, indicator by risk group, Markdown detail,
    source (model and version) and, when a public base URL is configured, a link to the model
    card (never built from the request's headers); one per model that cannot answer, saying
    what it needs; last, the actionability card (:func:`actionability_card`)."""
    explanations = getattr(prediction, "explanations", {})
    endpoint = prediction.endpoint
    out = []
    if prediction.status == "answered":
        horizons = list(prediction.event_free_probability.items())
        middle, event_free = horizons[len(horizons) // 2]
        outcome = "Relapse" if endpoint == "relapse" else "Progression on current line"
        summary = (f"{outcome}: {1 - event_free:.0%} by {middle} months "
                   f"({GROUP_WORDS[prediction.risk_group]})")
        detail = ["| within (months) | probability |", "| --- | --- |",
                  *(f"| {h} | {1 - s:.1%} |" for h, s in horizons), "",
                  prediction.label_definition]
        out.append(_card(summary, prediction.risk_group, detail, explanations.get(endpoint),
                         endpoint, prediction, read, public_url))
    for therapy, resistance in prediction.resistance.items():
        task = f"resistance_{therapy}"
        summary = (f"Resistance to {therapy.replace('_', ' ')} therapy: "
                   f"{resistance.probability:.0%} ({GROUP_WORDS[resistance.risk_group]})")
        out.append(_card(summary, resistance.risk_group,
                         [resistance.label_definition, *resistance.notes],
                         explanations.get(task), task, prediction, read, public_url))
    for task, fields in prediction.insufficient_data.items():
        out.append(_card(f"{MODEL_NAMES.get(task, task).capitalize()}: not answered, data needed",
                         "information", ["The record lacks the minimum data this model needs "
                                         "to answer (no risk is shown rather than one decided "
                                         "by what is missing):", "",
                                         *(f"- {record_elements(f)}" for f in fields)],
                         None, task, prediction, read, public_url))
    out.append(actionability_card(prediction.actionability))
    return out


def actionability_card(actionability: Actionability) -> dict[str, Any]:
    """One information card: the profile's ESCAT evidence levels (never a treatment order or
    suggestion), the findings without a tier, what was not tested, and the table's version."""
    levels = [tier_level(f.tier) for f in actionability.findings if f.tier is not None]
    counts = [f"{levels.count(level)} tier {level}" for level in ("I", "II")]
    untested = len(actionability.not_tested)
    summary = (f"Actionability (ESCAT evidence levels): {', '.join(counts)}"
               + (f"; {untested} not tested" if untested else ""))
    lines = [*(f"- {f.sentence}" for f in actionability.findings if f.tier is not None)]
    lines = lines or ["No tiered finding in the genes tested."]
    untiered = [f"- {f.sentence}" for f in actionability.findings if f.tier is None]
    if untiered:
        lines += ["", "**Findings without a tier**", "", *untiered]
    if actionability.notes:
        lines += ["", "**Notes**", "", *(f"- {n}" for n in actionability.notes)]
    if actionability.not_tested:
        lines += ["", "**Not tested** (unknown, not negative): "
                  + ", ".join(actionability.not_tested)]
    lines += ["", "Evidence levels of the ESMO Scale for Clinical Actionability of molecular "
              "Targets, ranked for metastatic disease; not recommendations."]
    return {"uuid": str(uuid.uuid4()), "summary": summary[:SUMMARY_LIMIT], "indicator": "info",
            "detail": "\n".join(lines),
            "source": {"label": f"mbcrisk: ESCAT table {actionability.table_version}"}}


def _card(summary: str, risk_group: str, detail: list[str], explanation: Any, task: str,
          prediction: Prediction, read: ReadPatient, public_url: str | None) -> dict[str, Any]:
    model = prediction.model[task]
    lines = list(detail)
    if explanation is not None and explanation.groups:
        lines += ["", "**Largest drivers**", "",
                  *(f"- {g.sentence}" for g in explanation.groups[:3])]
    lines += _warning_lines(read, prediction)
    if model.trained_on_synthetic_data:  # said where the reader looks first
        summary = f"{SYNTHETIC_PREFIX}{summary}"
    card = {"uuid": str(uuid.uuid4()), "summary": summary[:SUMMARY_LIMIT],
            "indicator": INDICATOR.get(risk_group, "info"), "detail": "\n".join(lines),
            "source": {"label": f"mbcrisk: {model.name} version {model.version}"}}
    if public_url is not None:  # links resolve as absolute URLs: only from the configuration
        card_url = f"{public_url.rstrip('/')}/model-cards/{task}"
        card["source"]["url"] = card_url
        card["links"] = [{"label": "Model card", "url": card_url, "type": "absolute"}]
    return card


def _warning_lines(read: ReadPatient, prediction: Prediction) -> list[str]:
    """The warnings, one line per kind with its count, at most WARNING_KINDS_SHOWN kinds."""
    kinds = [g.diagnostics for g in grouped(read.warnings)]
    kinds += list(dict.fromkeys(prediction.warnings))
    if not kinds:
        return []
    shown = kinds[:WARNING_KINDS_SHOWN]
    more = len(kinds) - len(shown)
    return ["", f"**Warnings ({len(kinds)} kinds)**", "", *(f"- {w}" for w in shown),
            *([f"- and {more} more kinds (the FHIR routes' OperationOutcome lists them)"]
              if more else [])]
