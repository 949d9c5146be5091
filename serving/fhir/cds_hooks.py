"""CDS Hooks 2.0: the discovery document, a ``patient-view`` call's prefetch read as one mCODE
Bundle, and the answer's cards (one per answering model)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from serving.fhir.answer import record_elements
from serving.fhir.mcode import ReadPatient
from serving.fhir.outcome import FhirInputError, Issue, error
from serving.profile import MODEL_NAMES
from serving.schemas import Prediction

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


def prefetch_bundle(call: HookRequest) -> tuple[dict[str, Any], dict[int, str]]:
    """The prefetch as one ``collection`` Bundle, and for each of its entries where it came
    from (e.g. ``prefetch.observations.entry[3]``), to name places in errors."""
    prefetch = call.prefetch or {}
    if not isinstance(prefetch.get("patient"), dict):
        raise MissingPrefetch("prefetch.patient is required: this service reads only prefetched "
                              "data (it does not query the FHIR server)")
    if prefetch["patient"].get("id") != call.context.patientId:
        raise FhirInputError([error("invalid", "the prefetched Patient is not the patient of "
                                    "the context (context.patientId)", "prefetch.patient.id")])
    entries = [{"resource": prefetch["patient"]}]
    origin = {0: "prefetch.patient"}
    for key in PREFETCH:
        if key == "patient" or prefetch.get(key) is None:
            continue
        found = prefetch[key]
        if not isinstance(found, dict) or not isinstance(found.get("entry", []), list):
            raise FhirInputError([error("structure", "must be a searchset Bundle",
                                        f"prefetch.{key}")])
        for j, item in enumerate(found.get("entry", [])):
            origin[len(entries)] = f"prefetch.{key}.entry[{j}]"
            entries.append(item if isinstance(item, dict) else {"resource": None})
    for item in entries:  # references by Type/id, as a FHIR server's results carry them
        resource = item.get("resource")
        if isinstance(resource, dict) and resource.get("id") and "fullUrl" not in item:
            item["fullUrl"] = f"{resource.get('resourceType')}/{resource['id']}"
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, origin


def located(issues: list[Issue], origin: dict[int, str]) -> list[Issue]:
    """The issues with ``Bundle.entry[i]`` rewritten to the prefetch place it came from."""
    def where(expression: str) -> str:
        return re.sub(r"^Bundle\.entry\[(\d+)\]",
                      lambda m: origin.get(int(m.group(1)), m.group(0)), expression)
    return [Issue(i.severity, i.code, i.diagnostics, where(i.expression)) for i in issues]


def cards(read: ReadPatient, prediction: Prediction, base_url: str) -> list[dict[str, Any]]:
    """One card per answering model: summary, indicator by risk group, Markdown detail,
    source (model and version) and a link to the model card."""
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
                         endpoint, prediction, read, base_url))
    for therapy, resistance in prediction.resistance.items():
        task = f"resistance_{therapy}"
        summary = (f"Resistance to {therapy.replace('_', ' ')} therapy: "
                   f"{resistance.probability:.0%} ({GROUP_WORDS[resistance.risk_group]})")
        out.append(_card(summary, resistance.risk_group,
                         [resistance.label_definition, *resistance.notes],
                         explanations.get(task), task, prediction, read, base_url))
    for task, fields in prediction.insufficient_data.items():
        out.append(_card(f"{MODEL_NAMES.get(task, task).capitalize()}: not answered, data needed",
                         "information", ["The record lacks the minimum data this model needs "
                                         "to answer (no risk is shown rather than one decided "
                                         "by what is missing):", "",
                                         *(f"- {record_elements(f)}" for f in fields)],
                         None, task, prediction, read, base_url))
    return out


def _card(summary: str, risk_group: str, detail: list[str], explanation: Any, task: str,
          prediction: Prediction, read: ReadPatient, base_url: str) -> dict[str, Any]:
    model = prediction.model[task]
    lines = list(detail)
    if explanation is not None and explanation.groups:
        lines += ["", "**Largest drivers**", "",
                  *(f"- {g.sentence}" for g in explanation.groups[:3])]
    warnings = [*(w.diagnostics for w in read.warnings), *prediction.warnings]
    if warnings:
        lines += ["", f"**{len(warnings)} warnings**", "", *(f"- {w}" for w in warnings)]
    card_url = f"{base_url.rstrip('/')}/model-cards/{task}"
    if model.trained_on_synthetic_data:  # said where the reader looks first
        summary = f"{SYNTHETIC_PREFIX}{summary}"
    return {
        "uuid": str(uuid.uuid4()), "summary": summary[:SUMMARY_LIMIT],
        "indicator": INDICATOR.get(risk_group, "info"), "detail": "\n".join(lines),
        "source": {"label": f"mbcrisk: {model.name} version {model.version}", "url": card_url},
        "links": [{"label": "Model card", "url": card_url, "type": "absolute"}],
    }
