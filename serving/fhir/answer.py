"""A prediction as FHIR: a Bundle with one RiskAssessment per answering model, one
therapeutic-implication Observation per tiered actionable finding
(:mod:`serving.fhir.implications`) and the warnings as an OperationOutcome (validated by
fhir.resources before it is sent).

The structured explanation rides in extensions defined here and in docs/fhir.md:
``EXPLANATION`` holds the scale, base value and one ``group`` or ``feature`` extension per
driver (``name``, ``contribution``, ``direction``, ``treatment``, ``sentence``); ``RISK_SCORE``
is the model's risk score (higher means worse) and ``IN_DOMAIN`` the applicability check.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from models.domain.answerable import OR
from serving.fhir.codes import UCUM
from serving.fhir.implications import actionability_issues, therapeutic_implications
from serving.fhir.mcode import ReadPatient
from serving.fhir.outcome import Issue, operation_outcome
from serving.schemas import ExplainedPrediction, ModelExplanation, ModelInfo, Prediction

EXTENSION_BASE = "https://mbcrisk.org/fhir/StructureDefinition"
EXPLANATION = f"{EXTENSION_BASE}/explanation"
RISK_SCORE = f"{EXTENSION_BASE}/risk-score"
IN_DOMAIN = f"{EXTENSION_BASE}/in-domain"
#: The model that answered, as RiskAssessment.method (code: registered model name).
MODEL_SYSTEM = "https://mbcrisk.org/fhir/CodeSystem/model"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
#: mbcrisk's risk groups in the FHIR risk-probability code system.
QUALITATIVE = {"low": "low", "intermediate": "moderate", "high": "high"}
#: Drivers worded in a RiskAssessment's note.
NOTE_DRIVERS = 3

OUTCOME_WORDS = {"relapse": "relapse (from diagnosis)",
                 "progression": "progression on the current line (from its start)"}


#: Where in an mCODE record each request field a model may need comes from (the minimum data
#: of :mod:`models.domain.answerable`), for the ``incomplete`` issues.
FIELD_ELEMENTS = {
    "er_status": "an ER status Observation (LOINC 85337-4)",
    "her2_status": "a HER2 status Observation (LOINC 48676-1)",
    "stage": "a stage group Observation (LOINC 21908-9, 21902-2 or 21914-7)",
    "t_category and n_category": "T and N category Observations (AJCC)",
    "tumor_size_mm and positive_lymph_nodes": ("tumour size (LOINC 21889-1) and positive lymph "
                                               "nodes (LOINC 21893-3) Observations"),
    "current_therapy": ("the current line: an active MedicationStatement, MedicationRequest or "
                        "MedicationAdministration naming its agent"),
}


def record_elements(fields: str) -> str:
    """A need's request fields (:attr:`models.domain.answerable.Need.field`) as the mCODE
    elements that would supply them."""
    return OR.join(FIELD_ELEMENTS.get(part, part) for part in fields.split(OR))


def answer_bundle(read: ReadPatient, prediction: Prediction) -> dict[str, Any]:
    """The FHIR answer for one patient (a ``collection`` Bundle), as JSON: a RiskAssessment
    per answering model; a model without its minimum data gives none, and an ``incomplete``
    issue names what it needs."""
    explained = isinstance(prediction, ExplainedPrediction)
    explanations = prediction.explanations if explained else {}
    entries = []
    if prediction.status == "answered":
        entries.append(_risk_assessment(
            read, prediction.endpoint, prediction.model[prediction.endpoint],
            _endpoint_predictions(prediction), prediction.risk_score,
            prediction.applicability.in_domain, prediction.applicability.reasons,
            prediction.label_definition, explanations.get(prediction.endpoint)))
    for therapy, resistance in prediction.resistance.items():
        task = f"resistance_{therapy}"
        entries.append(_risk_assessment(
            read, task, prediction.model[task], [_prediction(
                resistance.label_definition, resistance.probability, resistance.risk_group)],
            resistance.probability, resistance.applicability.in_domain,
            resistance.applicability.reasons, resistance.label_definition,
            explanations.get(task), resistance.notes))
    entries += therapeutic_implications(read, prediction.actionability)
    issues = [*read.warnings,
              *(Issue("warning", "incomplete", f"{task}: not answered, the record lacks "
                      + "; ".join(record_elements(f) for f in fields), "Bundle")
                for task, fields in prediction.insufficient_data.items()),
              *(Issue("warning", "informational", text, "Bundle") for text in
                prediction.warnings),
              *(Issue("information", "informational", f"{task}: {why}", "Bundle") for
                task, why in prediction.not_applicable.items()),
              *actionability_issues(prediction.actionability)]
    outcome = operation_outcome(issues)
    bundle = {"resourceType": "Bundle", "type": "collection",
              "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
              "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r}
                        for r in [*entries, outcome]]}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def _endpoint_predictions(prediction: Prediction) -> list[dict[str, Any]]:
    outcome = OUTCOME_WORDS[prediction.endpoint]
    return [_prediction(f"{outcome} within {horizon} months", 1.0 - event_free,
                        prediction.risk_group, float(horizon))
            for horizon, event_free in prediction.event_free_probability.items()]


def _prediction(outcome: str, probability: float, risk_group: str,
                horizon_months: float | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "outcome": {"text": outcome},
        "probabilityDecimal": round(float(probability), 6),
        "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY,
                                        "code": QUALITATIVE[risk_group]}],
                            "text": risk_group}}
    if horizon_months is not None:
        entry["whenRange"] = {"low": _months(0.0), "high": _months(horizon_months)}
    return entry


def _months(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "months", "system": UCUM, "code": "mo"}


def _risk_assessment(read: ReadPatient, task: str, model: ModelInfo,
                     predictions: list[dict[str, Any]], risk_score: float, in_domain: bool,
                     reasons: list[str], definition: str,
                     explanation: ModelExplanation | None,
                     label_notes: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    notes = [definition, *label_notes]
    if explanation is not None and explanation.groups:
        notes.append("Largest drivers: " + "; ".join(
            g.sentence for g in explanation.groups[:NOTE_DRIVERS]))
    if not in_domain:
        notes.append("Outside the training cohort's range: " + "; ".join(reasons))
    extension = [{"url": RISK_SCORE, "valueDecimal": round(float(risk_score), 6)},
                 {"url": IN_DOMAIN, "valueBoolean": in_domain}]
    if explanation is not None:
        extension.append(explanation_extension(explanation))
    return {
        "resourceType": "RiskAssessment", "status": "final",
        "subject": {"reference": read.patient},
        "occurrenceDateTime": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": {"text": f"mbcrisk {task}"},
        "method": {"coding": [{"system": MODEL_SYSTEM, "code": model.name,
                               "version": model.version, "display": task}],
                   "text": f"{model.name} version {model.version}"
                           + (f" ({model.alias})" if model.alias else "")},
        "basis": [{"reference": reference} for reference in read.basis],
        "prediction": predictions,
        "note": [{"text": text} for text in notes],
        "extension": extension,
    }


def explanation_extension(explanation: ModelExplanation) -> dict[str, Any]:
    """The structured explanation: scale, base value, then groups and features in order."""
    parts: list[dict[str, Any]] = [
        {"url": "scale", "valueString": explanation.scale},
        {"url": "baseValue", "valueDecimal": round(explanation.base_value, 6)}]
    for kind, records in (("group", explanation.groups), ("feature", explanation.features)):
        for record in records:
            name = record.group if kind == "group" else record.feature
            parts.append({"url": kind, "extension": [
                {"url": "name", "valueString": name},
                {"url": "contribution", "valueDecimal": round(record.contribution, 6)},
                {"url": "direction", "valueString": record.direction},
                {"url": "treatment", "valueBoolean": record.treatment},
                {"url": "sentence", "valueString": record.sentence}]})
    if explanation.unprofiled is not None:
        parts.append({"url": "unprofiled", "extension": [
            {"url": "inputs", "valueInteger": explanation.unprofiled.inputs},
            {"url": "contribution",
             "valueDecimal": round(explanation.unprofiled.contribution, 6)},
            {"url": "sentence", "valueString": explanation.unprofiled.sentence}]})
    return {"url": EXPLANATION, "extension": parts}
