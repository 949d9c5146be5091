"""The one reviewable alias table: how the clinical attributes of the major public breast
studies map onto the Cohort model.

Each :class:`FieldRule` names a cohort column, the source columns that may hold it (the first
present wins; the first listed is cBioPortal's documented or most common name, the one the
writer writes) and how its values are parsed. Column names are matched after normalising:
upper case, every run of other characters than letters and digits turned into one ``_``, so
a portal export's display names (``Diagnosis Age``, ``ER Status of the Primary``,
``Overall Survival (Months)``) match the attribute IDs (``DIAGNOSIS_AGE``...).

Dialects covered: cBioPortal's standard attributes, METABRIC, TCGA PanCanAtlas clinical exports
(``AJCC_PATHOLOGIC_TUMOR_STAGE``, ``PATH_T_STAGE``...), MSK-IMPACT / AACR GENIE-style clinical
sample files (receptor status per sample, ``_PRIMARY`` / ``_METASTATIC`` variants,
``ONCOTREE_CODE``, ages at sequencing), GBSG2 (built in). A study's other columns are either
listed in :data:`NOT_USED` with the reason, or reported as not understood; a user mapping file
(``--columns``) places the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from features.cohorts.errors import CohortError
from features.cohorts.tabular import TextTable


@dataclass(frozen=True)
class FieldRule:
    """How one cohort column is read: source columns to try, parser kind and its options.

    ``kind``: ``number``, ``integer``, ``category`` (through the coding ``domain``),
    ``yes_no``, ``stage`` (AJCC group), ``t``/``n``/``m`` (TNM categories), ``grade``,
    ``sites``, ``text``. Numbers are multiplied by ``scale`` (e.g. cm to mm, days to months).
    """

    field: str
    sources: tuple[str, ...]
    kind: str
    domain: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    scale: float = 1.0


_DAYS = 1 / 30.4375  # days -> months

PATIENT_FIELDS = (
    FieldRule("age_years", ("AGE_AT_DIAGNOSIS", "AGE", "DIAGNOSIS_AGE", "AGE_AT_DX",
                            "AGE_AT_INITIAL_PATHOLOGIC_DIAGNOSIS", "AGE_AT_DIAGNOSIS_YEARS"),
              "number", minimum=0, maximum=120),
    FieldRule("sex", ("SEX", "GENDER"), "category", "sex"),
    FieldRule("menopausal_status", ("INFERRED_MENOPAUSAL_STATE", "MENOPAUSAL_STATUS",
                                    "MENOPAUSE_STATUS", "MENOPAUSAL_STATUS_AT_DIAGNOSIS",
                                    "MENOPAUSAL_STATE"), "category", "menopausal_status"),
    FieldRule("er_status", ("ER_IHC", "ER_STATUS", "ER_STATUS_BY_IHC", "ER_STATUS_PRIMARY",
                            "ER_STATUS_OF_THE_PRIMARY", "ER_PRIMARY", "PRIMARY_ER_STATUS"),
              "category", "receptor_status"),
    FieldRule("pr_status", ("PR_STATUS", "PR_IHC", "PR_STATUS_BY_IHC", "PR_STATUS_PRIMARY",
                            "PR_STATUS_OF_THE_PRIMARY", "PR_PRIMARY", "PRIMARY_PR_STATUS"),
              "category", "receptor_status"),
    FieldRule("her2_status", ("HER2_STATUS", "HER2_IHC", "HER2_STATUS_PRIMARY",
                              "HER2_STATUS_OF_THE_PRIMARY", "HER2_PRIMARY", "PRIMARY_HER2_STATUS",
                              "HER2_FINAL_STATUS", "IHC_HER2"), "category", "receptor_status"),
    FieldRule("er_fmol_mg", ("ER_FMOL_MG",), "number", minimum=0, maximum=10_000),
    FieldRule("pr_fmol_mg", ("PR_FMOL_MG",), "number", minimum=0, maximum=10_000),
    FieldRule("pam50_subtype", ("CLAUDIN_SUBTYPE", "PAM50_SUBTYPE", "SUBTYPE",
                                "PAM50_CLAUDIN_LOW_SUBTYPE", "PAM50", "MOLECULAR_SUBTYPE"),
              "category", "pam50_subtype"),
    FieldRule("integrative_cluster", ("INTCLUST", "INTEGRATIVE_CLUSTER"), "category",
              "integrative_cluster"),
    FieldRule("npi", ("NPI", "NOTTINGHAM_PROGNOSTIC_INDEX"), "number", minimum=0, maximum=10),
    FieldRule("histology", ("HISTOLOGICAL_SUBTYPE", "HISTOLOGY", "HISTOLOGICAL_TYPE",
                            "TUMOR_HISTOLOGY"), "category", "histology"),
    FieldRule("grade", ("GRADE", "TUMOR_GRADE", "HISTOLOGIC_GRADE", "NEOPLASM_HISTOLOGIC_GRADE",
                        "NOTTINGHAM_GRADE"), "grade"),
    FieldRule("stage", ("TUMOR_STAGE", "STAGE", "AJCC_STAGE", "AJCC_PATHOLOGIC_TUMOR_STAGE",
                        "STAGE_AT_DIAGNOSIS", "CLINICAL_STAGE", "PATHOLOGIC_STAGE",
                        "NEOPLASM_DISEASE_STAGE_AMERICAN_JOINT_COMMITTEE_ON_CANCER_CODE"),
              "stage"),
    FieldRule("t_category", ("T_STAGE", "PATH_T_STAGE", "CLIN_T_STAGE", "AJCC_T",
                             "AMERICAN_JOINT_COMMITTEE_ON_CANCER_TUMOR_STAGE_CODE"), "t"),
    FieldRule("n_category", ("N_STAGE", "PATH_N_STAGE", "CLIN_N_STAGE", "AJCC_N",
                             "NEOPLASM_DISEASE_LYMPH_NODE_STAGE_AMERICAN_JOINT_COMMITTEE_ON_"
                             "CANCER_CODE"), "n"),
    FieldRule("m_category", ("M_STAGE", "PATH_M_STAGE", "CLIN_M_STAGE", "AJCC_M",
                             "AMERICAN_JOINT_COMMITTEE_ON_CANCER_METASTASIS_STAGE_CODE"), "m"),
    FieldRule("tumor_size_mm", ("TUMOR_SIZE", "TUMOR_SIZE_MM"), "number", minimum=0,
              maximum=1000),
    FieldRule("tumor_size_mm", ("TUMOR_SIZE_CM",), "number", minimum=0, maximum=100,
              scale=10.0),
    FieldRule("positive_nodes", ("LYMPH_NODES_EXAMINED_POSITIVE", "POSITIVE_LYMPH_NODES",
                                 "NODES_POSITIVE", "LYMPH_NODES_POSITIVE",
                                 "NUMBER_OF_POSITIVE_LYMPH_NODES"), "integer", minimum=0,
              maximum=100),
    FieldRule("de_novo_metastatic", ("DE_NOVO_METASTATIC", "METASTATIC_AT_DIAGNOSIS",
                                     "DE_NOVO_STAGE_IV"), "yes_no"),
    FieldRule("metastatic_sites", ("METASTATIC_SITES",), "sites"),
    FieldRule("performance_status", ("ECOG", "PERFORMANCE_STATUS", "ECOG_PERFORMANCE_STATUS"),
              "integer", minimum=0, maximum=4),
    FieldRule("received_chemotherapy", ("CHEMOTHERAPY",), "yes_no"),
    FieldRule("received_endocrine", ("HORMONE_THERAPY", "ENDOCRINE_THERAPY"), "yes_no"),
    FieldRule("received_radiotherapy", ("RADIO_THERAPY", "RADIOTHERAPY", "RADIATION_THERAPY"),
              "yes_no"),
    FieldRule("received_anti_her2", ("ANTI_HER2_THERAPY",), "yes_no"),
)

SAMPLE_FIELDS = (
    FieldRule("sample_type", ("SAMPLE_TYPE", "SAMPLE_CLASS", "TUMOR_TYPE"), "category",
              "sample_type"),
    FieldRule("site", ("SAMPLE_SITE", "METASTATIC_SITE", "TISSUE_SITE", "SITE_OF_SAMPLE",
                       "BIOPSY_SITE"), "text"),
    FieldRule("collection_months", ("COLLECTION_MONTHS", "SAMPLE_COLLECTION_MONTHS",
                                    "MONTHS_TO_COLLECTION"), "number", minimum=-1200,
              maximum=1200),
    FieldRule("collection_months", ("DAYS_TO_COLLECTION", "DAYS_TO_SAMPLE_COLLECTION",
                                    "SAMPLE_COLLECTION_DAYS"), "number", minimum=-36_525,
              maximum=36_525, scale=_DAYS),
    FieldRule("tmb", ("TMB_NONSYNONYMOUS", "TMB", "TMB_SCORE"), "number", minimum=0,
              maximum=10_000),
    FieldRule("msi_status", ("MSI_TYPE", "MSI_STATUS", "MSI"), "category", "msi_status"),
    FieldRule("er_status", ("ER_STATUS", "ER_STATUS_OF_SEQUENCED_SAMPLE", "ER_STATUS_SAMPLE"),
              "category", "receptor_status"),
    FieldRule("pr_status", ("PR_STATUS", "PR_STATUS_OF_SEQUENCED_SAMPLE", "PR_STATUS_SAMPLE"),
              "category", "receptor_status"),
    FieldRule("her2_status", ("HER2_STATUS", "HER2_STATUS_OF_SEQUENCED_SAMPLE",
                              "HER2_STATUS_SAMPLE"), "category", "receptor_status"),
)

#: A sample's age at collection (years, the birth clock): with the patient's age at diagnosis
#: it places the sample relative to diagnosis (see :mod:`features.cohorts.cbioportal.timing`).
SAMPLE_AGE_FIELD = FieldRule("age_at_collection", ("AGE_AT_SEQUENCING", "AGE_AT_SEQ_REPORT",
                                                   "AGE_AT_SAMPLE_COLLECTION",
                                                   "AGE_AT_COLLECTION"),
                             "number", minimum=0, maximum=120)

#: Sample attributes that describe the primary tumour at diagnosis: they fill the patient's
#: value when the patient file lacks it (METABRIC keeps grade, size and stage per sample).
DIAGNOSIS_FIELDS = (
    FieldRule("grade", ("GRADE",), "grade"),
    FieldRule("stage", ("TUMOR_STAGE", "STAGE"), "stage"),
    FieldRule("tumor_size_mm", ("TUMOR_SIZE",), "number", minimum=0, maximum=1000),
    FieldRule("histology", ("ONCOTREE_CODE", "CANCER_TYPE_DETAILED"), "category", "histology"),
    FieldRule("er_status", ("ER_STATUS",), "category", "receptor_status"),
    FieldRule("pr_status", ("PR_STATUS",), "category", "receptor_status"),
    FieldRule("her2_status", ("HER2_STATUS",), "category", "receptor_status"),
)

#: A real-world cohort's summary of one documented line per patient (docs/treatments.md): in the
#: patient file the line's start (months from diagnosis), its number among the metastatic lines
#: and its agents, with the line's progression-free survival as the PFS endpoint pair; in the
#: sample file a biopsy's time relative to the line's start (months, negative before it).
#: Read by :mod:`features.cohorts.cbioportal.line_summary`.
LINE_SUMMARY_PATIENT_COLUMNS = ("LINE_START_MONTHS", "LINE_NUMBER", "LINE_AGENTS")
#: Prior-exposure flags of a documented line (yes/no) and the therapy class each stands for: a
#: therapy the patient received in the metastatic setting before the documented line.
PRIOR_EXPOSURE_COLUMNS = {
    "PRIOR_ENDOCRINE_METASTATIC": "endocrine",
    "PRIOR_CDK46_INHIBITOR": "endocrine_cdk46",
    "PRIOR_CHEMOTHERAPY_METASTATIC": "chemotherapy",
    "PRIOR_ANTI_HER2_METASTATIC": "anti_her2",
}
LINE_SUMMARY_SAMPLE_COLUMNS = ("MONTHS_FROM_LINE_START",)

#: Columns a study may carry that are deliberately not read, with the reason (normalised
#: names). Everything else that is not read is reported as not understood.
NOT_USED: dict[str, str] = {
    "VITAL_STATUS": "an outcome, not a predictor (it would leak the endpoint)",
    "PATIENT_S_VITAL_STATUS": "an outcome, not a predictor (it would leak the endpoint)",
    "COHORT": "recruitment cohort or site, not an attribute of the patient",
    "LATERALITY": "side of the tumour: not an established prognostic factor",
    "BREAST_SURGERY": "type of surgery received: a treatment decision, not a predictor",
    "TYPE_OF_BREAST_SURGERY": "type of surgery received: a treatment decision, not a predictor",
    "CELLULARITY": "cellularity of the profiled sample: a sample-quality measure",
    "THREEGENE": "a three-gene expression classifier; the PAM50/claudin subtype is read",
    "HER2_SNP6": "a copy-number call of ERBB2; HER2 status (and ERBB2 in the CNA) is read",
    "CANCER_TYPE": "the same for every patient of a breast study",
    "ONCOTREE_CODE": "read as histology of the primary sample",
    "STUDY_ID": "an identifier",
    "OTHER_PATIENT_ID": "an identifier",
    "OTHER_SAMPLE_ID": "an identifier",
    "SAMPLE_COUNT": "a count of the study's own records",
    "SOMATIC_STATUS": "matched/unmatched normal: a sequencing detail",
    "SEQ_ASSAY_ID": "the assay: gene panels come from the panel matrix",
    "GENE_PANEL": "the assay: gene panels come from the panel matrix",
    "FRACTION_GENOME_ALTERED": "derived from copy-number segments mbcrisk does not read",
    "MUTATION_COUNT": "depends on the panel's size; TMB per megabase is read instead",
    "RACE": "reported for fairness by subgroup, not used as a predictor",
    "ETHNICITY": "reported for fairness by subgroup, not used as a predictor",
    "ER_STATUS_METASTATIC": "receptor status of the metastasis: the model uses it at diagnosis",
    "PR_STATUS_METASTATIC": "receptor status of the metastasis: the model uses it at diagnosis",
    "HER2_STATUS_METASTATIC": "receptor status of the metastasis: the model uses it at "
                              "diagnosis",
}

#: Display names of endpoints (normalised, without ``_MONTHS``) -> the endpoint's short name.
ENDPOINT_NAMES = {
    "OVERALL_SURVIVAL": "os",
    "DISEASE_FREE": "dfs",
    "DISEASE_FREE_SURVIVAL": "dfs",
    "RELAPSE_FREE_STATUS": "rfs",
    "RELAPSE_FREE_SURVIVAL": "rfs",
    "PROGRESS_FREE_SURVIVAL": "pfs",
    "PROGRESSION_FREE_SURVIVAL": "pfs",
    "DISEASE_SPECIFIC_SURVIVAL": "dss",
    "DISTANT_METASTASIS_FREE_SURVIVAL": "dmfs",
}

_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


def normalise_name(column: str) -> str:
    """A column name as the alias table writes it: ``ER Status of the Primary`` ->
    ``ER_STATUS_OF_THE_PRIMARY``, ``Overall Survival (Months)`` -> ``OVERALL_SURVIVAL_MONTHS``."""
    return _NOT_ALNUM.sub("_", column.upper()).strip("_")


def normalised_table(table: TextTable) -> TextTable:
    """``table`` with its columns renamed to their normalised names (errors and reports still
    name them as the file spells them); two columns with one normalised name are an error."""
    names: dict[str, str] = {}
    for column in table.frame.columns:
        name = normalise_name(column)
        if name in names:
            raise CohortError(f"columns {names[name]!r} and {column!r} both mean {name}",
                              file=table.name, line=table.header_line, column=column,
                              expected="one column per attribute")
        names[name] = column
    spelled = {name: table.spelled.get(column, column) for name, column in names.items()}
    return replace(table, frame=table.frame.set_axis(list(names), axis=1),
                   spelled={name: was for name, was in spelled.items() if was != name})
