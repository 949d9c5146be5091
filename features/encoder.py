"""The compiled profile encoder: one patient's profile straight to a model's feature row.

The online path scores one patient at a time; building a Cohort and its design with pandas for
each request costs about a hundred times the model's own work. The encoder computes the same
row with plain Python and numpy, from the same definitions the design uses
(:data:`features.genes.HOTSPOTS`, ``PATHWAYS``, ``RESISTANCE_CLASSES``, the therapy groups,
the metastatic sites, the receptor-subtype rule, the T and N bounds, the amplification
thresholds and the protein-change normaliser), so there is one definition of every feature.
Its contract, held by a property test over thousands of random profiles: a profile's row equals
:func:`features.design.build_design` of that profile alone, reindexed to the model's input
columns (``tests/features/test_encoder_parity.py``).

A profile is any object with the attributes of :class:`EncodableProfile` (the API's
``PatientProfile`` is one).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from features.cohorts.derived import receptor_subtype
from features.cohorts.variants import short_protein_change
from features.cohorts.vocab import GENE_SYMBOL_UPDATES, METASTATIC_SITE
from features.design import N_NODE_BOUNDS, RECEPTOR_SUBTYPES, T_SIZE_BOUNDS_MM
from features.genes import (
    AMPLIFICATION_LEVEL,
    DELETION_LEVEL,
    HOTSPOTS,
    PATHWAYS,
    RESISTANCE_CLASSES,
)
from features.therapies import THERAPY_GROUPS

#: Copy-number level a reported alteration stands for.
ALTERATION_LEVELS = {"amplification": 2.0, "deletion": -2.0}
_BINARY = {"positive": 1.0, "negative": 0.0}
#: The origin of models whose time origin is diagnosis (relapse); others start at a line.
DIAGNOSIS_ORIGIN = "diagnosis"
_VISCERAL = frozenset({"liver", "lung"})


class EncodableAlteration(Protocol):
    gene: str
    kind: str  # "mutation", "amplification", "deletion" or "fusion"
    protein_change: str | None
    origin: str | None  # "somatic", "germline" or None (not stated: a tumour finding)


class EncodableProfile(Protocol):
    """What the encoder reads of a patient (units as in the Cohort: years, mm, months)."""

    age_years: float
    menopausal_status: str | None
    er_status: str | None
    pr_status: str | None
    her2_status: str | None
    histology: str | None
    grade: int | None
    stage: int | None
    t_category: str | None  # "T0", "Tis", "T1" ... "T4"
    n_category: str | None  # "N0" ... "N3"
    tumor_size_mm: float | None
    positive_lymph_nodes: int | None
    ecog: int | None
    setting: str
    de_novo_metastatic: bool | None
    months_since_diagnosis: float | None
    metastatic_sites: Sequence[str]
    current_therapy: str | None
    prior_therapies: Sequence[str]
    sample_type: str
    tmb: float | None
    alterations: Sequence[EncodableAlteration]
    profiled_genes: Sequence[str] | None


def symbol(gene: str) -> str:
    """The current HGNC symbol of ``gene``."""
    return GENE_SYMBOL_UPDATES.get(gene, gene)


def _number(value: float | int | None) -> float:
    return math.nan if value is None else float(value)


def _given_category(given: str) -> float:
    """A stated T or N category as the design numbers it (``Tis`` and ``T0``: 0)."""
    return 0.0 if given in ("Tis", "T0") else float(given[1:])


def _t_category(given: str | None, size_mm: float | None) -> float:
    """The T category: the stated one, else :func:`features.design.t_from_size` of the size
    for one patient (its bounds; NaN when the size is unknown or 0)."""
    if given is not None:
        return _given_category(given)
    size = _number(size_mm)
    return bisect.bisect_left(T_SIZE_BOUNDS_MM, size) + 1.0 if size > 0 else math.nan


def _n_category(given: str | None, nodes: int | None) -> float:
    """The N category: the stated one, else :func:`features.design.n_from_nodes` of the
    positive nodes for one patient (its bounds; NaN when unknown)."""
    if given is not None:
        return _given_category(given)
    count = _number(nodes)
    return math.nan if math.isnan(count) else float(bisect.bisect_left(N_NODE_BOUNDS, count))


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


@dataclass(frozen=True)
class ProfileEncoder:
    """Encodes profiles into the rows of a model's input columns (``columns``, the training
    design's, in order) at the model's time origin (``origin``: ``diagnosis`` or the start of a
    treatment line) with its eligible sample types."""

    columns: tuple[str, ...]
    origin: str
    sample_types: tuple[str, ...]

    @cached_property
    def _position(self) -> dict[str, int]:
        return {name: k for k, name in enumerate(self.columns)}

    def encode(self, profiles: Sequence[EncodableProfile],
               computed: dict[tuple, list[dict[str, float]]] | None = None) -> np.ndarray:
        """Rows (n_profiles x n_columns, float64, NaN = unknown), each the profile alone.
        ``computed``: the profiles' features by :attr:`key`, shared by the encoders of one
        request (models with the same origin and sample types read the same features)."""
        features = None if computed is None else computed.get(self.key)
        if features is None:
            features = [self._features(profile) for profile in profiles]
            if computed is not None:
                computed[self.key] = features
        rows = np.full((len(profiles), len(self.columns)), np.nan)
        position = self._position
        for i, values in enumerate(features):
            for name, value in values.items():
                k = position.get(name)
                if k is not None:
                    rows[i, k] = value
        return rows

    @property
    def key(self) -> tuple[bool, tuple[str, ...]]:
        """What a profile's features depend on besides the profile: whether the origin is
        diagnosis (a line's origin is the profile's own) and the eligible sample types."""
        return self.origin == DIAGNOSIS_ORIGIN, self.sample_types

    def _features(self, p: EncodableProfile) -> dict[str, float]:
        at_diagnosis = self.origin == DIAGNOSIS_ORIGIN
        cohort_origin = (p.months_since_diagnosis or 0.0) if p.setting == "metastatic" else 0.0
        design_origin = 0.0 if at_diagnosis else (p.months_since_diagnosis or 0.0)
        out = _clinical(p)
        out |= (_adjuvant(p) if at_diagnosis
                else _lines(p, cohort_origin, design_origin))
        if not at_diagnosis:
            out |= _metastatic(p)
        out |= self._genomic(p, cohort_origin, design_origin)
        return out

    def _genomic(self, p: EncodableProfile, cohort_origin: float,
                 design_origin: float) -> dict[str, float]:
        """The genomic block: the profile's one sample, if eligible at the origin. Germline
        variants are not read: the models learned from tumour (somatic) calls."""
        out = {"evo__paired": 0.0}
        alterations = [a for a in p.alterations if a.origin != "germline"]
        panel = {symbol(g) for g in (p.profiled_genes or [])}
        panel |= {symbol(a.gene) for a in alterations}
        # the design's eligible_samples: of an allowed type, taken at or before the origin
        eligible = p.sample_type in self.sample_types and cohort_origin <= design_origin + 1e-9
        if not eligible:
            return out
        out["tmb"] = _number(p.tmb)
        if not panel:
            return out
        mutated = {symbol(a.gene) for a in alterations if a.kind == "mutation"}
        levels: dict[str, list[float]] = {}
        for a in alterations:
            if a.kind in ALTERATION_LEVELS:
                levels.setdefault(symbol(a.gene), []).append(ALTERATION_LEVELS[a.kind])
        amplified = {g for g, v in levels.items() if max(v) >= AMPLIFICATION_LEVEL}
        deleted = {g for g, v in levels.items() if min(v) <= DELETION_LEVEL}
        mut = {gene: _flag(gene in mutated) for gene in panel | mutated}
        # a listed gene is profiled for copy number as for mutations (0 unless reported)
        amp = {gene: _flag(gene in amplified) for gene in panel}
        dele = {gene: _flag(gene in deleted) for gene in panel}
        out |= {f"mut__{g}": v for g, v in mut.items()}
        out |= {f"cna__{g}_amp": v for g, v in amp.items()}
        out |= {f"cna__{g}_del": v for g, v in dele.items()}
        changes = {(symbol(a.gene), short_protein_change(a.protein_change))
                   for a in alterations if a.kind == "mutation" and a.protein_change}
        for name, (gene, wanted) in HOTSPOTS.items():
            if gene in mut:
                out[f"hot__{name}"] = _flag(any(g == gene and c in wanted for g, c in changes))
        for name, (m, a, d) in PATHWAYS.items():
            out[f"path__{name}"] = _any(mut, amp, dele, m, a, d)
        for name, (m, a) in RESISTANCE_CLASSES.items():
            out[f"rclass__{name}"] = _any(mut, amp, dele, m, a, frozenset())
        return out


def _any(mut: dict[str, float], amp: dict[str, float], dele: dict[str, float],
         mutated: frozenset[str], amplified: frozenset[str], deleted: frozenset[str]) -> float:
    """1 if any listed alteration is present, 0 if some are known and none present, NaN if none
    is known (the design's ``_any_altered`` for one patient)."""
    known = [table[g] for table, genes in ((mut, mutated), (amp, amplified), (dele, deleted))
             for g in genes if g in table]
    return max(known) if known else math.nan


def _clinical(p: EncodableProfile) -> dict[str, float]:
    """The clinical block of the design for one patient."""
    out = {
        "clin__age_years": float(p.age_years),
        "clin__tumor_size_mm": _number(p.tumor_size_mm),
        "clin__positive_nodes": _number(p.positive_lymph_nodes),
        "clin__grade": _number(p.grade),
        "clin__stage": _number(p.stage),
        "clin__t_category": _t_category(p.t_category, p.tumor_size_mm),
        "clin__n_category": _n_category(p.n_category, p.positive_lymph_nodes),
        "clin__er_positive": _BINARY.get(p.er_status or "", math.nan),
        "clin__pr_positive": _BINARY.get(p.pr_status or "", math.nan),
        "clin__her2_positive": _BINARY.get(p.her2_status or "", math.nan),
        "clin__lobular": (math.nan if p.histology is None else _flag(p.histology == "lobular")),
        "clin__postmenopausal": (math.nan if p.menopausal_status is None
                                 else _flag(p.menopausal_status == "post")),
        "clin__performance_status": _number(p.ecog),
    }
    subtype = receptor_subtype(p.er_status, p.pr_status, p.her2_status)
    for name in RECEPTOR_SUBTYPES:
        out[f"clin__subtype_{name}"] = (math.nan if subtype == "unknown"
                                        else _flag(subtype == name))
    return out


def _adjuvant(p: EncodableProfile) -> dict[str, float]:
    """Treatment at diagnosis: adjuvant classes from the first prior therapy (the API's
    adjuvant line) when the profile gives any line, else unknown."""
    if not p.prior_therapies and not (p.setting == "metastatic" and p.current_therapy):
        return {}
    adjuvant = {p.prior_therapies[0]} if p.prior_therapies else set()
    return {f"clin__adjuvant_{group}": _flag(bool(adjuvant & set(classes)))
            for group, classes in THERAPY_GROUPS.items()}


def _lines(p: EncodableProfile, cohort_origin: float, design_origin: float) -> dict[str, float]:
    """Treatment known at the start of a line: prior lines (dated just before the profile's
    origin) and the line given at it."""
    # prior lines are dated one month before the profile's origin, the current line at it
    prior = list(p.prior_therapies) if cohort_origin - 1.0 < design_origin - 1e-9 else []
    current = (p.current_therapy if p.setting == "metastatic" and p.current_therapy
               and abs(cohort_origin - design_origin) <= 1e-8 + 1e-5 * abs(design_origin)
               else None)
    out = {f"clin__prior_{group}": _flag(bool(set(prior) & set(classes)))
           for group, classes in THERAPY_GROUPS.items()}
    out["clin__prior_cdk46_inhibitor"] = _flag("endocrine_cdk46" in prior)
    out["clin__prior_lines"] = float(len(prior))
    unknown = current is None  # no line known at the origin: its therapy is unknown
    for group, classes in THERAPY_GROUPS.items():
        out[f"clin__current_{group}"] = math.nan if unknown else _flag(current in classes)
    out["clin__with_cdk46_inhibitor"] = (math.nan if unknown
                                         else _flag(current == "endocrine_cdk46"))
    out["clin__months_from_diagnosis"] = design_origin
    return out


def _metastatic(p: EncodableProfile) -> dict[str, float]:
    """The metastatic-setting block: de novo, sites, their number, visceral."""
    out = {"clin__de_novo_metastatic": (math.nan if p.de_novo_metastatic is None
                                        else _flag(p.de_novo_metastatic))}
    sites = set(p.metastatic_sites)
    for site in METASTATIC_SITE:
        out[f"clin__site_{site}"] = _flag(site in sites) if sites else math.nan
    out["clin__n_sites"] = float(len(sites)) if sites else math.nan
    out["clin__visceral"] = _flag(bool(_VISCERAL & sites)) if sites else math.nan
    return out
