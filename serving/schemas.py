"""The API's request and response models: typed, with units, ranges, enums and examples.

Invalid values are refused with a 4xx naming the field path; missing optional fields and genes
the model does not use produce warnings in the response instead.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from features.cohorts.vocab import HGNC_SYMBOL, THERAPY_CLASS

ReceptorStatus = Literal["positive", "negative", "equivocal"]
#: The drug dictionary's therapy classes (features/cohorts/treatments/drugs.csv).
TherapyClass = Literal[THERAPY_CLASS]
MetastaticSite = Literal["bone", "liver", "lung", "brain", "lymph_node", "pleura", "skin",
                         "other"]


#: The served models, by task (the keys of :data:`serving.settings.SERVED_MODELS`).
ServedTask = Literal["relapse", "progression", "resistance_endocrine"]
#: The time-to-event question answered in each setting.
Endpoint = Literal["relapse", "progression"]

#: An HGNC gene symbol, e.g. ``PIK3CA``.
GeneSymbol = Annotated[str, Field(pattern=HGNC_SYMBOL.pattern, max_length=20)]


class Alteration(BaseModel):
    """One genomic alteration found in the patient's profiled sample."""

    model_config = ConfigDict(extra="forbid")

    gene: str = Field(pattern=HGNC_SYMBOL.pattern, max_length=20,
                      description="HGNC symbol", json_schema_extra={"example": "ESR1"})
    kind: Literal["mutation", "amplification", "deletion", "fusion"]
    protein_change: str | None = Field(
        default=None, max_length=40, pattern=r"^(p\.)?[A-Za-z0-9*_>+\-]+$",
        description="short HGVSp, e.g. D538G", json_schema_extra={"example": "D538G"})
    origin: Literal["somatic", "germline"] | None = Field(
        default=None, description="somatic (tumour) or germline (inherited) variant; where "
        "the ESCAT tier depends on it (BRCA1/2, PALB2) an unstated origin gets no tier")


class PatientProfile(BaseModel):
    """A patient's clinical-pathological and genomic profile. Units in field names."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {
            "patient_id": "study-0042", "age_years": 61, "menopausal_status": "post",
            "er_status": "positive", "pr_status": "positive", "her2_status": "negative",
            "histology": "ductal", "grade": 2, "tumor_size_mm": 28, "positive_lymph_nodes": 2,
            "setting": "metastatic", "months_since_diagnosis": 40,
            "metastatic_sites": ["bone", "liver"], "current_therapy": "endocrine_cdk46",
            "prior_therapies": ["endocrine"], "sample_type": "metastasis", "tmb": 4.2,
            "alterations": [{"gene": "ESR1", "kind": "mutation", "protein_change": "D538G"},
                            {"gene": "PIK3CA", "kind": "mutation",
                             "protein_change": "H1047R"}],
            "profiled_genes": ["ESR1", "PIK3CA", "TP53", "NF1", "ERBB2", "CDH1", "GATA3"],
        }},
    )

    patient_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$",
                                   description="pseudonymous identifier, echoed back")
    age_years: float = Field(ge=18, le=110, description="age at diagnosis, years")
    sex: Literal["female", "male"] = "female"
    menopausal_status: Literal["pre", "peri", "post"] | None = None
    er_status: ReceptorStatus | None = None
    pr_status: ReceptorStatus | None = None
    her2_status: ReceptorStatus | None = None
    histology: Literal["ductal", "lobular", "mixed_ductal_lobular", "mucinous", "medullary",
                       "tubular", "metaplastic", "other"] | None = None
    grade: int | None = Field(default=None, ge=1, le=3)
    tumor_size_mm: float | None = Field(default=None, ge=0, le=300, description="mm")
    positive_lymph_nodes: int | None = Field(default=None, ge=0, le=100)
    stage: int | None = Field(default=None, ge=0, le=4, description="AJCC stage 0-4")
    t_category: Literal["T0", "Tis", "T1", "T2", "T3", "T4"] | None = Field(
        default=None, description="AJCC T category (8th edition); when absent, pT1-pT3 is "
        "derived from tumor_size_mm (T4 needs skin or chest-wall findings: give it here)")
    n_category: Literal["N0", "N1", "N2", "N3"] | None = Field(
        default=None, description="AJCC N category (8th edition); when absent, pN0-pN3 is "
        "derived from positive_lymph_nodes (a clinical N is not a node count: give it here)")
    ecog: int | None = Field(default=None, ge=0, le=4, description="ECOG performance status")
    setting: Literal["early", "metastatic"] = Field(
        default="early", description="early: at diagnosis; metastatic: at the start of a "
        "metastatic treatment line (the resistance model's time origin)")
    de_novo_metastatic: bool | None = None
    months_since_diagnosis: float | None = Field(default=None, ge=0, le=600,
                                                 description="months, metastatic setting")
    metastatic_sites: list[MetastaticSite] = Field(default_factory=list, max_length=8)
    current_therapy: TherapyClass | None = Field(
        default=None, description="therapy of the line about to start (metastatic setting)")
    prior_therapies: list[TherapyClass] = Field(default_factory=list, max_length=20)
    sample_type: Literal["primary", "metastasis", "recurrence", "ctdna"] = Field(
        default="primary", description="the sample the alterations come from")
    tmb: float | None = Field(default=None, ge=0, le=1000, description="mutations per Mb")
    msi_status: Literal["high", "stable"] | None = Field(
        default=None, description="microsatellite status of the tumour: high (MSI-H or "
        "mismatch-repair deficient) or stable (MSS or MSI-low); absent: not tested")
    alterations: list[Alteration] = Field(default_factory=list, max_length=500)
    profiled_genes: list[GeneSymbol] | None = Field(
        default=None, max_length=2000,
        description="genes the sample's panel covers; absent genes are unknown, not wild type")


#: The ``patients`` of a request (the batch limit below the hard cap is ``MBCRISK_MAX_BATCH``).
PatientList = Annotated[list[PatientProfile], Field(min_length=1, max_length=10_000)]


class ModelInfo(BaseModel):
    """Which model version answered."""

    name: str
    version: str
    alias: str | None
    run_id: str
    trained_on_synthetic_data: bool = Field(
        default=False, description="true while the model was trained on the generated "
        "demonstration cohort: its answers are not clinical evidence")


class Applicability(BaseModel):
    """Whether the patient resembles the training cohort, and why not."""

    in_domain: bool
    reasons: list[str]


class Resistance(BaseModel):
    """Probability of resistance to one therapy class."""

    probability: float = Field(description="calibrated probability (0-1); higher is worse")
    risk_group: str
    label_definition: str
    applicability: Applicability
    notes: list[str] = Field(default_factory=list, description="where the patient lies beyond "
                             "what the label was defined on (e.g. a later line than the first "
                             "metastatic endocrine line), said with the answer")


class ActionableFinding(BaseModel):
    """One finding matched against the ESCAT table: its evidence level, never a
    recommendation."""

    finding: str = Field(description="e.g. ESR1 D538G, ERBB2 amplification, MSI-high")
    gene: str | None = Field(description="null for a tumour-agnostic marker (MSI)")
    alteration: str
    origin: str | None = Field(description="somatic, germline, or null when not stated")
    tier: str | None = Field(description="ESCAT tier (I-A, I-C, II, ...); null: the table "
                             "ranks none for this finding (the sentence says why)")
    therapy: str | None = Field(description="the therapy class the tier ranks")
    rule: str | None = Field(description="the table row that matched")
    evidence: str | None
    source: str | None
    sentence: str


class Actionability(BaseModel):
    """What the profile makes actionable, from the versioned ESCAT table
    (docs/actionability.md). ESCAT ranks targets in metastatic disease."""

    table_version: str
    findings: list[ActionableFinding] = Field(
        description="tiered findings first (I before II), then findings in the table's genes "
        "without a tier")
    not_tested: list[str] = Field(
        description="the table's genes (and microsatellite instability) this profile did not "
        "test: unknown, not negative")
    notes: list[str] = Field(description="where a negative result says nothing, e.g. ESR1 "
                             "tested on a primary tumour or before endocrine therapy")


class Prediction(BaseModel):
    """One patient's predictions and what they mean: the questions that apply to the
    patient's setting (early: relapse from diagnosis; metastatic: progression on the current
    line), resistance where its model's setting is the patient's, and the served models that
    do not apply, with why."""

    patient_id: str | None
    setting: Literal["early", "metastatic"]
    endpoint: Endpoint = Field(
        description="the time-to-event question of the patient's setting: relapse from "
        "diagnosis (early setting) or progression on the current line (metastatic setting)")
    status: Literal["answered", "insufficient_data"] = Field(
        description="answered: the endpoint's risk follows; insufficient_data: the profile "
        "lacks the minimum data the endpoint's model needs (listed in insufficient_data), "
        "so there is no risk score, group or probability (docs/serving.md, minimum data)")
    label_definition: str = Field(description="the endpoint's definition and time origin")
    risk_score: float | None = Field(description="higher is worse; null when not answered")
    risk_score_meaning: str
    risk_group: Literal["low", "intermediate", "high"] | None = Field(
        description="the third of the training cohort's out-of-fold risk scores the patient's "
        "score falls in (cut-offs: the model's tertiles, GET the model card): relative to the "
        "training patients, not an absolute level; null when not answered")
    event_free_probability: dict[str, float] = Field(
        description="probability of no relapse (early) or no progression on the current "
        "line (metastatic) by each horizon (months -> 0-1); empty when not answered")
    resistance: dict[str, Resistance]
    applicability: Applicability | None = Field(description="null when not answered")
    insufficient_data: dict[str, list[str]] = Field(
        default_factory=dict, description="served models that cannot answer for lack of "
        "data, each with the request fields it needs that the profile lacks")
    not_applicable: dict[str, str] = Field(
        description="served models whose question does not apply to this patient, and why "
        "(relapse from diagnosis for a patient with metastatic disease; endocrine resistance "
        "for an ER-negative patient or a line that is not endocrine-based)")
    warnings: list[str]
    actionability: Actionability
    model: dict[str, ModelInfo]


#: What the ``treatment`` flag of a contribution or group means.
TREATMENT_FLAG = ("a treatment input: it reflects the clinicians' assessment of risk "
                  "(confounding by indication), not an effect of the treatment")


class ContributionRecord(BaseModel):
    """One feature's contribution, worded."""

    feature: str
    group: str
    value_shown: str
    contribution: float
    direction: str
    treatment: bool = Field(description=TREATMENT_FLAG)
    sentence: str


class GroupRecord(BaseModel):
    """One feature group's contribution, worded; relapse and progression add the effect on
    the event-free probability."""

    group: str
    value_shown: str
    contribution: float
    direction: str
    treatment: bool = Field(description=TREATMENT_FLAG)
    sentence: str
    event_free_change_points: dict[str, float] | None = Field(
        default=None, description="relapse and progression models: the change, in percentage "
        "points, of the probability of staying event-free by each horizon that the group "
        "causes (negative: it lowers the chance)")


class UnprofiledRecord(BaseModel):
    """The genomic inputs the patient's profile left unknown, averaged over reference training
    patients (the unknown-is-unknown rule, docs/serving.md); never ranked among the drivers."""

    inputs: int = Field(description="model inputs averaged")
    contribution: float = Field(description="their summed average contribution to the margin")
    sentence: str


class ModelExplanation(BaseModel):
    """Contributions to one model's margin for one patient (``groups`` and ``features``: the
    largest of the patient's own inputs; ``unprofiled``: the averaged ones, if any)."""

    scale: str
    base_value: float
    groups: list[GroupRecord]
    features: list[ContributionRecord]
    unprofiled: UnprofiledRecord | None = None


class ExplainedPrediction(Prediction):
    """A prediction with its explanations, per model."""

    explanations: dict[str, ModelExplanation]


class PredictResponse(BaseModel):
    """Predictions for every patient of the request, in order."""

    predictions: list[Prediction]
    model: dict[str, ModelInfo]


class ExplainResponse(BaseModel):
    """Explained predictions for every patient of the request, in order."""

    predictions: list[ExplainedPrediction]
    model: dict[str, ModelInfo]
