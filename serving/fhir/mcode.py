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
from serving.fhir.genomics import (
    Genomics,
    read_msi,
    read_region_studied,
    read_variant,
    sample_type_of,
)
from serving.fhir.medications import MEDICATION_KINDS, Therapies, line_class, read_medication
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
    #: the Observation each finding was read from, by finding label (``ESR1 D538G``,
    #: ``MSI-high``): what a therapeutic implication is derived from
    finding_sources: dict[str, str] = field(default_factory=dict)


@dataclass
class _Reading:
    fields: dict[str, Any] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # field -> FHIRPath it came from
    effective: dict[str, date | None] = field(default_factory=dict)  # field -> result date


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
    reading.sources["age_years"] = f"{patient.path}.birthDate"
    _histology(primary, reading)
    genomics, therapies = Genomics(), Therapies()
    _observations(bundle, reading, genomics)
    _medications(bundle, reading, therapies, today)
    _setting(bundle, reading, secondaries, diagnosed, therapies, today)
    _genomic_fields(bundle, reading, genomics)
    reading.warnings += genomics.warnings + therapies.warnings
    return ReadPatient(_profile(reading), reading.warnings, reading.basis, patient.reference,
                       genomics.sources)


def _profile(reading: _Reading) -> PatientProfile:
    """The profile; a value outside the range the models accept (an ECOG of 5, a tumour over
    300 mm) is dropped with a warning naming its entry. An age at diagnosis outside 18-110
    years is an error: no answer can be given without it."""
    while True:
        try:
            return PatientProfile(**reading.fields)
        except ValidationError as failure:
            problems = failure.errors(include_input=False, include_url=False)
            names = {e["loc"][0] for e in problems if e["loc"]}
            droppable = names & (set(reading.sources) - {"age_years"})
            if droppable != names or not droppable:
                raise FhirInputError([error(
                    "value", f"{e['msg']} (the models accept {e['loc'][0]} only in range)",
                    reading.sources.get(str(e["loc"][0]) if e["loc"] else "", "Bundle"))
                    for e in problems]) from failure
            for name in sorted(droppable):
                del reading.fields[name]
                reading.warnings.append(warning(f"{name} outside the range the models "
                                                "accept: not used", reading.sources[name]))


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
        verification = code_in(entry.resource.verificationStatus, codes.CONDITION_VERIFICATION)
        if verification in codes.NOT_A_CONDITION:
            reading.warnings.append(warning(f"a Condition whose verification status is "
                                            f"{verification}: not used",
                                            f"{entry.path}.verificationStatus"))
        elif codes.PRIMARY_CANCER_PROFILE in profiles or icd10.startswith("C50"):
            primaries.append(entry)
        elif codes.SECONDARY_CANCER_PROFILE in profiles or icd10[:3] in ("C78", "C79"):
            # (C77, lymph nodes, is regional disease in breast cancer: not read as metastatic)
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
        if code in codes.ICD_O_3_HISTOLOGY and "histology" not in reading.fields:
            reading.fields["histology"] = codes.ICD_O_3_HISTOLOGY[code]
            reading.sources["histology"] = f"{primary.path}.extension[{k}]"
        else:
            reading.warnings.append(warning(
                "histology not one of the ICD-O-3 morphology codes read (docs/fhir.md), or a "
                "second one: not used", f"{primary.path}.extension[{k}]"))


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
        if _observation(entry, reading, genomics, _effective(observation)):
            reading.basis.append(entry.reference)
    if problems:
        raise FhirInputError(problems)


def _effective(observation: Any) -> date | None:
    period = getattr(observation, "effectivePeriod", None)
    return (as_date(observation.effectiveDateTime)
            or as_date(getattr(period, "start", None)) or as_date(observation.issued))


def _observation(entry: Entry, reading: _Reading, genomics: Genomics,
                 effective: date | None) -> bool:
    """Read one Observation into the profile; whether it was used."""
    observation, where = entry.resource, entry.path
    loinc = code_in(observation.code, codes.LOINC)

    def keep(name: str, value: Any, element: str, problem: str) -> bool:
        return _set(reading, name, value, f"{where}.{element}", problem, effective)

    if loinc in codes.RECEPTOR_TESTS:
        answer = next((codes.RECEPTOR_ANSWERS[(s, c)] for s, c, _ in
                       codings(observation.valueCodeableConcept)
                       if (s, c) in codes.RECEPTOR_ANSWERS), None)
        return keep(codes.RECEPTOR_TESTS[loinc], answer, "valueCodeableConcept",
                    "answer code not recognised")
    if has_code(observation.code, codes.STAGE_GROUP_CODES):
        return keep("stage", stage_group(observation.valueCodeableConcept),
                    "valueCodeableConcept", "stage group not read")
    if loinc == codes.TUMOR_SIZE:
        return keep("tumor_size_mm", length_mm(observation.valueQuantity), "valueQuantity",
                    "size without a unit in mm or cm")
    if loinc == codes.POSITIVE_NODES:
        nodes = number(observation)
        return keep("positive_lymph_nodes", None if nodes is None else int(nodes), "value",
                    "no count")
    if loinc == codes.NOTTINGHAM_GRADE:
        return keep("grade", grade(observation), "value", "grade not read")
    if loinc == codes.ECOG:
        ecog = number(observation)
        return keep("ecog", None if ecog is None else int(ecog), "value",
                    "no score (valueInteger)")
    if loinc == codes.TMB:
        return keep("tmb", number(observation), "valueQuantity", "no value")
    if loinc == codes.VARIANT:
        read_variant(observation, where, entry.reference, genomics)
        return True
    if loinc == codes.MSI:
        return keep("msi_status", read_msi(observation, entry.reference, genomics),
                    "valueCodeableConcept",
                    "microsatellite answer not MSI-H, instable, MSI-L or stable")
    if loinc == codes.REGION_STUDIED:
        read_region_studied(observation, genomics)
        return True
    reading.warnings.append(warning("an Observation the models do not use (its code is not "
                                    "in docs/fhir.md's table)", f"{where}.code"))
    return False


def _set(reading: _Reading, name: str, value: Any, where: str, problem: str,
         effective: date | None) -> bool:
    """Set a profile field; of repeated results the latest by effective date is used (an
    undated one only when no result is dated; in Bundle order among equals)."""
    if value is None:
        reading.warnings.append(warning(f"{problem}: {name} not used", where))
        return False
    if name in reading.fields:
        earlier = reading.effective.get(name)
        if effective is None and earlier is not None or (
                effective is not None and earlier is not None and effective < earlier):
            reading.warnings.append(warning(f"an earlier result of {name}: the latest is used",
                                            where))
            return False
        reading.warnings.append(warning(f"a later result of {name} supersedes this one",
                                        reading.sources[name]))
    reading.fields[name] = value
    reading.sources[name] = where
    reading.effective[name] = effective
    return True


def stage_group(concept: Any) -> int | None:
    """AJCC stage group 0-4 from a stage-group value: an AJCC code (``2B``) or the stage's
    roman numeral in a display or text (SNOMED CT displays such as ``IIB``)."""
    ajcc = code_in(concept, codes.AJCC)
    if ajcc and ajcc[0] in "01234":
        return int(ajcc[0])
    text = f"{ajcc or ''} {words(concept)}".lower()
    arabic = re.search(r"stage\s*([0-4])\b", text)
    if arabic:
        return int(arabic.group(1))
    match = _ROMAN_STAGE.search(text)
    return _ROMAN[match.group(1)] if match else None


def grade(observation: Any) -> int | None:
    """Nottingham grade 1-3: valueInteger, or the digit of ``grade N`` in the answer."""
    value = number(observation)
    if value is not None:
        return int(value) if value in (1, 2, 3) else None
    match = re.search(r"grade\s*([123])\b", words(observation.valueCodeableConcept))
    return int(match.group(1)) if match else None


def _medications(bundle: ParsedBundle, reading: _Reading, therapies: Therapies,
                 today: date) -> None:
    medications = {}
    for entry in bundle.of_kind("Medication"):
        medications[entry.reference] = entry.resource
        if entry.resource.id:
            medications[f"Medication/{entry.resource.id}"] = entry.resource
    for kind in MEDICATION_KINDS:
        for entry in bundle.of_kind(kind):
            before = len(therapies.warnings)
            read_medication(entry.resource, entry.path, medications, therapies, today)
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
    if not metastatic:  # one early-setting line: whatever was given, before or now
        early = line_class(therapies.early_line(None) | therapies.current)
        reading.fields["prior_therapies"] = [early] if early else []
        return
    if first_metastasis is not None:
        reading.fields["de_novo_metastatic"] = (
            months_between(diagnosed, first_metastasis) <= DE_NOVO_MONTHS)
    reading.fields["current_therapy"] = therapies.current_line()
    early = line_class(therapies.early_line(first_metastasis))
    later = therapies.metastatic_lines(first_metastasis)
    if later and early is None:
        reading.warnings.append(warning(
            "prior metastatic lines but no therapy before the metastases: the profile reads "
            "the first prior therapy as the adjuvant line", "Bundle.entry"))
    reading.fields["prior_therapies"] = ([early] if early else []) + later
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
        if specimen.kind != "Specimen":
            raise FhirInputError([error("invalid", "the variant's specimen refers to a "
                                        f"{specimen.kind}, not a Specimen", where)])
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
