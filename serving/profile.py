"""What a request's patient profiles leave unused or unknown, in words: genes the models do not
use, inputs a profile does not give, models trained on synthetic data. (A profile becomes the
model's feature row through the bundle's compiled encoder, :mod:`features.encoder`.)"""

from __future__ import annotations

import re

from features.cohorts.vocab import GENE_SYMBOL_UPDATES
from features.pipeline import feature_group
from features.therapies import RESISTANCE_LABELS
from models.bundles.bundle import ModelBundle
from models.domain.unprofiled import averaged_input
from models.explanation.wording import GENOMIC_INPUT_PREFIXES, input_label
from serving.schemas import PatientProfile


def _symbol(gene: str) -> str:
    return GENE_SYMBOL_UPDATES.get(gene, gene)


def model_genes(bundle: ModelBundle) -> set[str]:
    """Genes the bundle's model uses."""
    genes = set()
    for name in bundle.model_features:
        match = re.match(r"^(mut|hot|cna)__([A-Z0-9\-.]+?)(_|$)", name)
        if match:
            genes.add(match.group(2))
    return genes


def profile_warnings(profile: PatientProfile, used: set[str]) -> list[str]:
    """What the models could not use, or had to assume, for one patient (``used``: the genes
    the models use, computed once when they are loaded). The inputs a profile leaves unknown
    are :func:`missing_input_warnings`."""
    warnings = []
    for alteration in profile.alterations:
        gene = _symbol(alteration.gene)
        if alteration.origin == "germline":
            warnings.append(f"{alteration.gene} germline variant: read for actionability only; "
                            "the models read tumour (somatic) findings")
            continue
        if gene not in used:
            warnings.append(f"gene {alteration.gene} is not used by the models: ignored")
        if alteration.kind == "fusion":
            warnings.append(f"{alteration.gene} fusion: fusions are not used by the models")
    if profile.profiled_genes is None:
        warnings.append("profiled_genes not given: genes without a reported alteration are "
                        "taken as not profiled (unknown), not as wild type")
    if profile.setting == "metastatic" and profile.months_since_diagnosis is None:
        warnings.append("months_since_diagnosis missing in the metastatic setting: 0 assumed")
    if profile.setting == "early" and profile.sample_type != "primary":
        warnings.append("a non-primary sample at diagnosis: the relapse model uses only "
                        "primary-tumour genomics")
    return warnings


def _models(tasks: list[str]) -> str:
    names = [MODEL_NAMES.get(t, f"{t} model") for t in tasks]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


#: The served models, for people.
MODEL_NAMES = {"relapse": "relapse model", "progression": "progression model",
               "resistance_endocrine": "endocrine-resistance model"}


#: The request field (as the API's schema spells it) that gives each clinical model input.
_REQUEST_FIELDS = {
    "clin__age_years": "age_years", "clin__tumor_size_mm": "tumor_size_mm",
    "clin__positive_nodes": "positive_lymph_nodes", "clin__grade": "grade",
    "clin__stage": "stage", "clin__t_category": "t_category", "clin__n_category": "n_category",
    "clin__performance_status": "ecog", "clin__er_positive": "er_status",
    "clin__pr_positive": "pr_status", "clin__her2_positive": "her2_status",
    "clin__lobular": "histology", "clin__postmenopausal": "menopausal_status", "tmb": "tmb",
    "clin__months_from_diagnosis": "months_since_diagnosis",
    "clin__de_novo_metastatic": "de_novo_metastatic",
}
_REQUEST_PATTERNS = (
    ("clin__subtype_", "er_status, pr_status and her2_status"),
    ("clin__adjuvant_", "prior_therapies"), ("clin__prior_", "prior_therapies"),
    ("clin__with_cdk46", "current_therapy"), ("clin__current_", "current_therapy"),
    ("clin__site_", "metastatic_sites"), ("clin__n_sites", "metastatic_sites"),
    ("clin__visceral", "metastatic_sites"),
)


def request_field(feature: str) -> str | None:
    """The request field that gives clinical model input ``feature`` (None: the API takes no
    field for it, e.g. an ER level in fmol/mg, a PAM50 subtype or radiotherapy)."""
    if feature in _REQUEST_FIELDS:
        return _REQUEST_FIELDS[feature]
    return next((field for prefix, field in _REQUEST_PATTERNS if feature.startswith(prefix)),
                None)


def servable(feature: str) -> bool:
    """Whether the API answers soundly through model input ``feature``: a request field gives
    it, the profile's alterations and profiled genes do (gene-level genomic inputs), or, when
    a profile cannot give it (the primary-to-metastasis changes of a paired profile), the
    unknown-is-unknown rule averages it over training patients who had it rather than taking
    it as missing (:func:`models.domain.unprofiled.averaged_input`)."""
    return (feature.startswith(GENOMIC_INPUT_PREFIXES) or request_field(feature) is not None
            or averaged_input(feature))


def input_labels(features: list[str]) -> list[tuple[str, str]]:
    """Per model input, its kind and name, computed once per loaded model: ``genomic`` (a
    gene-level input, named by its gene or pathway), ``field`` (a clinical input, named by the
    request field that gives it) or ``no_field`` (an input the API takes no field for, named
    for people)."""
    out = []
    for feature in features:
        field = request_field(feature)
        out.append(("genomic", feature_group(feature)) if feature.startswith(
            GENOMIC_INPUT_PREFIXES) else ("field", field) if field is not None
            else ("no_field", input_label(feature)))
    return out


def missing_input_warnings(missing: dict[str, list[tuple[str, str]]]) -> list[str]:
    """What a patient's profile leaves unknown for the models answering her (``missing``: per
    task, the :func:`input_labels` of the model's inputs that are NaN), one warning per kind
    with counts: request fields not given (with the models that take each as unknown), inputs
    the API takes no field for, and per model the genes or pathways not profiled."""
    by_kind: dict[str, dict[str, list[str]]] = {"field": {}, "no_field": {}}
    genomic: dict[str, set[str]] = {}
    for task, labels in missing.items():
        for kind, name in labels:
            if kind == "genomic":
                genomic.setdefault(task, set()).add(name)
                continue
            tasks = by_kind[kind].setdefault(name, [])
            if task not in tasks:
                tasks.append(task)
    warnings = []
    for kind, heading in (("field", "not given, taken as unknown"),
                          ("no_field", "that the API takes no field for, always unknown "
                                       "through it")):
        names = by_kind[kind]
        if names:
            listed = "; ".join(f"{name} ({_models(tasks)})" for name, tasks in names.items())
            warnings.append(f"{len(names)} {'input' if len(names) == 1 else 'inputs'} "
                            f"{heading}: {listed}")
    for task, names in genomic.items():
        shown = sorted(names)
        warnings.append(f"{len(shown)} genes or pathways the {_models([task])} uses are not "
                        f"profiled ({', '.join(shown)}): taken as unknown; list the genes the "
                        "sample's panel covered in profiled_genes")
    return warnings


def synthetic_training_warnings(bundles: dict[str, ModelBundle]) -> list[str]:
    """A warning for each model trained on the built-in synthetic cohort."""
    return [f"the {_models([task])} was trained on SYNTHETIC data (the generated demonstration "
            "cohort): its answers are not clinical evidence"
            for task, bundle in bundles.items() if bundle.cohort.get("synthetic")]


def beyond_label_notes(task: str, at_diagnosis: bool, profile: PatientProfile) -> list[str]:
    """Where ``profile`` lies beyond the line resistance model ``task``'s label was defined
    on: the first metastatic line of its therapy. A prior metastatic line of that therapy
    (``prior_therapies`` after the adjuvant line, the first entry) makes the current line a
    later one."""
    therapy = task.removeprefix("resistance_")
    if at_diagnosis or therapy not in RESISTANCE_LABELS:
        return []
    classes = RESISTANCE_LABELS[therapy].classes
    earlier = [c for c in profile.prior_therapies[1:] if c in classes]
    if not earlier:
        return []
    line, name = len(profile.prior_therapies), therapy.replace("_", " ")
    lines = "line" if len(earlier) == 1 else "lines"
    return [f"beyond the label: it was defined on the first metastatic line of {name} therapy, "
            f"and prior_therapies lists {len(earlier)} earlier metastatic {lines} of it (the "
            f"current line is metastatic line {line}): no model is trained on later lines, so "
            "this probability extrapolates"]
