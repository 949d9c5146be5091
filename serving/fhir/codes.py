"""The codes the FHIR routes read, in one reviewable place, each with where it is defined.

Sources: mCODE STU4 (hl7.org/fhir/us/mcode, 4.0.0), the HL7 Genomics Reporting IG (STU3),
LOINC and SNOMED CT; docs/fhir.md has the mapping table. A code not listed here is never
guessed at: the element it appears in becomes a warning in the answer.
"""

from __future__ import annotations

import re

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
HGNC = "http://www.genenames.org/geneId"
HGVS = "http://varnomen.hgvs.org"
ICD_O_3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
AJCC = "http://cancerstaging.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"

CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#: Verification statuses of a Condition that is not the patient's (not used, warned about).
NOT_A_CONDITION = {"refuted", "entered-in-error"}

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PRIMARY_CANCER_PROFILE = MCODE + "mcode-primary-cancer-condition"
SECONDARY_CANCER_PROFILE = MCODE + "mcode-secondary-cancer-condition"
HISTOLOGY_EXTENSION = MCODE + "mcode-histology-morphology-behavior"

#: mCODE TumorMarkerTest: the receptor each LOINC code reports (the profile field it sets).
RECEPTOR_TESTS = {
    "85337-4": "er_status",   # Estrogen receptor Ag [Presence] in Breast cancer specimen
    "85339-0": "pr_status",   # Progesterone receptor Ag [Presence] in Breast cancer specimen
    "48676-1": "her2_status",  # HER2 [Interpretation] in Tissue
}
#: Answers of a receptor test: LOINC answer codes (mCODE examples) and SNOMED CT qualifiers.
RECEPTOR_ANSWERS = {
    (LOINC, "LA6576-8"): "positive", (LOINC, "LA6577-6"): "negative",
    (SNOMED, "10828004"): "positive", (SNOMED, "260385009"): "negative",
    (SNOMED, "42425007"): "equivocal",
}

#: mCODE TNMStageGroup: the Observation codes of a stage group (LOINC, and SNOMED CT in STU4).
STAGE_GROUP_CODES = {(LOINC, "21908-9"), (LOINC, "21902-2"), (LOINC, "21914-7"),
                     (SNOMED, "399537006"), (SNOMED, "399588009"), (SNOMED, "399390009")}
#: mCODE TumorSize (LOINC 21889-1 Size Tumor): the longest dimension, valueQuantity.
TUMOR_SIZE = "21889-1"
#: Regional lymph nodes positive [#] Specimen (valueQuantity or valueInteger).
POSITIVE_NODES = "21893-3"
#: Histologic grade [Score] in Breast cancer specimen Qualitative by Nottingham (mCODE example).
NOTTINGHAM_GRADE = "44648-4"
#: ECOG Performance Status score (mCODE ECOGPerformanceStatus), valueInteger 0-5.
ECOG = "89247-1"
#: Tumor mutation burden, Mutations/Megabase [# Ratio] in Tumor (Genomics Reporting IG).
TMB = "94076-7"
#: Genomics Reporting IG Variant: Genetic variant assessment, and the components read.
VARIANT = "69548-6"
GENE_STUDIED = "48018-6"
AMINO_ACID_CHANGE = "48005-3"
DNA_CHANGE_TYPE = "48019-4"
#: Genomic source class [Type] and its answers: germline LA6683-2, somatic LA6684-0.
GENOMIC_SOURCE = "48002-0"
GENOMIC_ORIGINS = {"LA6683-2": "germline", "LA6684-0": "somatic"}
#: Microsatellite instability [Interpretation] in Cancer specimen Qualitative (Genomics
#: Reporting IG msi profile), and its LOINC answers read as the profile's msi_status
#: (Indeterminate, LA11884-6, is not read).
MSI = "81695-9"
MSI_ANSWERS = {"LA26203-2": "high", "LA14123-6": "high",  # MSI-H, Instable
               "LA14122-8": "stable", "LA26202-4": "stable"}  # Stable, MSI-L
#: Genomics Reporting IG RegionStudied: DNA region of interest panel (the genes profiled).
REGION_STUDIED = "53041-0"
#: Sequence Ontology change types read as a copy-number call (the rest: a mutation).
COPY_NUMBER_TYPES = {
    "SO:0001742": "amplification",  # copy_number_gain
    "SO:0001880": "amplification",  # feature_amplification
    "SO:0001743": "deletion",       # copy_number_loss
    "SO:0001879": "deletion",       # feature_ablation
}

#: ICD-O-3 morphology (histology/behaviour) codes -> the profile's histology.
ICD_O_3_HISTOLOGY = {
    "8500/3": "ductal", "8520/3": "lobular", "8522/3": "mixed_ductal_lobular",
    "8480/3": "mucinous", "8510/3": "medullary", "8211/3": "tubular", "8575/3": "metaplastic",
}

#: SNOMED CT body structures -> metastatic site (secondary cancer Condition.bodySite).
SNOMED_SITES = {
    "272673000": "bone", "10200004": "liver", "39607008": "lung", "12738006": "brain",
    "59441001": "lymph_node", "3120008": "pleura", "39937001": "skin",
}
#: ICD-O-3 topography prefixes -> metastatic site.
ICD_O_3_SITES = {"C40": "bone", "C41": "bone", "C22": "liver", "C34": "lung", "C71": "brain",
                 "C77": "lymph_node", "C38.4": "pleura", "C44": "skin"}
#: SNOMED CT specimen types read as circulating tumour DNA (plasma), and words of a specimen
#: type's text that say so (a blood specimen alone may be a germline test: not read).
CTDNA_SPECIMENS = {"119361006"}  # plasma specimen
CTDNA_WORDS = ("plasma", "cell-free", "cfdna", "ctdna", "circulating tumor", "circulating tumour")
#: SNOMED CT body structure of the breast: a specimen from it is the primary tumour.
BREAST_SITES = {"76752008", "80248007", "73056007"}  # breast, left breast, right breast

_LOINC = re.compile(r"^(\d{1,7})-(\d)$")


def is_loinc(code: str) -> bool:
    """Whether ``code`` is a well-formed LOINC code: digits, a hyphen and the mod-10 check
    digit LOINC computes from them (answer codes ``LA...`` are not observation codes)."""
    match = _LOINC.match(code)
    return bool(match) and _mod10(match.group(1)) == int(match.group(2))


def _mod10(digits: str) -> int:
    """LOINC's check digit: the digits in odd positions from the right doubled, the digits of
    everything summed, and the distance to the next multiple of ten."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10
