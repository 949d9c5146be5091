"""The design matrix: one row per patient of a task, raw (unfitted) features with stable names.

Every value is computed from the patient's own records and only from what is known at the
task's time origin, so building it leaks nothing between patients or folds; anything fitted
(gene selection, imputation, scaling) lives in the pipeline (:mod:`features.pipeline`).

Names: ``clin__*`` clinical, ``mut__GENE`` (non-silent mutation: 1, wild type on a panel that
covers the gene: 0, not profiled: NaN), ``hot__GENE_CHANGE`` hotspots, ``cna__GENE_amp|del``,
``tmb`` (mutations/Mb), ``path__*`` pathways, ``rclass__*`` Razavi resistance classes, and
``evo__*`` primary-to-metastasis changes when both samples exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from features.cohorts.cohort import Cohort
from features.cohorts.variants import short_protein_changes
from features.cohorts.vocab import METASTATIC_SITE, WHOLE_EXOME_PANEL
from features.design_treatment import treatment_features
from features.genes import (
    AMPLIFICATION_LEVEL,
    DELETION_LEVEL,
    HOTSPOTS,
    PATHWAYS,
    RESISTANCE_CLASSES,
)
from features.time_origin import TimeOrigin, eligible_samples

_BINARY = {"positive": 1.0, "negative": 0.0}
#: Receptor subtypes with a design indicator (``features.cohorts.derived.receptor_subtype``).
RECEPTOR_SUBTYPES = ("hr_pos_her2_neg", "her2_pos", "triple_negative")


@dataclass(frozen=True)
class DesignVocabulary:
    """What decides a design's columns and rules: genes with a mutation column, genes with
    copy-number columns, PAM50 levels, whether the cohort has samples and treatment lines.
    A cohort's own by default; for a cohort read in partitions, the union over partitions
    (:meth:`union`, then :meth:`apply_to` each partition), so that every partition's labels and
    design are those the whole cohort would give its patients (0 = profiled wild type)."""

    mutation_genes: tuple[str, ...]
    cna_genes: tuple[str, ...]
    pam50_levels: tuple[str, ...]
    has_samples: bool = True
    has_treatment_lines: bool = True
    integrative_clusters: tuple[str, ...] = ()

    @classmethod
    def of(cls, cohort: Cohort) -> DesignVocabulary:
        """The vocabulary of ``cohort``: genes on its panels or in its mutations, genes of its
        copy-number calls, the PAM50 levels of its patients."""
        return cls(
            tuple(sorted(set(cohort.panels["gene"].astype(str))
                         | set(cohort.mutations["gene"].astype(str)))),
            tuple(sorted(set(cohort.copy_number["gene"].astype(str)))),
            tuple(sorted(set(cohort.patients["pam50_subtype"].dropna().astype(str)))),
            cohort.has_samples, cohort.has_treatment_lines,
            tuple(sorted(set(cohort.patients["integrative_cluster"].dropna().astype(str)))))

    @classmethod
    def union(cls, vocabularies: Iterable[DesignVocabulary]) -> DesignVocabulary:
        """The vocabulary of several partitions together."""
        parts = list(vocabularies)
        def levels(name: str) -> tuple[str, ...]:
            return tuple(sorted(set().union(*(getattr(v, name) for v in parts))))

        return cls(levels("mutation_genes"), levels("cna_genes"), levels("pam50_levels"),
                   any(v.has_samples for v in parts), any(v.has_treatment_lines for v in parts),
                   levels("integrative_clusters"))

    def apply_to(self, cohort: Cohort) -> Cohort:
        """``cohort`` (a partition) told whether the whole cohort has samples and treatment
        lines, so its labels and design follow the whole cohort's rules."""
        cohort.metadata.update(cohort_has_samples=self.has_samples,
                               cohort_has_treatment_lines=self.has_treatment_lines)
        return cohort


def build_design(cohort: Cohort, origin: TimeOrigin,
                 vocabulary: DesignVocabulary | None = None) -> pd.DataFrame:
    """Raw features (float64, NaN = unknown) of the patients of ``origin`` (in its order), from
    what is known at each one's time origin (a task's ``Labels.time_origin``). ``vocabulary``
    (default: the cohort's own) names the gene and PAM50 columns."""
    vocabulary = vocabulary or DesignVocabulary.of(cohort)
    index = origin.months.index
    patients = cohort.patients.loc[index]
    parts = [_clinical(patients, vocabulary), treatment_features(cohort, origin)]
    if not origin.at_diagnosis:
        parts.append(_metastatic_setting(patients))
    samples = eligible_samples(cohort, origin.sample_types, origin.months)
    if cohort.has_samples:
        genomic = GenomicProfile(cohort, samples, index, vocabulary)
        parts.extend([genomic.mutations(), genomic.hotspots(), genomic.copy_number(),
                      genomic.tmb(), genomic.pathways(), genomic.resistance_classes(),
                      genomic.evolution()])
    design = pd.concat(parts, axis=1).astype(float)
    design.index.name = "patient_id"
    return design


#: Upper bounds (mm) of pathological T1, T2 by the tumour's largest diameter (AJCC 8th); above
#: 50 mm is T3. T4 needs skin or chest-wall findings, never derived from size.
T_SIZE_BOUNDS_MM = (20.0, 50.0)
#: Upper bounds of pathological N0, N1, N2 by positive axillary nodes (AJCC 8th); 10+ is N3.
N_NODE_BOUNDS = (0.0, 3.0, 9.0)


def t_from_size(size_mm: np.ndarray) -> np.ndarray:
    """pT1-pT3 (1-3) from tumours' largest diameter (mm); NaN when unknown or 0."""
    size_mm = np.asarray(size_mm, dtype=float)
    t = np.digitize(size_mm, T_SIZE_BOUNDS_MM, right=True) + 1.0
    return np.where(size_mm > 0, t, np.nan)


def n_from_nodes(nodes: np.ndarray) -> np.ndarray:
    """pN0-pN3 (0-3) from counts of positive lymph nodes; NaN when unknown."""
    nodes = np.asarray(nodes, dtype=float)
    return np.where(np.isnan(nodes), np.nan, np.digitize(nodes, N_NODE_BOUNDS, right=True) * 1.0)


def _clinical(patients: pd.DataFrame, vocabulary: DesignVocabulary) -> pd.DataFrame:
    def binary(column: str) -> pd.Series:
        return patients[column].astype("object").map(_BINARY).astype(float)

    subtype = patients["receptor_subtype"].astype("object")
    known_subtype = subtype.isin(RECEPTOR_SUBTYPES)
    frame = pd.DataFrame({
        "clin__age_years": patients["age_years"].astype(float),
        "clin__tumor_size_mm": patients["tumor_size_mm"].astype(float),
        "clin__positive_nodes": patients["positive_nodes"].astype(float),
        "clin__grade": patients["grade"].astype(float),
        "clin__stage": patients["stage"].astype(float),
        "clin__t_category": patients["t_category"].astype(float).fillna(pd.Series(
            t_from_size(patients["tumor_size_mm"].to_numpy(dtype=float, na_value=np.nan)),
            index=patients.index)),
        "clin__n_category": patients["n_category"].astype(float).fillna(pd.Series(
            n_from_nodes(patients["positive_nodes"].to_numpy(dtype=float, na_value=np.nan)),
            index=patients.index)),
        "clin__npi": patients["npi"].astype(float),
        "clin__er_positive": binary("er_status"),
        "clin__pr_positive": binary("pr_status"),
        "clin__her2_positive": binary("her2_status"),
        "clin__er_fmol_mg": patients["er_fmol_mg"].astype(float),
        "clin__pr_fmol_mg": patients["pr_fmol_mg"].astype(float),
        "clin__lobular": _indicator(patients["histology"], "lobular"),
        "clin__postmenopausal": _indicator(patients["menopausal_status"], "post"),
        "clin__performance_status": patients["performance_status"].astype(float),
    }, index=patients.index)
    for name in RECEPTOR_SUBTYPES:
        frame[f"clin__subtype_{name}"] = (subtype == name).astype(float).where(known_subtype)
    pam50 = patients["pam50_subtype"].astype("object")
    for name in vocabulary.pam50_levels:
        frame[f"clin__pam50_{name}"] = (pam50 == name).astype(float).where(pam50.notna())
    cluster = patients["integrative_cluster"].astype("object")
    for level in vocabulary.integrative_clusters:
        frame[f"clin__intclust_{_slug(level)}"] = (cluster == level).astype(float).where(
            cluster.notna())
    return frame


def _slug(level: str) -> str:
    """A feature-name-safe form of a category level: ``4ER+`` -> ``4er_pos``."""
    return level.lower().replace("+", "_pos").replace("-", "_neg")


def _indicator(values: pd.Series, level: str) -> pd.Series:
    values = values.astype("object")
    return (values == level).astype(float).where(values.notna())


def _metastatic_setting(patients: pd.DataFrame) -> pd.DataFrame:
    sites = patients["metastatic_sites"].astype("object")
    frame = pd.DataFrame({"clin__de_novo_metastatic":
                          patients["de_novo_metastatic"].astype(float)}, index=patients.index)
    split = sites.fillna("").str.split(";")
    for site in METASTATIC_SITE:
        frame[f"clin__site_{site}"] = split.map(lambda s, v=site: float(v in s)).where(
            sites.notna())
    frame["clin__n_sites"] = split.map(lambda s: float(len([x for x in s if x]))).where(
        sites.notna())
    frame["clin__visceral"] = split.map(lambda s: float(bool({"liver", "lung"} & set(s)))).where(
        sites.notna())
    return frame


def protein_changes(cohort: Cohort, origin: TimeOrigin) -> dict[str, dict[str, str]]:
    """Per patient, per mutated gene, the protein changes seen in eligible samples
    (``{"P1": {"ESR1": "D538G"}}``), for wording explanations."""
    samples = eligible_samples(cohort, origin.sample_types, origin.months)
    muts = cohort.mutations[cohort.mutations["sample_id"].isin(samples.index)
                            & cohort.mutations["non_silent"].fillna(True)
                            & cohort.mutations["protein_change"].notna()]
    pairs = pd.DataFrame({
        "patient_id": samples.loc[muts["sample_id"], "patient_id"].astype(str).to_numpy(),
        "gene": muts["gene"].astype(str).to_numpy(),
        "protein_change": muts["protein_change"].astype(str).to_numpy()})
    pairs = pairs.drop_duplicates().sort_values(["patient_id", "gene", "protein_change"])
    joined = pairs.groupby(["patient_id", "gene"], sort=False)["protein_change"].agg(", ".join)
    result: dict[str, dict[str, str]] = {}
    for (patient, gene), text in joined.items():
        result.setdefault(str(patient), {})[str(gene)] = text
    return result


class GenomicProfile:
    """Panel-aware alteration calls of each patient's eligible samples."""

    def __init__(self, cohort: Cohort, samples: pd.DataFrame, index: pd.Index,
                 vocabulary: DesignVocabulary) -> None:
        self.index = index
        self.samples = samples
        panels = cohort.panels.groupby("panel_id")["gene"].agg(frozenset).to_dict()
        muts = cohort.mutations[cohort.mutations["sample_id"].isin(samples.index)
                                & cohort.mutations["non_silent"].fillna(True)]
        self.mutations_by_sample = muts.assign(
            patient_id=samples.loc[muts["sample_id"], "patient_id"].to_numpy())
        cna = cohort.copy_number[cohort.copy_number["sample_id"].isin(samples.index)]
        self.cna = cna.assign(patient_id=samples.loc[cna["sample_id"], "patient_id"].to_numpy())
        self.panel_genes = panels
        self.genes = list(vocabulary.mutation_genes)
        self.cna_genes = list(vocabulary.cna_genes)
        self.mutation_profiled = self._profiled(samples["mutation_panel"], panels, self.genes)
        self.cna_profiled = self._profiled(samples["cna_panel"], panels, self.cna_genes)

    def _profiled(self, sample_panels: pd.Series, panels: dict[str, frozenset[str]],
                  genes: list[str]) -> pd.DataFrame:
        """Patient x gene: True when an eligible sample's panel covers the gene."""
        covered = pd.DataFrame(False, index=self.index, columns=genes)
        patient_of = self.samples["patient_id"]
        for panel, members in sample_panels.dropna().groupby(sample_panels.dropna()).groups.items():
            patients = patient_of.loc[list(members)].unique()
            if panel == WHOLE_EXOME_PANEL:
                covered.loc[patients, :] = True
            else:
                on_panel = [g for g in genes if g in panels.get(panel, frozenset())]
                covered.loc[patients, on_panel] = True
        return covered

    def _calls(self, altered: pd.DataFrame, profiled: pd.DataFrame) -> pd.DataFrame:
        """1 where altered, 0 where profiled and not altered, NaN where not profiled."""
        altered = altered.reindex(index=self.index, columns=profiled.columns, fill_value=False)
        values = np.where(altered.to_numpy(), 1.0,
                          np.where(profiled.to_numpy(), 0.0, np.nan))
        return pd.DataFrame(values, index=self.index, columns=profiled.columns)

    @staticmethod
    def _altered(rows: pd.DataFrame) -> pd.DataFrame:
        """Patient x gene: True where ``rows`` has a call."""
        patients = pd.Index(rows["patient_id"].unique())
        genes = pd.Index(rows["gene"].unique())
        flags = np.zeros((len(patients), len(genes)), dtype=bool)
        flags[patients.get_indexer(rows["patient_id"]), genes.get_indexer(rows["gene"])] = True
        return pd.DataFrame(flags, index=patients, columns=genes)

    @cached_property
    def _mutation_calls(self) -> pd.DataFrame:
        return self._calls(self._altered(self.mutations_by_sample), self.mutation_profiled)

    def mutations(self) -> pd.DataFrame:
        """``mut__GENE`` for every gene profiled in the cohort."""
        return self._mutation_calls.add_prefix("mut__")

    def hotspots(self) -> pd.DataFrame:
        """``hot__<name>`` for the known hotspots of :data:`features.genes.HOTSPOTS`; protein
        changes match in short or long HGVS, with ``p.`` or without."""
        columns = {}
        muts = self.mutations_by_sample
        changes_seen = short_protein_changes(muts["protein_change"])
        for name, (gene, changes) in HOTSPOTS.items():
            if gene not in self.mutation_profiled.columns:
                continue
            hit = muts.loc[(muts["gene"] == gene) & changes_seen.isin(changes).to_numpy(),
                           "patient_id"]
            profiled = self.mutation_profiled[gene].to_numpy()
            altered = self.index.isin(hit)
            columns[f"hot__{name}"] = np.where(altered, 1.0, np.where(profiled, 0.0, np.nan))
        return pd.DataFrame(columns, index=self.index)

    @cached_property
    def _cna_flags(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        amp = self.cna[self.cna["level"] >= AMPLIFICATION_LEVEL]
        deleted = self.cna[self.cna["level"] <= DELETION_LEVEL]
        return (self._calls(self._altered(amp), self.cna_profiled),
                self._calls(self._altered(deleted), self.cna_profiled))

    def copy_number(self) -> pd.DataFrame:
        """``cna__GENE_amp`` and ``cna__GENE_del`` for genes with any CNA call in the cohort."""
        amp, deleted = self._cna_flags
        return pd.concat([amp.add_prefix("cna__").add_suffix("_amp"),
                          deleted.add_prefix("cna__").add_suffix("_del")], axis=1)

    def tmb(self) -> pd.DataFrame:
        """``tmb``: the highest TMB (mutations/Mb) among eligible samples."""
        tmb = self.samples.groupby("patient_id")["tmb"].max().astype(float)
        return pd.DataFrame({"tmb": tmb.reindex(self.index)})

    def _any_altered(self, mutated: frozenset[str], amplified: frozenset[str],
                     deleted: frozenset[str]) -> np.ndarray:
        mut = self._mutation_calls
        amp, dele = self._cna_flags
        parts = [mut[[g for g in sorted(mutated) if g in mut]],
                 amp[[g for g in sorted(amplified) if g in amp]],
                 dele[[g for g in sorted(deleted) if g in dele]]]
        values = np.concatenate([p.to_numpy() for p in parts], axis=1)
        if values.shape[1] == 0:
            return np.full(len(self.index), np.nan)
        any_hit = np.nanmax(np.where(np.isnan(values), -1.0, values), axis=1)
        return np.where(any_hit < 0, np.nan, any_hit)

    def pathways(self) -> pd.DataFrame:
        """``path__<pathway>``: any alteration of the pathway (NaN if none of it profiled)."""
        return pd.DataFrame({f"path__{name}": self._any_altered(*genes)
                             for name, genes in PATHWAYS.items()}, index=self.index)

    def resistance_classes(self) -> pd.DataFrame:
        """``rclass__esr1|mapk|er_tf``: Razavi's endocrine-resistance classes."""
        return pd.DataFrame({f"rclass__{name}": self._any_altered(mut, amp, frozenset())
                             for name, (mut, amp) in RESISTANCE_CLASSES.items()},
                            index=self.index)

    def _primary_covers(self, primary: pd.DataFrame, patient: str, gene: str) -> bool:
        panel = primary.loc[patient, "mutation_panel"] if patient in primary.index else None
        if panel is None or pd.isna(panel):
            return False
        return panel == WHOLE_EXOME_PANEL or gene in self.panel_genes.get(panel, frozenset())

    def evolution(self) -> pd.DataFrame:
        """Primary-to-metastasis changes for patients with both eligible samples (else NaN)."""
        samples = self.samples
        primary = samples[samples["sample_type"] == "primary"].groupby("patient_id").first()
        later = samples[samples["sample_type"].isin(["metastasis", "recurrence"])]
        later = later.groupby("patient_id").last()
        paired = primary.index.intersection(later.index)
        frame = pd.DataFrame(np.nan, index=self.index, columns=[
            "evo__paired", "evo__n_acquired", "evo__er_loss", "evo__her2_gain",
            "evo__receptor_switch"])
        frame["evo__paired"] = self.index.isin(paired).astype(float)
        if len(paired) == 0:
            return frame
        muts = self.mutations_by_sample
        primary_ids = samples.index[samples["sample_type"] == "primary"]
        later_ids = samples.index[samples["sample_type"].isin(["metastasis", "recurrence"])]
        early = muts[muts["sample_id"].isin(primary_ids)][["patient_id", "gene"]]
        late = muts[muts["sample_id"].isin(later_ids)][["patient_id", "gene"]]
        acquired = late.merge(early.drop_duplicates(), how="left", indicator=True)
        acquired = acquired[acquired["_merge"] == "left_only"].drop_duplicates()
        # Only genes the primary's panel covered can be called acquired.
        covered = acquired.apply(lambda r: self._primary_covers(primary, r["patient_id"],
                                                                r["gene"]), axis=1)
        acquired = acquired[covered.to_numpy(dtype=bool)] if len(acquired) else acquired
        counts = acquired.groupby("patient_id").size()
        frame.loc[paired, "evo__n_acquired"] = counts.reindex(paired, fill_value=0).astype(float)
        for column, before, after, name in (
            ("er_status", "positive", "negative", "evo__er_loss"),
            ("her2_status", "negative", "positive", "evo__her2_gain"),
        ):
            p_status = primary.loc[paired, column].astype("object")
            l_status = later.loc[paired, column].astype("object")
            known = p_status.notna() & l_status.notna()
            frame.loc[paired, name] = ((p_status == before) & (l_status == after)).astype(
                float).where(known)
        switched = pd.Series(False, index=paired)
        known_any = pd.Series(False, index=paired)
        for column in ("er_status", "pr_status", "her2_status"):
            p_status = primary.loc[paired, column].astype("object")
            l_status = later.loc[paired, column].astype("object")
            known = p_status.notna() & l_status.notna()
            switched |= known & (p_status != l_status)
            known_any |= known
        frame.loc[paired, "evo__receptor_switch"] = switched.astype(float).where(known_any)
        return frame
