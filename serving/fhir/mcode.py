"""One patient's mCODE Bundle as the profile the models use (docs/fhir.md has the table).

What a prediction needs and the Bundle lacks (a Patient with a birth date, a primary cancer
Condition with an onset) is an error naming where; every element that is present but cannot be
used is a warning naming where, never a silent drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from serving.fhir import codes
from serving.fhir.elements import (
    as_date,
    code_in,
    codings,
    has_code,
    length_mm,
    months_between,
    number,
    words,
    years_between,
)
from serving.fhir.genomics import Genomics, read_region_studied, read_variant, sample_type_of
from serving.fhir.medications import MEDICATION_KINDS, Therapies, read_medication
from serving.fhir.outcome import FhirInputError, Issue, error, warning
from serving.fhir.parse import Entry, ParsedBundle
from serving.schemas import PatientProfile

#: Observation statuses whose value is used; the others (registered, cancelled,
#: entered-in-error, unknown) are warned about and not used.
USABLE_STATUS = {"final", "amended", "corrected", "preliminary"}
OBSERVATION_STATUS = USABLE_STATUS | {"registered", "cancelled", "entered-in-error", "unknown"}
#: Metastases found within this many months of the primary diagnosis: de novo metastatic.
DE_NOVO_MONTHS = 3.0
_ROMAN_STAGE = re.compile(r"(?:stage\s*)?\b(0|iv|iii|ii|i)(?:[abc]\d?|is)?\b")
_ROMAN = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(frozen=True)
class ReadPatient:
    """The profile, what could not be used (warnings naming where), the entries the profile
    was read from (the answer's ``basis``) and the Patient's reference."""

    profile: PatientProfile
    warnings: list[Issue]
    basis: list[str]
    patient: str


@dataclass
class _Reading:
    fields: dict[str, Any] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)


def read_patient(bundle: ParsedBundle, today: date) -> ReadPatient:
    """The Bundle's one patient as a :class:`PatientProfile` (``today``: the date the metastatic
    setting's time origin falls back to when no current line has a start date)."""
    patient = _one_patient(bundle)
    reading = _Reading()
    reading.basis.append(patient.reference)
    _check_subjects(bundle, patient)
    birth = as_date(patient.resource.birthDate)
    if birth is None:
        raise FhirInputError([error("required", "birthDate is needed for the age at diagnosis",
                                    f"{patient.path}.birthDate")])
    sex = patient.resource.gender
    if sex in ("female", "male"):
        reading.fields["sex"] = sex
    else:
        reading.warnings.append(warning("gender is not female or male: female assumed "
                                        "(the models were trained on women)",
                                        f"{patient.path}.gender"))
    primary, secondaries = _cancer_conditions(bundle, reading)
    diagnosed = as_date(primary.resource.onsetDateTime) or as_date(
        getattr(primary.resource.onsetPeriod, "start", None))
    if diagnosed is None:
        raise FhirInputError([error("required", "onsetDateTime (the date of diagnosis) is "
                                    "needed for the age at diagnosis and the time origins",
                                    f"{primary.path}.onset")])
    reading.fields["age_years"] = round(years_between(birth, diagnosed), 2)
    _histology(primary, reading)
    genomics, therapies = Genomics(), Therapies()
    _observations(bundle, reading, genomics)
    _medications(bundle, reading, therapies)
    _setting(bundle, reading, secondaries, diagnosed, therapies, today)
    _genomic_fields(bundle, reading, genomics)
    reading.warnings += genomics.warnings + therapies.warnings
    try:
        profile = PatientProfile(**reading.fields)
    except ValidationError as failure:
        raise FhirInputError([error(
            "value", f"{'.'.join(map(str, e['loc']))}: {e['msg']}", "Bundle")
            for e in failure.errors(include_input=False, include_url=False)]) from failure
    return ReadPatient(profile, reading.warnings, reading.basis, patient.reference)


def _one_patient(bundle: ParsedBundle) -> Entry:
    patients = list(bundle.of_kind("Patient"))
    if len(patients) != 1:
        raise FhirInputError([error(
            "required" if not patients else "structure",
            "the Bundle must hold exactly one Patient (it holds "
            f"{len(patients)})", "Bundle.entry")])
    return patients[0]


def _check_subjects(bundle: ParsedBundle, patient: Entry) -> None:
    """Every resource's subject (or patient) must be the Bundle's Patient."""
    problems = []
    for entry in bundle.entries:
        for name in ("subject", "patient"):
            reference = getattr(entry.resource, name, None)
            if reference is None or entry.kind == "Patient":
                continue
            expression = f"{entry.path}.{name}"
            try:
                target = bundle.resolve(reference, expression)
            except FhirInputError as failure:
                problems += failure.issues
                continue
            if target is not patient:
                problems.append(error("invalid", "refers to a resource other than the "
                                      "Bundle's Patient", expression))
    if problems:
        raise FhirInputError(problems)


def _cancer_conditions(bundle: ParsedBundle, reading: _Reading) -> tuple[Entry, list[Entry]]:
    primaries, secondaries = [], []
    for entry in bundle.of_kind("Condition"):
        profiles = set(entry.resource.meta.profile or []) if entry.resource.meta else set()
        icd10 = code_in(entry.resource.code, "http://hl7.org/fhir/sid/icd-10-cm") or ""
        if codes.PRIMARY_CANCER_PROFILE in profiles or icd10.startswith("C50"):
            primaries.append(entry)
        elif codes.SECONDARY_CANCER_PROFILE in profiles or icd10[:3] in ("C77", "C78", "C79"):
            secondaries.append(entry)
        else:
            reading.warnings.append(warning(
                "a Condition that is neither an mCODE primary nor secondary cancer condition: "
                "not used", entry.path))
    if len(primaries) != 1:
        raise FhirInputError([error(
            "required" if not primaries else "not-supported",
            "the Bundle must hold exactly one primary cancer Condition (mCODE "
            f"PrimaryCancerCondition profile, or ICD-10-CM C50); it holds {len(primaries)}",
            "Bundle.entry")])
    reading.basis += [primaries[0].reference, *(s.reference for s in secondaries)]
    return primaries[0], secondaries


def _histology(primary: Entry, reading: _Reading) -> None:
    for k, extension in enumerate(primary.resource.extension or []):
        if extension.url != codes.HISTOLOGY_EXTENSION:
            continue
        code = code_in(extension.valueCodeableConcept, codes.ICD_O_3)
        if code in codes.ICD_O_3_HISTOLOGY:
            reading.fields["histology"] = codes.ICD_O_3_HISTOLOGY[code]
        else:
            reading.fields["histology"] = "other"
            reading.warnings.append(warning(
                "histology not one of the ICD-O-3 morphology codes read (docs/fhir.md): "
                "taken as other", f"{primary.path}.extension[{k}].valueCodeableConcept"))


def _observations(bundle: ParsedBundle, reading: _Reading, genomics: Genomics) -> None:
    problems = []
    for entry in bundle.of_kind("Observation"):
        observation = entry.resource
        if observation.status not in OBSERVATION_STATUS:
            problems.append(error("code-invalid", "status is not an Observation status "
                                  f"({', '.join(sorted(OBSERVATION_STATUS))})",
                                  f"{entry.path}.status"))
            continue
        for k, (system, code, _) in enumerate(codings(observation.code)):
            if system == codes.LOINC and not codes.is_loinc(code or ""):
                problems.append(error("code-invalid", "not a LOINC code (its check digit "
                                      "does not match)", f"{entry.path}.code.coding[{k}].code"))
        if problems:
            continue
        if observation.status not in USABLE_STATUS:
            reading.warnings.append(warning(f"an Observation with status "
                                            f"{observation.status}: not used",
                                            f"{entry.path}.status"))
            continue
        if _observation(entry, reading, genomics):
            reading.basis.append(entry.reference)
    if problems:
        raise FhirInputError(problems)


def _observation(entry: Entry, reading: _Reading, genomics: Genomics) -> bool:
    """Read one Observation into the profile; whether it was used."""
    observation, where = entry.resource, entry.path
    loinc = code_in(observation.code, codes.LOINC)
    if loinc in codes.RECEPTOR_TESTS:
        answer = next((codes.RECEPTOR_ANSWERS[(s, c)] for s, c, _ in
                       codings(observation.valueCodeableConcept)
                       if (s, c) in codes.RECEPTOR_ANSWERS), None)
        return _set(reading, codes.RECEPTOR_TESTS[loinc], answer,
                    f"{where}.valueCodeableConcept", "answer code not recognised")
    if has_code(observation.code, codes.STAGE_GROUP_CODES):
        return _set(reading, "stage", stage_group(observation.valueCodeableConcept),
                    f"{where}.valueCodeableConcept", "stage group not read")
    if loinc == codes.TUMOR_SIZE:
        return _set(reading, "tumor_size_mm", length_mm(observation.valueQuantity),
                    f"{where}.valueQuantity", "size without a unit in mm or cm")
    if loinc == codes.POSITIVE_NODES:
        nodes = number(observation)
        return _set(reading, "positive_lymph_nodes", None if nodes is None else int(nodes),
                    f"{where}.value", "no count")
    if loinc == codes.NOTTINGHAM_GRADE:
        return _set(reading, "grade", grade(observation), f"{where}.value", "grade not read")
    if loinc == codes.ECOG:
        ecog = number(observation)
        return _set(reading, "ecog", None if ecog is None else int(ecog), f"{where}.value",
                    "no score (valueInteger)")
    if loinc == codes.TMB:
        return _set(reading, "tmb", number(observation), f"{where}.valueQuantity",
                    "no value")
    if loinc == codes.VARIANT:
        read_variant(observation, where, genomics)
        return True
    if loinc == codes.REGION_STUDIED:
        read_region_studied(observation, genomics)
        return True
    reading.warnings.append(warning("an Observation the models do not use (its code is not "
                                    "in docs/fhir.md's table)", f"{where}.code"))
    return False


def _set(reading: _Reading, name: str, value: Any, where: str, problem: str) -> bool:
    if value is None:
        reading.warnings.append(warning(f"{problem}: {name} not used", where))
        return False
    reading.fields[name] = value
    return True


def stage_group(concept: Any) -> int | None:
    """AJCC stage group 0-4 from a stage-group value: an AJCC code (``2B``) or the stage's
    roman numeral in a display or text (SNOMED CT displays such as ``IIB``)."""
    ajcc = code_in(concept, codes.AJCC)
    if ajcc and ajcc[0] in "01234":
        return int(ajcc[0])
    match = _ROMAN_STAGE.search(words(concept))
    return _ROMAN[match.group(1)] if match else None


def grade(observation: Any) -> int | None:
    """Nottingham grade 1-3: valueInteger, or the digit of ``grade N`` in the answer."""
    value = number(observation)
    if value is not None:
        return int(value) if value in (1, 2, 3) else None
    match = re.search(r"grade\s*([123])\b", words(observation.valueCodeableConcept))
    return int(match.group(1)) if match else None


def _medications(bundle: ParsedBundle, reading: _Reading, therapies: Therapies) -> None:
    medications = {}
    for entry in bundle.of_kind("Medication"):
        medications[entry.reference] = entry.resource
        if entry.resource.id:
            medications[f"Medication/{entry.resource.id}"] = entry.resource
    for kind in MEDICATION_KINDS:
        for entry in bundle.of_kind(kind):
            before = len(therapies.warnings)
            read_medication(entry.resource, entry.path, medications, therapies)
            if len(therapies.warnings) == before:
                reading.basis.append(entry.reference)


def _setting(bundle: ParsedBundle, reading: _Reading, secondaries: list[Entry],
             diagnosed: date, therapies: Therapies, today: date) -> None:
    """Metastatic when a secondary cancer Condition is present or the stage group is IV; its
    time origin is the start of the current line (else the Bundle's timestamp, else today)."""
    sites, first_metastasis = set(), None
    for entry in secondaries:
        found = _sites(entry.resource)
        if not found:
            reading.warnings.append(warning("body site of the secondary cancer not recognised "
                                            "(docs/fhir.md): taken as other",
                                            f"{entry.path}.bodySite"))
            found = {"other"}
        sites |= found
        onset = as_date(entry.resource.onsetDateTime)
        if onset is not None and (first_metastasis is None or onset < first_metastasis):
            first_metastasis = onset
    metastatic = bool(secondaries) or reading.fields.get("stage") == 4
    reading.fields["setting"] = "metastatic" if metastatic else "early"
    reading.fields["metastatic_sites"] = sorted(sites)
    if not metastatic:
        reading.fields["prior_therapies"] = therapies.prior_lines() + sorted(
            {c if c != "cdk46" else "endocrine_cdk46" for c in therapies.current})
        return
    if first_metastasis is not None:
        reading.fields["de_novo_metastatic"] = (
            months_between(diagnosed, first_metastasis) <= DE_NOVO_MONTHS)
    reading.fields["current_therapy"] = therapies.current_line()
    reading.fields["prior_therapies"] = therapies.prior_lines()
    origin = therapies.current_start or as_date(bundle.timestamp) or today
    reading.fields["months_since_diagnosis"] = round(max(0.0, months_between(diagnosed,
                                                                              origin)), 2)


def _sites(condition: Any) -> set[str]:
    sites = set()
    for site in condition.bodySite or []:
        for system, code, _ in codings(site):
            if system == codes.SNOMED and code in codes.SNOMED_SITES:
                sites.add(codes.SNOMED_SITES[code])
            elif system == codes.ICD_O_3 and code:
                sites |= {v for k, v in codes.ICD_O_3_SITES.items() if code.startswith(k)}
    return sites


def _genomic_fields(bundle: ParsedBundle, reading: _Reading, genomics: Genomics) -> None:
    reading.fields["alterations"] = genomics.alterations
    if genomics.studied_genes:
        reading.fields["profiled_genes"] = sorted(genomics.studied_genes)
    sample_types = set()
    for reference, where in genomics.specimens:
        specimen = bundle.resolve(reference, where)
        sample_type, problem = sample_type_of(specimen.resource, specimen.path)
        if sample_type is not None:
            sample_types.add(sample_type)
        elif problem is not None:
            reading.warnings.append(problem)
    if len(sample_types) == 1:
        reading.fields["sample_type"] = sample_types.pop()
    elif len(sample_types) > 1:
        reading.warnings.append(warning("variants from specimens of different types: the "
                                        "sample type is taken as metastasis", "Bundle.entry"))
        reading.fields["sample_type"] = "metastasis"
    elif genomics.alterations or genomics.studied_genes:
        reading.warnings.append(warning("no specimen of the variants says where they come "
                                        "from: the primary tumour assumed", "Bundle.entry"))
