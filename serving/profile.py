"""From API patient profiles to the same design the models were trained on.

The profiles become a small Cohort (one patient and one profiled sample each), and the design
is built by :func:`features.design.build_design`: one code path for training and serving.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from features.cohort import Cohort, build_cohort
from features.derived import derive_receptor_subtype
from features.design import DesignVocabulary, build_design
from features.labels import TimeOrigin
from features.pipeline import feature_group
from features.vocab import GENE_SYMBOL_UPDATES
from models.bundle import ModelBundle
from models.wording import GENOMIC_INPUT_PREFIXES, input_label
from serving.schemas import PatientProfile

REQUEST_PANEL = "REQUEST_PANEL_{}"
_KIND_LEVEL = {"amplification": 2.0, "deletion": -2.0}


def patient_ids(profiles: list[PatientProfile]) -> list[str]:
    """Internal row identifiers (the pseudonymous ids are only echoed back)."""
    return [f"request-{i}" for i in range(len(profiles))]


def build_request_cohort(profiles: list[PatientProfile]) -> Cohort:
    """The profiles as a validated Cohort; each sample's panel is its ``profiled_genes``
    (or, when absent, only the genes with a reported alteration)."""
    ids = patient_ids(profiles)
    patients, samples, mutations, copy_number, panels, treatments = [], [], [], [], [], []
    for pid, p in zip(ids, profiles, strict=True):
        patients.append({
            "patient_id": pid, "age_years": p.age_years, "sex": p.sex,
            "menopausal_status": p.menopausal_status, "er_status": p.er_status,
            "pr_status": p.pr_status, "her2_status": p.her2_status, "histology": p.histology,
            "grade": p.grade, "stage": p.stage, "tumor_size_mm": p.tumor_size_mm,
            "positive_nodes": p.positive_lymph_nodes, "performance_status": p.ecog,
            "de_novo_metastatic": p.de_novo_metastatic,
            "metastatic_sites": ";".join(sorted(set(p.metastatic_sites))) or None,
        })
        origin = p.months_since_diagnosis if p.setting == "metastatic" else 0.0
        origin = 0.0 if origin is None else origin
        sample = f"{pid}-sample"
        panel = REQUEST_PANEL.format(pid)
        genes = {_symbol(g) for g in (p.profiled_genes or [])}
        genes |= {_symbol(a.gene) for a in p.alterations}
        panels.extend({"panel_id": panel, "gene": g} for g in sorted(genes))
        panel = panel if genes else None  # nothing profiled: every gene unknown
        samples.append({"sample_id": sample, "patient_id": pid, "sample_type": p.sample_type,
                        "collection_months": origin, "mutation_panel": panel,
                        "cna_panel": panel, "tmb": p.tmb})
        for a in p.alterations:
            if a.kind == "mutation":
                change = (a.protein_change or "").removeprefix("p.") or None
                mutations.append({"sample_id": sample, "gene": _symbol(a.gene),
                                  "variant_classification": "Missense_Mutation",
                                  "protein_change": change, "non_silent": True})
            elif a.kind in _KIND_LEVEL:
                copy_number.append({"sample_id": sample, "gene": _symbol(a.gene),
                                    "level": _KIND_LEVEL[a.kind]})
        for k, therapy in enumerate(p.prior_therapies):
            # Prior therapies only need to precede the origin; their dates are not asked for.
            treatments.append({"patient_id": pid, "line": 0 if k == 0 else k,
                               "setting": "metastatic" if k else "adjuvant",
                               "therapy_class": therapy, "start_months": origin - 1.0,
                               "stop_months": origin - 1.0})
        if p.setting == "metastatic" and p.current_therapy is not None:
            treatments.append({"patient_id": pid, "line": len(p.prior_therapies) + 1,
                               "setting": "metastatic", "therapy_class": p.current_therapy,
                               "start_months": origin})
    patients_frame = pd.DataFrame(patients)
    patients_frame["receptor_subtype"] = derive_receptor_subtype(patients_frame)
    return build_cohort({"name": "request"}, patients=patients_frame,
                        samples=pd.DataFrame(samples),
                        mutations=pd.DataFrame(mutations, columns=[
                            "sample_id", "gene", "variant_classification", "protein_change",
                            "non_silent"]),
                        copy_number=pd.DataFrame(copy_number,
                                                 columns=["sample_id", "gene", "level"]),
                        panels=pd.DataFrame(panels, columns=["panel_id", "gene"]),
                        treatments=pd.DataFrame(treatments))


def _symbol(gene: str) -> str:
    return GENE_SYMBOL_UPDATES.get(gene, gene)


def design_for(bundle: ModelBundle, cohort: Cohort, profiles: list[PatientProfile],
               ) -> pd.DataFrame:
    """The bundle's design for the request patients, at the bundle's time origin."""
    ids = pd.Index(patient_ids(profiles), name="patient_id")
    if bundle.origin == "diagnosis":
        months = pd.Series(0.0, index=ids)
    else:
        months = pd.Series([p.months_since_diagnosis or 0.0 for p in profiles], index=ids)
    origin = TimeOrigin(bundle.origin, months, tuple(bundle.origin_sample_types))
    own = DesignVocabulary.of(cohort)
    # a listed gene is profiled for copy number as for mutations: 0 unless an alteration is
    # reported (the cohort's own vocabulary would know only genes with a copy-number call)
    listed = set(own.cna_genes) | set(cohort.panels["gene"].astype(str))
    return build_design(cohort, origin, replace(own, cna_genes=tuple(sorted(listed))))


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
