"""Gene knowledge used by the features: hotspots, pathways, resistance classes.

Sources: cBioPortal/COSMIC recurrent hotspots; Razavi et al., Cancer Cell 2018 (resistance
classes); Sanchez-Vega et al., Cell 2018 (oncogenic signalling pathways), simplified.
"""

from __future__ import annotations

#: Hotspot features: name -> (gene, protein changes). ESR1's are the ligand-binding domain's.
HOTSPOTS: dict[str, tuple[str, frozenset[str]]] = {
    "ESR1_LBD": ("ESR1", frozenset({"D538G", "Y537S", "Y537N", "Y537C", "Y537D", "E380Q",
                                    "L536H", "L536P", "L536R", "L536Q", "S463P", "V422del"})),
    "PIK3CA_H1047R": ("PIK3CA", frozenset({"H1047R"})),
    "PIK3CA_E545K": ("PIK3CA", frozenset({"E545K"})),
    "PIK3CA_E542K": ("PIK3CA", frozenset({"E542K"})),
    "AKT1_E17K": ("AKT1", frozenset({"E17K"})),
    "ERBB2_L755S": ("ERBB2", frozenset({"L755S"})),
}

#: Pathways: name -> (genes altered by mutation, genes altered by amplification, by deletion).
PATHWAYS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "pi3k_akt_mtor": (frozenset({"PIK3CA", "PIK3R1", "AKT1", "PTEN", "MTOR", "TSC1", "TSC2"}),
                      frozenset({"AKT2", "AKT3"}), frozenset({"PTEN"})),
    "mapk": (frozenset({"ERBB2", "NF1", "EGFR", "KRAS", "HRAS", "NRAS", "BRAF", "MAP2K1",
                        "MAP2K4", "MAP3K1"}), frozenset(), frozenset({"NF1"})),
    "er_machinery": (frozenset({"ESR1", "FOXA1", "CTCF", "TBX3", "GATA3", "NCOR1"}),
                     frozenset({"MYC"}), frozenset()),
    "cell_cycle": (frozenset({"RB1", "CDKN2A", "CDKN1B", "CCND3"}),
                   frozenset({"CCND1", "CDK4", "CDK6"}), frozenset({"RB1", "CDKN2A"})),
    "dna_repair": (frozenset({"BRCA1", "BRCA2", "ATM", "CHEK2", "PALB2", "BRIP1", "RAD51C"}),
                   frozenset(), frozenset({"BRCA1", "BRCA2"})),
    "tp53": (frozenset({"TP53"}), frozenset({"MDM2", "MDM4"}), frozenset()),
    "chromatin": (frozenset({"ARID1A", "ARID1B", "KMT2C", "KMT2D", "SMARCA4", "CREBBP",
                             "EP300"}), frozenset(), frozenset({"ARID1A"})),
}

#: How each pathway is named for people.
PATHWAY_NAMES = {
    "pi3k_akt_mtor": "PI3K/AKT/mTOR", "mapk": "MAPK", "er_machinery": "ER transcriptional",
    "cell_cycle": "cell cycle", "dna_repair": "DNA repair", "tp53": "TP53",
    "chromatin": "chromatin remodelling",
}

#: Razavi's endocrine-resistance classes (mutually exclusive in the paper; indicators here).
RESISTANCE_CLASSES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "esr1": (frozenset({"ESR1"}), frozenset()),
    "mapk": (frozenset({"ERBB2", "NF1", "EGFR", "KRAS", "HRAS", "BRAF", "MAP2K1"}), frozenset()),
    "er_tf": (frozenset({"CTCF", "FOXA1", "TBX3"}), frozenset({"MYC"})),
}

#: Amplification / deletion call thresholds on discrete levels (fractional levels allowed).
#: The design columns of the well-known markers of resistance to treatment of metastatic disease
#: (CLINICAL.md: ESR1, RB1 loss, TP53, PIK3CA, CCNE1/FGFR1/MYC amplification), as prefixes:
#: with the clinical features, the inputs of the marker baselines of the treatment tasks.
RESISTANCE_MARKER_PREFIXES = ("mut__ESR1", "hot__ESR1", "mut__RB1", "cna__RB1_del", "mut__TP53",
                              "mut__PIK3CA", "hot__PIK3CA", "cna__CCNE1_amp", "cna__FGFR1_amp",
                              "cna__MYC_amp")
AMPLIFICATION_LEVEL = 1.5
DELETION_LEVEL = -1.5
