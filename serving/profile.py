"""What a request's patient profiles leave unused or unknown, in words: genes the models do not
use, inputs a profile does not give, models trained on synthetic data. (A profile becomes the
model's feature row through the bundle's compiled encoder, :mod:`features.encoder`.)"""

from __future__ import annotations

import re

from features.cohorts.vocab import GENE_SYMBOL_UPDATES
from features.pipeline import feature_group
from models.bundles.bundle import ModelBundle
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


def input_labels(features: list[str]) -> list[tuple[bool, str]]:
    """Per model input: whether it is a gene-level genomic input, and its name for people
    (the gene or pathway for a genomic input). Computed once per loaded model."""
    return [(True, feature_group(f)) if f.startswith(GENOMIC_INPUT_PREFIXES)
            else (False, input_label(f)) for f in features]


def missing_input_warnings(missing: dict[str, list[tuple[bool, str]]]) -> list[str]:
    """One warning per model input a patient's profile leaves unknown (``missing``: per task,
    the :func:`input_labels` of the model's inputs that are NaN for the patient), worded for
    people: clinical inputs by name with the models that take them as unknown; the gene-level
    genomic inputs counted per model, naming their genes or pathways."""
    clinical: dict[str, list[str]] = {}
    genomic: dict[str, set[str]] = {}
    for task, labels in missing.items():
        for is_genomic, label in labels:
            if is_genomic:
                genomic.setdefault(task, set()).add(label)
                continue
            tasks = clinical.setdefault(label, [])
            if task not in tasks:
                tasks.append(task)
    warnings = [f"{label} missing: taken as unknown by the {_models(tasks)}"
                for label, tasks in clinical.items()]
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
