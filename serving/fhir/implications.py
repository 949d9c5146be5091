"""A patient's actionable findings (:mod:`features.actionability`) as Genomics Reporting
therapeutic-implication Observations, one per tiered finding, each derived from the variant
(or microsatellite) Observation it was read from.

ESCAT tiers have no standard code system: they are coded in mbcrisk's own
(``ESCAT_SYSTEM``: codes ``I-A``, ``I-B``, ``I-C``, ``II``, ``II-A``, ``II-B``, ``III-A``,
``III-B``, ``IV``, ``X``, as in ESMO's scale; docs/fhir.md). Each note says the tier is an
evidence level, not a recommendation, and names the table's version and source.
"""

from __future__ import annotations

from typing import Any

from serving.fhir.codes import LOINC
from serving.fhir.mcode import ReadPatient
from serving.fhir.outcome import Issue
from serving.schemas import Actionability

THERAPEUTIC_IMPLICATION = ("http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
                           "therapeutic-implication")
TBD_CODES = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
#: mbcrisk's code system of ESCAT tiers (no standard one exists).
ESCAT_SYSTEM = "https://mbcrisk.org/fhir/CodeSystem/escat"
#: LOINC: Level of evidence; Medication assessed [ID].
EVIDENCE_LEVEL = "93044-6"
MEDICATION_ASSESSED = "51963-7"


def therapeutic_implications(read: ReadPatient, actionability: Actionability,
                             ) -> list[dict[str, Any]]:
    """One therapeutic-implication Observation per tiered finding read from the Bundle."""
    out = []
    for finding in actionability.findings:
        source = read.finding_sources.get(finding.finding)
        if finding.tier is None or source is None:
            continue
        out.append({
            "resourceType": "Observation", "status": "final",
            "meta": {"profile": [THERAPEUTIC_IMPLICATION]},
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}],
            "code": {"coding": [{"system": TBD_CODES, "code": "therapeutic-implication",
                                 "display": "Therapeutic Implication"}]},
            "subject": {"reference": read.patient},
            "derivedFrom": [{"reference": source}],
            "component": [
                {"code": {"coding": [{"system": LOINC, "code": EVIDENCE_LEVEL,
                                      "display": "Level of evidence"}]},
                 "valueCodeableConcept": {"coding": [{
                     "system": ESCAT_SYSTEM, "code": finding.tier,
                     "display": f"ESCAT tier {finding.tier}"}],
                     "text": f"ESCAT {finding.tier}"}},
                {"code": {"coding": [{"system": LOINC, "code": MEDICATION_ASSESSED,
                                      "display": "Medication assessed [ID]"}]},
                 "valueCodeableConcept": {"text": finding.therapy}}],
            "note": [{"text": f"{finding.sentence}. An evidence level, not a recommendation. "
                              f"Table: {actionability.table_version}; source: "
                              f"{finding.source}"}],
        })
    return out


def actionability_issues(actionability: Actionability) -> list[Issue]:
    """The table's version, the findings without a tier, what was not tested, and the notes,
    as informational issues."""
    texts = [f"actionability: ESCAT table {actionability.table_version}",
             *(f"actionability: {f.sentence}" for f in actionability.findings
               if f.tier is None),
             *(f"actionability: {note}" for note in actionability.notes)]
    if actionability.not_tested:
        texts.append("actionability: not tested (unknown, not negative): "
                     + ", ".join(actionability.not_tested))
    return [Issue("information", "informational", text, "Bundle") for text in texts]
