"""Tumour alterations of synthetic patients: truncal (primary) and acquired (metastasis) states,
protein changes, and the mutation / copy-number records a sample's panel can see."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.synthetic import parameters as p

_AMINO_ACIDS = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
_SUBTYPE_COLUMN = {"hr_pos_her2_neg": 0, "her2_pos": 1, "triple_negative": 2}
POOL_SIZE = 64


def gene_of(alteration: str) -> str:
    """HGNC symbol of an alteration key (``MYC_amp`` -> ``MYC``)."""
    return alteration.split("_")[0]


def primary_prevalence(rule: p.GeneRule, subtype: np.ndarray) -> np.ndarray:
    """Per patient prevalence of ``rule`` in the primary; unknown subtype takes the mean."""
    table = {s: rule.primary[i] for s, i in _SUBTYPE_COLUMN.items()}
    table["unknown"] = float(np.mean(rule.primary))
    return pd.Series(subtype).map(table).to_numpy(dtype=float)


def draw_primary(rng: np.random.Generator, patients: pd.DataFrame) -> dict[str, np.ndarray]:
    """Truncal alterations present in the primary tumour (True = altered), per alteration."""
    subtype = patients["receptor_subtype"].to_numpy()
    state = {}
    for name, rule in p.GENES.items():
        state[name] = rng.random(len(patients)) < primary_prevalence(rule, subtype)
    lobular = patients["histology"].to_numpy() == "lobular"
    state["CDH1"] = state["CDH1"] | (lobular & (rng.random(len(patients)) < p.CDH1_IN_LOBULAR))
    return state


def acquisition_rate(rule: p.GeneRule, endocrine_exposed: np.ndarray) -> np.ndarray:
    """Per patient probability of acquiring ``rule``'s alteration by the metastatic biopsy."""
    after = rule.acquired if rule.acquired_after_endocrine is None else (
        rule.acquired_after_endocrine)
    return np.where(endocrine_exposed, after, rule.acquired)


def draw_metastasis(rng: np.random.Generator, primary: dict[str, np.ndarray],
                    endocrine_exposed: np.ndarray) -> dict[str, np.ndarray]:
    """Alterations of the metastasis: the truncal ones plus those acquired."""
    return {
        name: primary[name] | (rng.random(len(endocrine_exposed))
                               < acquisition_rate(rule, endocrine_exposed))
        for name, rule in p.GENES.items()
    }


def _generic_changes(rng: np.random.Generator, gene: str) -> tuple[np.ndarray, np.ndarray]:
    """A pool of plausible non-hotspot protein changes and their MAF classifications."""
    positions = rng.integers(20, 1200, POOL_SIZE)
    ref = rng.choice(_AMINO_ACIDS, POOL_SIZE)
    alt = rng.choice(_AMINO_ACIDS, POOL_SIZE)
    truncating = rng.random(POOL_SIZE) < p.TRUNCATING_SHARE.get(gene, 0.3)
    frameshift = rng.random(POOL_SIZE) < 0.5
    changes, classes = [], []
    for i in range(POOL_SIZE):
        if truncating[i] and frameshift[i]:
            changes.append(f"{ref[i]}{positions[i]}{alt[i]}fs*{positions[i] % 40 + 2}")
            classes.append("Frame_Shift_Del")
        elif truncating[i]:
            changes.append(f"{ref[i]}{positions[i]}*")
            classes.append("Nonsense_Mutation")
        else:
            changes.append(f"{ref[i]}{positions[i]}{alt[i] if alt[i] != ref[i] else 'V'}")
            classes.append("Missense_Mutation")
    return np.array(changes, dtype=object), np.array(classes, dtype=object)


def draw_protein_changes(rng: np.random.Generator,
                         n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per mutated gene: each patient's protein change and classification, should the gene be
    mutated (the same change in primary, metastasis and plasma)."""
    drawn = {}
    for name, rule in p.GENES.items():
        if rule.kind != "mutation":
            continue
        pool, classes = _generic_changes(rng, name)
        hotspots = p.HOTSPOTS.get(name, {})
        shares = np.array(list(hotspots.values()), dtype=float)
        u = rng.random(n)
        hotspot_index = np.searchsorted(shares.cumsum(), u, side="right")
        generic = rng.integers(0, POOL_SIZE, n)
        is_hotspot = hotspot_index < len(shares)
        names = np.array(list(hotspots), dtype=object)
        change = np.where(is_hotspot, names[np.minimum(hotspot_index, max(len(names) - 1, 0))]
                          if len(names) else None, pool[generic])
        kind = np.where(is_hotspot, "Missense_Mutation", classes[generic])
        drawn[name] = (change, kind)
    return drawn


def sample_records(
    rng: np.random.Generator,
    sample_ids: np.ndarray,
    patient_rows: np.ndarray,
    panels: np.ndarray,
    state: dict[str, np.ndarray],
    changes: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    detection: float = 1.0,
    vaf_beta: tuple[float, float] = (4.0, 6.0),
    with_copy_number: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mutation and CNA rows of the given samples: alterations in ``state`` (indexed by patient
    row) on each sample's panel, each detected with probability ``detection``."""
    mutation_parts, cna_parts = [], []
    for name, rule in p.GENES.items():
        gene = gene_of(name)
        on_panel = np.array([gene in p.PANELS[panel] for panel in p.PANELS])
        panel_codes = pd.Categorical(panels, categories=list(p.PANELS)).codes
        covered = on_panel[panel_codes]
        present = state[name][patient_rows] & covered
        present &= rng.random(len(sample_ids)) < detection
        rows = np.flatnonzero(present)
        if not len(rows):
            continue
        if rule.kind == "mutation":
            change, kind = changes[name]
            depth = rng.integers(150, 800, len(rows))
            alt = np.maximum(3, rng.binomial(depth, rng.beta(*vaf_beta, len(rows))))
            mutation_parts.append(pd.DataFrame({
                "sample_id": sample_ids[rows],
                "gene": gene,
                "variant_classification": kind[patient_rows[rows]],
                "protein_change": change[patient_rows[rows]],
                "vaf": alt / depth,
                "non_silent": True,
            }))
        elif with_copy_number:
            level = 2.0 if rule.kind == "amplification" else -2.0
            cna_parts.append(pd.DataFrame({"sample_id": sample_ids[rows], "gene": gene,
                                           "level": level}))
    mutation_parts.append(_silent_passengers(rng, sample_ids, panels))
    mutations = pd.concat(mutation_parts, ignore_index=True)
    copy_number = (pd.concat(cna_parts, ignore_index=True) if cna_parts
                   else pd.DataFrame(columns=["sample_id", "gene", "level"]))
    return mutations, copy_number


def _silent_passengers(rng: np.random.Generator, sample_ids: np.ndarray,
                       panels: np.ndarray) -> pd.DataFrame:
    """About one silent call per sample in a random gene of its panel (marked non-silent=False)."""
    counts = rng.poisson(1.0, len(sample_ids))
    rows = np.repeat(np.arange(len(sample_ids)), counts)
    genes = np.empty(len(rows), dtype=object)
    for panel, panel_genes in p.PANELS.items():
        mask = panels[rows] == panel
        genes[mask] = rng.choice(np.array(panel_genes, dtype=object), int(mask.sum()))
    ref = rng.choice(_AMINO_ACIDS, len(rows))
    positions = rng.integers(20, 1200, len(rows)).astype(str)
    changes = np.char.add(np.char.add(ref, positions), ref).astype(object)
    depth = rng.integers(150, 800, len(rows))
    alt = np.maximum(3, rng.binomial(depth, 0.3))
    return pd.DataFrame({
        "sample_id": sample_ids[rows],
        "gene": genes,
        "variant_classification": "Silent",
        "protein_change": changes,
        "vaf": alt / depth,
        "non_silent": False,
    })
