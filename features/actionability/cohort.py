"""Actionability across a cohort: each patient's ESCAT findings from every profiled sample
(:mod:`features.actionability.match`), and the cohort view, the share of metastatic patients
with at least one tier I or II finding.

A cohort's variant calls are tumour calls (no germline origin is recorded), so BRCA1/2 and
PALB2 mutations, whose tier depends on their origin, hold none here. Microsatellite status comes
from the samples' ``msi_status`` (cBioPortal ``MSI_TYPE``); without it, it counts as not
tested. Fusions come from the ``structural_variants`` table (cBioPortal ``data_sv.txt``), for
either of a fusion's genes.

ESCAT ranks targets in metastatic disease: on an early-disease cohort (under half of its
patients metastatic, as METABRIC) the share is reported as not comparable.
"""

from __future__ import annotations

import pandas as pd

from features.actionability.match import Context, Finding, match
from features.actionability.table import ActionabilityTable, load_table, tier_level
from features.genes import AMPLIFICATION_LEVEL, DELETION_LEVEL

#: Samples that exist because the disease spread (their patient is metastatic).
METASTATIC_SAMPLES = ("metastasis", "recurrence", "ctdna")
#: Share of metastatic patients from which a cohort is read as a metastatic cohort, whose
#: share of actionable patients compares with published ones.
METASTATIC_COHORT_SHARE = 0.5
#: Between the sentences of ``escat_findings`` (a sentence may hold "; ").
FINDING_SEPARATOR = " | "
#: Per patient, from every profiled sample: tier I and tier II findings (counts), their
#: sentences, and the table's genes no sample profiled.
ACTIONABILITY_COLUMNS = ["escat_tier_i", "escat_tier_ii", "escat_findings", "escat_not_tested"]


def patient_findings(cohort: object, table: ActionabilityTable | None = None) -> pd.DataFrame:
    """Per patient of ``cohort`` (a :class:`features.cohorts.cohort.Cohort`; index
    ``patient_id``): tier I and tier II findings (counts), their sentences (joined by
    :data:`FINDING_SEPARATOR`, empty when none) and how many of the table's genes no sample
    profiled."""
    table = table or load_table()
    samples = cohort.samples
    patient_of = samples["patient_id"]
    genes = _panel_genes(cohort)
    tested: dict[str, set[str]] = {}
    for sample, patient in patient_of.items():
        tested.setdefault(patient, set()).update(genes.get(samples.at[sample, "mutation_panel"],
                                                           set()))
        tested[patient].update(genes.get(samples.at[sample, "cna_panel"], set()))
    findings: dict[str, set[Finding]] = {}  # a finding in two samples counts once
    for sample, finding in _sample_findings(cohort, table):
        findings.setdefault(patient_of.get(sample), set()).add(finding)
    msi = _patient_msi(samples)
    rows = {}
    for patient in cohort.patients.index:
        answer = match(table, sorted(findings.get(patient, set()), key=str),
                       Context(frozenset(tested.get(patient, set())), msi.get(patient),
                               "metastasis", True))
        tiers = [tier_level(f["tier"]) for f in answer["findings"] if f["tier"]]
        rows[patient] = (tiers.count("I"), tiers.count("II"),
                         FINDING_SEPARATOR.join(f["sentence"] for f in answer["findings"]
                                                if f["tier"]),
                         len([g for g in answer["not_tested"] if g in table.genes]))
    return pd.DataFrame.from_dict(rows, orient="index", columns=ACTIONABILITY_COLUMNS
                                  ).rename_axis("patient_id")


def with_tier_i_or_ii(findings: pd.DataFrame) -> pd.Series:
    """Per patient of :func:`patient_findings`: True with at least one tier I or II finding."""
    return (findings["escat_tier_i"] + findings["escat_tier_ii"]) > 0


def metastatic_patients(cohort: object) -> pd.Index:
    """Patients with metastatic disease: metastatic at diagnosis, with metastatic sites, with a
    sample of a metastasis, a recurrence or ctDNA, or with a metastatic treatment line."""
    patients = cohort.patients
    flags = patients["de_novo_metastatic"].fillna(False).astype(bool)
    flags |= patients["metastatic_sites"].fillna("").astype(str).str.len() > 0
    sampled = cohort.samples.loc[cohort.samples["sample_type"].isin(METASTATIC_SAMPLES),
                                 "patient_id"]
    treated = (cohort.treatments.loc[cohort.treatments["setting"] == "metastatic", "patient_id"]
               if "setting" in cohort.treatments else pd.Series([], dtype=object))
    flags |= patients.index.isin(set(sampled) | set(treated))
    return patients.index[flags.to_numpy()]


def cohort_view(cohort: object, table: ActionabilityTable | None = None) -> dict[str, object]:
    """The share of metastatic patients with at least one tier I or II finding, with its
    counts, whether it is comparable with published figures (AURORA: 51% of metastatic
    patients), and the table's version."""
    table = table or load_table()
    findings = patient_findings(cohort, table)
    metastatic = metastatic_patients(cohort)
    with_finding = int(with_tier_i_or_ii(findings.loc[metastatic]).sum())
    profiled = int(cohort.samples["patient_id"].loc[cohort.samples["patient_id"].isin(
        metastatic)].nunique())
    total = len(cohort.patients)
    comparable = total > 0 and len(metastatic) / total >= METASTATIC_COHORT_SHARE
    return {
        "table_version": table.version,
        "patients": total,
        "metastatic_patients": len(metastatic),
        "metastatic_patients_profiled": profiled,
        "with_tier_i_or_ii": with_finding,
        "share": round(with_finding / len(metastatic), 4) if len(metastatic) else None,
        "comparable": comparable,
        "note": ("a metastatic cohort: comparable with published shares of metastatic "
                 "patients (AURORA: 51%)" if comparable else
                 f"not comparable: an early-disease cohort ({len(metastatic):,} of {total:,} "
                 "patients metastatic), and ESCAT ranks targets in metastatic disease"),
        "tumour_calls_only": "BRCA1/2 and PALB2 mutations hold no tier without their origin",
    }


def _patient_msi(samples: pd.DataFrame) -> dict[str, str]:
    """Per patient: ``high`` when any sample is MSI-high, else ``stable`` when any was tested;
    patients without a tested sample are absent (not tested)."""
    if "msi_status" not in samples:
        return {}
    tested = samples.dropna(subset=["msi_status"])
    status = tested["msi_status"].astype(str)
    high = set(tested.loc[status == "high", "patient_id"])
    return {p: "high" if p in high else "stable" for p in tested["patient_id"]}


def _fusions(cohort: object, wanted: frozenset[str]) -> list[tuple[str, str, str | None]]:
    """(sample, gene, origin) of every fusion call, once for each of its two genes that the
    table reads (ETV6-NTRK3 is an NTRK3 fusion)."""
    calls = cohort.structural_variants
    calls = calls[calls["fusion"].fillna(False).astype(bool)]
    out = []
    for s, first, second, origin in zip(calls["sample_id"], calls["gene"],
                                        calls["partner_gene"], calls["origin"], strict=True):
        origin = None if pd.isna(origin) else str(origin)
        out += [(s, str(g), origin) for g in (first, second) if not pd.isna(g) and g in wanted]
    return out


def _panel_genes(cohort: object) -> dict[str, set[str]]:
    panels = cohort.panels
    return {panel: set(group["gene"]) for panel, group in panels.groupby("panel_id")}


def _sample_findings(cohort: object, table: ActionabilityTable,
                     ) -> list[tuple[str, Finding]]:
    """(sample, finding) for the non-silent mutations, fusions, amplifications and deep
    deletions of the table's genes."""
    wanted = table.genes
    mutations = cohort.mutations
    mutations = mutations[mutations["gene"].isin(wanted)
                          & mutations["non_silent"].fillna(True).astype(bool)]
    out = [(s, Finding(g, "mutation", None if pd.isna(c) else str(c)))
           for s, g, c in zip(mutations["sample_id"], mutations["gene"],
                              mutations["protein_change"], strict=True)]
    out += [(s, Finding(g, "fusion", None, origin)) for s, g, origin in _fusions(cohort, wanted)]
    cna = cohort.copy_number
    cna = cna[cna["gene"].isin(wanted)]
    for s, g, level in zip(cna["sample_id"], cna["gene"], cna["level"], strict=True):
        if level >= AMPLIFICATION_LEVEL:
            out.append((s, Finding(g, "amplification")))
        elif level <= DELETION_LEVEL:
            out.append((s, Finding(g, "deletion")))
    return out
