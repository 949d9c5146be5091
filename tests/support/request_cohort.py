"""Test oracle: API patient profiles as a small validated Cohort (one patient and one profiled
sample each) and the design :func:`features.design.build_design` builds from it, the way
training builds it. The service encodes profiles with the bundle's compiled encoder
(:mod:`features.encoder`); tests hold the two equal."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from features.cohorts.cohort import Cohort
from features.cohorts.derived import derive_receptor_subtype
from features.cohorts.validation import build_cohort
from features.cohorts.vocab import GENE_SYMBOL_UPDATES
from features.design import DesignVocabulary, build_design
from features.time_origin import TimeOrigin
from models.bundles.bundle import ModelBundle
from serving.schemas import PatientProfile

REQUEST_PANEL = "REQUEST_PANEL_{}"
_KIND_LEVEL = {"amplification": 2.0, "deletion": -2.0}


#: The cohort's numbering of AJCC T and N categories (schema: Tis and T0 are 0).
_CATEGORY = {"Tis": 0, "T0": 0, "T1": 1, "T2": 2, "T3": 3, "T4": 4,
             "N0": 0, "N1": 1, "N2": 2, "N3": 3}


def patient_ids(profiles: list[PatientProfile]) -> list[str]:
    """Row identifiers of the request patients."""
    return [f"request-{i}" for i in range(len(profiles))]


def _symbol(gene: str) -> str:
    return GENE_SYMBOL_UPDATES.get(gene, gene)


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
            "t_category": _CATEGORY.get(p.t_category), "n_category": _CATEGORY.get(p.n_category),
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
