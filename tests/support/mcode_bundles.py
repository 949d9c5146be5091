"""mCODE Bundles built the way the IG's examples are (mCODE STU4, Genomics Reporting IG), with
the JSON profile each one means, for the FHIR tests."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import date
from typing import Any

from features.cohorts.synthetic.parameters import PANELS

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PATIENT = "urn:uuid:6a1f3e0e-0000-4000-8000-000000000001"
DIAGNOSED = date(2019, 3, 12)
AGE_AT_DIAGNOSIS = round((DIAGNOSED - date(1963, 4, 10)).days / 365.25, 2)


def _entry(number: int, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:6a1f3e0e-0000-4000-8000-{number:012d}", "resource": resource}


def _observation(code: str, display: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": {"reference": PATIENT}, **value}


def _answer(system: str, code: str, display: str) -> dict[str, Any]:
    return {"valueCodeableConcept": {"coding": [{"system": system, "code": code,
                                                 "display": display}]}}


def variant(gene: str, hgnc: str, protein: str | None = None, change_type: str | None = None,
            specimen: str | None = None) -> dict[str, Any]:
    """A Genomics Reporting IG Variant: gene studied (HGNC), amino-acid change (pHGVS) and
    DNA change type (Sequence Ontology) when given."""
    components = [{"code": {"coding": [{"system": LOINC, "code": "48018-6",
                                        "display": "Gene studied [ID]"}]},
                   "valueCodeableConcept": {"coding": [{
                       "system": "http://www.genenames.org/geneId", "code": hgnc,
                       "display": gene}]}}]
    if protein is not None:
        components.append({"code": {"coding": [{"system": LOINC, "code": "48005-3"}]},
                           "valueCodeableConcept": {"coding": [{
                               "system": "http://varnomen.hgvs.org", "code": protein}]}})
    if change_type is not None:
        components.append({"code": {"coding": [{"system": LOINC, "code": "48019-4"}]},
                           "valueCodeableConcept": {"coding": [{
                               "system": "http://www.sequenceontology.org",
                               "code": change_type}]}})
    observation = _observation("69548-6", "Genetic variant assessment",
                               **_answer(LOINC, "LA9633-4", "Present"), component=components)
    observation["meta"] = {"profile": [
        "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant"]}
    if specimen is not None:
        observation["specimen"] = {"reference": specimen}
    return observation


def metastatic_bundle() -> tuple[dict[str, Any], dict[str, Any]]:
    """An ER+/HER2- patient with bone, liver and lung metastases on letrozole + palbociclib
    after adjuvant tamoxifen; ESR1 D538G (3-letter pHGVS), a PIK3CA variant without a protein
    change, MYC amplification, from a liver biopsy on a panel whose genes a RegionStudied
    observation lists (the synthetic cohort's MBC_TISSUE_V2); and the equivalent JSON
    profile."""
    specimen = "urn:uuid:6a1f3e0e-0000-4000-8000-000000000040"
    resources = [
        {"resourceType": "Patient", "id": "cancer-patient-jane",
         "meta": {"profile": [MCODE + "mcode-cancer-patient"]},
         "gender": "female", "birthDate": "1963-04-10"},
        {"resourceType": "Condition",
         "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
         "extension": [{"url": MCODE + "mcode-histology-morphology-behavior",
                        "valueCodeableConcept": {"coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                            "code": "8500/3", "display": "Infiltrating duct carcinoma"}]}}],
         "clinicalStatus": {"coding": [{
             "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
             "code": "active"}]},
         "code": {"coding": [{"system": SNOMED, "code": "353431000119107",
                              "display": "Primary malignant neoplasm of female left breast"}]},
         "subject": {"reference": PATIENT}, "onsetDateTime": "2019-03-12"},
        *({"resourceType": "Condition",
           "meta": {"profile": [MCODE + "mcode-secondary-cancer-condition"]},
           "code": {"coding": [{"system": SNOMED, "code": "128462008",
                                "display": "Secondary malignant neoplastic disease"}]},
           "bodySite": [{"coding": [{"system": SNOMED, "code": site}]}],
           "subject": {"reference": PATIENT}, "onsetDateTime": "2022-06-01"}
          for site in ("272673000", "10200004", "39607008")),
        _observation("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen",
                     **_answer(LOINC, "LA6576-8", "Positive")),
        _observation("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen",
                     **_answer(LOINC, "LA6576-8", "Positive")),
        _observation("48676-1", "HER2 [Interpretation] in Tissue",
                     **_answer(LOINC, "LA6577-6", "Negative")),
        _observation("21908-9", "Stage group.clinical Cancer",
                     **_answer("http://cancerstaging.org", "2B", "IIB")),
        _observation("21889-1", "Size Tumor", valueQuantity={
            "value": 2.8, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"}),
        _observation("21893-3", "Regional lymph nodes positive", valueInteger=2),
        _observation("44648-4", "Histologic grade [Score] in Breast cancer specimen",
                     **_answer(LOINC, "LA27824-4", "Nottingham grade 2")),
        _observation("89247-1", "ECOG Performance Status score", valueInteger=1),
        _observation("94076-7", "Mutations/Megabase [# Ratio] in Tumor", valueQuantity={
            "value": 4.2, "unit": "/1000000{Base}"}),
        variant("ESR1", "HGNC:3467", "NP_000116.2:p.Asp538Gly", specimen=specimen),
        variant("PIK3CA", "HGNC:8975", specimen=specimen),
        variant("MYC", "HGNC:7553", change_type="SO:0001742", specimen=specimen),
        _observation("53041-0", "DNA region of interest panel", component=[
            {"code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
             "valueCodeableConcept": {"coding": [{
                 "system": "http://www.genenames.org/geneId", "display": gene}]}}
            for gene in PANELS["MBC_TISSUE_V2"]]),
        {"resourceType": "Specimen", "subject": {"reference": PATIENT},
         "type": {"coding": [{"system": SNOMED, "code": "309068002",
                              "display": "Specimen from liver"}]},
         "collection": {"bodySite": {"coding": [{"system": SNOMED, "code": "10200004"}]}}},
        *({"resourceType": "MedicationStatement", "status": "active",
           "medicationCodeableConcept": {"coding": [{
               "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code,
               "display": name}]},
           "subject": {"reference": PATIENT}, "effectivePeriod": {"start": "2022-07-05"}}
          for code, name in (("72965", "letrozole"), ("1601374", "palbociclib"))),
        {"resourceType": "MedicationStatement", "status": "completed",
         "medicationCodeableConcept": {"text": "Tamoxifen 20 MG Oral Tablet"},
         "subject": {"reference": PATIENT},
         "effectivePeriod": {"start": "2019-05-01", "end": "2022-05-20"}},
    ]
    entries = [_entry(1, resources[0])]
    entries += [_entry(n + 10, r) for n, r in enumerate(resources[1:])]
    entries[-4]["fullUrl"] = specimen  # the Specimen
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    profile = {
        "age_years": AGE_AT_DIAGNOSIS,
        "sex": "female", "er_status": "positive", "pr_status": "positive",
        "her2_status": "negative", "histology": "ductal", "grade": 2, "tumor_size_mm": 28.0,
        "positive_lymph_nodes": 2, "stage": 2, "ecog": 1, "setting": "metastatic",
        "de_novo_metastatic": False,
        "months_since_diagnosis": round((date(2022, 7, 5) - DIAGNOSED).days / (365.25 / 12),
                                        2),  # the current line's start
        "metastatic_sites": ["bone", "liver", "lung"], "current_therapy": "endocrine_cdk46",
        "prior_therapies": ["endocrine"], "sample_type": "metastasis", "tmb": 4.2,
        "alterations": [{"gene": "ESR1", "kind": "mutation", "protein_change": "D538G"},
                        {"gene": "PIK3CA", "kind": "mutation", "protein_change": None},
                        {"gene": "MYC", "kind": "amplification", "protein_change": None}],
        "profiled_genes": sorted(PANELS["MBC_TISSUE_V2"]),
    }
    return bundle, profile


def entry_index(bundle: dict[str, Any], kind: str, code: str | None = None) -> int:
    """The index of the first entry of ``kind`` (with LOINC ``code``, when given)."""
    for i, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        if resource["resourceType"] != kind:
            continue
        if code is None or any(c.get("code") == code for c in
                               resource.get("code", {}).get("coding", [])):
            return i
    raise LookupError(kind)


def early_bundle() -> tuple[dict[str, Any], dict[str, Any]]:
    """The same patient at diagnosis: no metastases, no medications, no variants."""
    bundle, _ = metastatic_bundle()
    bundle = copy.deepcopy(bundle)
    keep = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        profiles = resource.get("meta", {}).get("profile", [])
        if (MCODE + "mcode-secondary-cancer-condition" in profiles
                or resource["resourceType"] in ("MedicationStatement", "Specimen")
                or any(c.get("code") in ("69548-6", "53041-0", "94076-7")
                       for c in resource.get("code", {}).get("coding", []))):
            continue
        keep.append(entry)
    bundle["entry"] = keep
    profile = {
        "age_years": AGE_AT_DIAGNOSIS, "sex": "female",
        "er_status": "positive", "pr_status": "positive", "her2_status": "negative",
        "histology": "ductal", "grade": 2, "tumor_size_mm": 28.0, "positive_lymph_nodes": 2,
        "stage": 2, "ecog": 1, "setting": "early", "metastatic_sites": [],
        "prior_therapies": [], "alterations": [],
    }
    return bundle, profile


def _prefetch(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle as a CDS client's prefetch: a Patient and searchset Bundles, references as a
    FHIR server writes them (``Patient/{id}``)."""
    text = json.dumps(bundle).replace(bundle["entry"][0]["fullUrl"],
                                      "Patient/cancer-patient-jane")
    entries = json.loads(text)["entry"]
    by_kind: dict[str, list] = {}
    for entry in entries[1:]:
        by_kind.setdefault(entry["resource"]["resourceType"], []).append(entry)

    def search(kind: str) -> dict[str, Any]:  # no entry element when nothing was found
        found = by_kind.get(kind, [])
        return {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                **({"entry": found} if found else {})}

    return {"patient": entries[0]["resource"], "conditions": search("Condition"),
            "observations": search("Observation"), "medications": search("MedicationStatement"),
            "specimens": search("Specimen")}


def hook_call(bundle: dict[str, Any], instance: str | None = None) -> dict[str, Any]:
    """A CDS Hooks patient-view call for the Bundle's patient, its data prefetched."""
    return {"hook": "patient-view", "hookInstance": instance or str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "cancer-patient-jane"},
            "prefetch": _prefetch(bundle)}
