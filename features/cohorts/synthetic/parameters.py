"""Every figure of the synthetic cohort's generative model, with its source.

Sources (see ``../shared/design/CLINICAL.md`` and ``docs/synthetic_cohort.md``):
- [AURORA] Aftimos et al., Cancer Discovery 2021: 381 patients with paired primary/metastasis
  profiling; subtype mix 228 HR+/HER2-, 51 HER2+, 71 triple-negative, 31 unknown; ESR1, PTEN,
  CDH1, PIK3CA, RB1 mutations, MYC and MDM4 amplifications and ARID1A deletions enriched in
  metastases; high TMB associated with shorter time to relapse in HR+/HER2- disease.
- [RAZAVI] Razavi et al., Cancer Cell 2018: ESR1 ligand-binding-domain mutations in ~18% of
  HR+/HER2- tumours after endocrine therapy; ERBB2 activating and NF1 loss-of-function mutations
  over twice as frequent after endocrine therapy; resistance classes ESR1, MAPK (ERBB2, NF1,
  EGFR, KRAS, HRAS, BRAF, MAP2K1), ER transcriptional machinery (MYC, CTCF, FOXA1, TBX3);
  median PFS on aromatase inhibitors 3.5 months with MAPK lesions versus 15.2 without.
- [TCGA] Cancer Genome Atlas Network, Nature 2012 and [METABRIC] Pereira et al., Nat Commun 2016:
  primary-tumour mutation prevalences by subtype (rounded).
- [ASSUMED] a modelling choice of ours, stated as such; change it here and the docs.

Times are drawn in whole days, so that a round trip through a cBioPortal timeline (days) is
exact; cohort tables hold months (days / 30.4375).
"""

from __future__ import annotations

from dataclasses import dataclass

SUBTYPES = ("hr_pos_her2_neg", "her2_pos", "triple_negative", "unknown")

#: [AURORA] 228/381, 51/381, 71/381, 31/381.
SUBTYPE_MIX = {"hr_pos_her2_neg": 0.60, "her2_pos": 0.13, "triple_negative": 0.19, "unknown": 0.08}

#: Mean age at diagnosis (years) by subtype, sd 12, clipped to 25-90. [ASSUMED from METABRIC]
AGE_MEAN = {"hr_pos_her2_neg": 60.0, "her2_pos": 55.0, "triple_negative": 52.0, "unknown": 58.0}

#: Probability of lobular histology; ~12% overall, enriched in HR+. [METABRIC, TCGA]
LOBULAR = {"hr_pos_her2_neg": 0.17, "her2_pos": 0.04, "triple_negative": 0.02, "unknown": 0.10}

#: Grade 1/2/3 probabilities by subtype. [METABRIC, rounded]
GRADE = {
    "hr_pos_her2_neg": (0.20, 0.50, 0.30),
    "her2_pos": (0.05, 0.35, 0.60),
    "triple_negative": (0.03, 0.17, 0.80),
    "unknown": (0.15, 0.45, 0.40),
}

DE_NOVO_METASTATIC = 0.20  # [ASSUMED, issue: ~20% of metastatic-registry patients]

#: Probability of each metastatic site at metastatic onset, by subtype (at least one). [ASSUMED]
METASTATIC_SITES = {
    "bone": {"hr_pos_her2_neg": 0.70, "her2_pos": 0.45, "triple_negative": 0.35, "unknown": 0.5},
    "liver": {"hr_pos_her2_neg": 0.30, "her2_pos": 0.40, "triple_negative": 0.30, "unknown": 0.3},
    "lung": {"hr_pos_her2_neg": 0.25, "her2_pos": 0.30, "triple_negative": 0.40, "unknown": 0.3},
    "brain": {"hr_pos_her2_neg": 0.05, "her2_pos": 0.20, "triple_negative": 0.20, "unknown": 0.1},
    "lymph_node": {"hr_pos_her2_neg": 0.30, "her2_pos": 0.35, "triple_negative": 0.45,
                   "unknown": 0.3},
}

ECOG = (0.55, 0.35, 0.10)  # performance status 0/1/2 [ASSUMED]


@dataclass(frozen=True)
class GeneRule:
    """Prevalence of one alteration: in the primary tumour by subtype (HR+/HER2-, HER2+, TNBC;
    unknown takes the mean), and the probability of acquiring it by the metastatic biopsy, without
    and with prior endocrine therapy."""

    kind: str  # "mutation", "amplification" or "deletion"
    primary: tuple[float, float, float]
    acquired: float = 0.0
    acquired_after_endocrine: float | None = None
    source: str = "TCGA/METABRIC"


#: The alterations of the synthetic cohort. Noise genes carry no effect on any outcome.
GENES: dict[str, GeneRule] = {
    "PIK3CA": GeneRule("mutation", (0.40, 0.30, 0.10), 0.05, source="TCGA; AURORA enrichment"),
    "TP53": GeneRule("mutation", (0.25, 0.70, 0.80), 0.03),
    "ESR1": GeneRule("mutation", (0.005, 0.0, 0.0), 0.01, 0.18, source="RAZAVI"),
    "CDH1": GeneRule("mutation", (0.10, 0.03, 0.02), 0.04, source="TCGA; AURORA enrichment"),
    "GATA3": GeneRule("mutation", (0.15, 0.05, 0.02)),
    "MAP3K1": GeneRule("mutation", (0.10, 0.03, 0.02)),
    "KMT2C": GeneRule("mutation", (0.10, 0.08, 0.06)),
    "PTEN": GeneRule("mutation", (0.04, 0.05, 0.08), 0.04, source="TCGA; AURORA enrichment"),
    "AKT1": GeneRule("mutation", (0.04, 0.01, 0.01)),
    "ERBB2": GeneRule("mutation", (0.02, 0.02, 0.01), 0.0, 0.03, source="RAZAVI (>2x after ET)"),
    "NF1": GeneRule("mutation", (0.03, 0.03, 0.04), 0.0, 0.04, source="RAZAVI (>2x after ET)"),
    "RB1": GeneRule("mutation", (0.02, 0.02, 0.08), 0.05, source="TCGA; AURORA enrichment"),
    "ARID1A": GeneRule("mutation", (0.04, 0.04, 0.04), 0.03),
    "FOXA1": GeneRule("mutation", (0.05, 0.02, 0.01), 0.01),
    "CTCF": GeneRule("mutation", (0.03, 0.02, 0.02), 0.01),
    "TBX3": GeneRule("mutation", (0.03, 0.01, 0.01), 0.01),
    "KRAS": GeneRule("mutation", (0.01, 0.01, 0.02), 0.0, 0.01),
    "HRAS": GeneRule("mutation", (0.005, 0.005, 0.005), 0.0, 0.005),
    "BRAF": GeneRule("mutation", (0.005, 0.005, 0.01), 0.0, 0.005),
    "MAP2K1": GeneRule("mutation", (0.005, 0.005, 0.005), 0.0, 0.005),
    "EGFR": GeneRule("mutation", (0.005, 0.005, 0.01), 0.0, 0.005),
    "BRCA1": GeneRule("mutation", (0.01, 0.02, 0.10)),
    "BRCA2": GeneRule("mutation", (0.02, 0.02, 0.03)),
    "ERBB2_amp": GeneRule("amplification", (0.0, 0.90, 0.0), source="HER2+ definition"),
    "MYC_amp": GeneRule("amplification", (0.12, 0.15, 0.25), 0.06, source="AURORA enrichment"),
    "MDM4_amp": GeneRule("amplification", (0.08, 0.05, 0.05), 0.06, source="AURORA enrichment"),
    "CCND1_amp": GeneRule("amplification", (0.18, 0.10, 0.03)),
    "FGFR1_amp": GeneRule("amplification", (0.10, 0.06, 0.05)),
    "ARID1A_del": GeneRule("deletion", (0.02, 0.02, 0.02), 0.04, source="AURORA enrichment"),
    "PTEN_del": GeneRule("deletion", (0.03, 0.03, 0.08), 0.02),
    # Noise genes: frequent passengers of large genes, independent of everything. [ASSUMED]
    "TTN": GeneRule("mutation", (0.08, 0.08, 0.08), source="noise"),
    "MUC16": GeneRule("mutation", (0.06, 0.06, 0.06), source="noise"),
    "SYNE1": GeneRule("mutation", (0.05, 0.05, 0.05), source="noise"),
    "RYR2": GeneRule("mutation", (0.05, 0.05, 0.05), source="noise"),
    "USH2A": GeneRule("mutation", (0.05, 0.05, 0.05), source="noise"),
    "OBSCN": GeneRule("mutation", (0.04, 0.04, 0.04), source="noise"),
    "CSMD3": GeneRule("mutation", (0.04, 0.04, 0.04), source="noise"),
    "LRP1B": GeneRule("mutation", (0.04, 0.04, 0.04), source="noise"),
}

NOISE_GENES = tuple(g for g, rule in GENES.items() if rule.source == "noise")
MAPK_GENES = ("ERBB2", "NF1", "EGFR", "KRAS", "HRAS", "BRAF", "MAP2K1")  # [RAZAVI]
#: Lobular tumours carry CDH1 loss in most cases. [TCGA]
CDH1_IN_LOBULAR = 0.85

#: Protein changes: hotspots with their share of the gene's mutations; the rest is drawn from
#: generic missense/truncating changes. [COSMIC/cBioPortal hotspots, rounded]
HOTSPOTS: dict[str, dict[str, float]] = {
    "PIK3CA": {"H1047R": 0.35, "E545K": 0.20, "E542K": 0.12, "N345K": 0.05, "H1047L": 0.04},
    "ESR1": {"D538G": 0.35, "Y537S": 0.25, "Y537N": 0.10, "Y537C": 0.07, "E380Q": 0.10,
             "L536H": 0.05, "S463P": 0.08},
    "AKT1": {"E17K": 0.90},
    "TP53": {"R175H": 0.06, "R248Q": 0.05, "R273H": 0.05, "R273C": 0.04, "Y220C": 0.03},
    "ERBB2": {"L755S": 0.25, "V777L": 0.20, "D769Y": 0.10, "S310F": 0.10},
    "KRAS": {"G12D": 0.35, "G12V": 0.25, "G13D": 0.10},
    "BRAF": {"V600E": 0.50},
    "MAP2K1": {"K57N": 0.30},
    "HRAS": {"G12D": 0.30},
    "EGFR": {"L858R": 0.30},
}
#: Share of non-hotspot mutations that are truncating (nonsense or frameshift). [ASSUMED]
TRUNCATING_SHARE = {"NF1": 0.8, "PTEN": 0.6, "RB1": 0.8, "ARID1A": 0.8, "CDH1": 0.8,
                    "GATA3": 0.8, "MAP3K1": 0.7, "KMT2C": 0.7, "BRCA1": 0.8, "BRCA2": 0.8,
                    "TBX3": 0.6, "CTCF": 0.6}

#: Gene panels: an older primary-tumour panel without the metastasis-era genes (a sample on it
#: has those genes *unknown*), a broad panel for tissue, and a ctDNA panel.
PANELS: dict[str, tuple[str, ...]] = {
    "MBC_TISSUE_V1": ("PIK3CA", "TP53", "CDH1", "GATA3", "MAP3K1", "KMT2C", "PTEN", "AKT1",
                      "ERBB2", "RB1", "ARID1A", "FOXA1", "KRAS", "BRCA1", "BRCA2", "MYC",
                      "MDM4", "CCND1", "FGFR1", "TTN", "MUC16", "SYNE1", "RYR2"),
    "MBC_TISSUE_V2": ("PIK3CA", "TP53", "ESR1", "CDH1", "GATA3", "MAP3K1", "KMT2C", "PTEN",
                      "AKT1", "ERBB2", "NF1", "RB1", "ARID1A", "FOXA1", "CTCF", "TBX3", "KRAS",
                      "HRAS", "BRAF", "MAP2K1", "EGFR", "BRCA1", "BRCA2", "MYC", "MDM4",
                      "CCND1", "FGFR1", "TTN", "MUC16", "SYNE1", "RYR2", "USH2A", "OBSCN",
                      "CSMD3", "LRP1B"),
    "MBC_CTDNA_V1": ("PIK3CA", "TP53", "ESR1", "AKT1", "ERBB2", "NF1", "PTEN", "RB1", "KRAS",
                     "BRAF", "MAP2K1", "TTN"),
}
#: Share of primary samples sequenced on the older panel. [ASSUMED]
PRIMARY_ON_OLD_PANEL = 0.5
PRIMARY_SAMPLE_RATE = 0.90  # patients with a profiled primary tumour [ASSUMED]
METASTASIS_BIOPSY_RATE = 0.90  # metastatic patients with a profiled biopsy [ASSUMED]
CTDNA_RATE = 0.25  # metastatic patients with a ctDNA sample at first-line start [ASSUMED]
CTDNA_DETECTION = 0.80  # chance a tumour alteration is detected in plasma [ASSUMED]

#: Tumour mutational burden (mutations/Mb): log-normal, median by subtype, sd(log) 0.8;
#: metastases x1.4. "High" is >= 10/Mb. [AURORA; ASSUMED medians]
TMB_MEDIAN = {"hr_pos_her2_neg": 2.6, "her2_pos": 3.5, "triple_negative": 4.0, "unknown": 3.0}
TMB_LOG_SD = 0.8
TMB_METASTASIS_FACTOR = 1.4
TMB_HIGH = 10.0

#: Receptor changes between primary and metastasis. [AURORA; ASSUMED rates]
RECEPTOR_SWITCH = {"er_loss": 0.10, "pr_loss": 0.25, "her2_gain": 0.05, "her2_loss": 0.15}


@dataclass(frozen=True)
class Effect:
    """A planted hazard ratio on one time-to-event process."""

    process: str  # "relapse" or "endocrine_progression" (first and later endocrine lines)
    covariate: str
    hazard_ratio: float
    source: str


#: The planted effects: the ground truth that tests and explanations must recover.
PLANTED_EFFECTS: tuple[Effect, ...] = (
    Effect("endocrine_progression", "esr1_mutation", 2.0,
           "issue/Razavi: ESR1 LBD mutation raises hazard of progression on ET (HR ~2)"),
    Effect("endocrine_progression", "mapk_lesion", 3.0,
           "Razavi: PFS on AI 3.5 vs 15.2 months with vs without MAPK lesions (HR ~3)"),
    Effect("endocrine_progression", "tmb_high", 1.5,
           "AURORA: high TMB and shorter time to relapse in HR+/HER2- [ASSUMED on ET]"),
    Effect("endocrine_progression", "rb1_loss_on_cdk46", 2.0,
           "RB1 loss and CDK4/6-inhibitor resistance [ASSUMED size]"),
    Effect("endocrine_progression", "cdk46_inhibitor", 0.55,
           "CDK4/6 inhibitor with ET versus ET alone, first-line trials (HR ~0.55)"),
    Effect("endocrine_progression", "liver_metastasis", 1.3, "[ASSUMED] visceral disease"),
    Effect("relapse", "tmb_high_hr_pos", 1.8, "AURORA: high TMB, shorter time to relapse"),
    Effect("relapse", "triple_negative", 1.6, "[ASSUMED] early relapse of TNBC"),
    Effect("relapse", "her2_pos", 1.3, "[ASSUMED]"),
    Effect("relapse", "grade_3", 1.5, "[ASSUMED] prognostic grade"),
    Effect("relapse", "log1p_nodes", 1.4, "[ASSUMED] per log(1 + positive nodes)"),
    Effect("relapse", "size_per_10mm", 1.08, "[ASSUMED] per 10 mm of tumour size"),
    Effect("relapse", "age_under_40", 1.4, "[ASSUMED]"),
    Effect("relapse", "myc_amplification", 1.3, "[ASSUMED]"),
    Effect("relapse", "tp53_mutation", 1.2, "[ASSUMED]"),
)

#: Baseline time scales (months). Relapse: exponential with this median for a reference patient
#: (HR+/HER2-, grade 1-2, node-negative, 0 mm). Progression: exponential medians by line therapy.
RELAPSE_BASELINE_MEDIAN = 150.0
PROGRESSION_MEDIAN = {
    "endocrine": 15.2,  # Razavi: without MAPK lesions, on aromatase inhibitors
    "endocrine_cdk46": 15.2,  # the CDK4/6 effect above multiplies the hazard
    "anti_her2": 18.0,  # [ASSUMED] first-line trastuzumab/pertuzumab era
    "chemotherapy": 7.0,  # [ASSUMED]
}
#: Median survival (months) from metastatic onset by subtype; non-metastatic death rate/month.
SURVIVAL_AFTER_METASTASIS = {"hr_pos_her2_neg": 48.0, "her2_pos": 40.0,
                             "triple_negative": 16.0, "unknown": 36.0}
BACKGROUND_DEATH_PER_MONTH = 0.001
#: Administrative follow-up from diagnosis, uniform (months): non-informative censoring.
FOLLOW_UP_MONTHS = (36.0, 180.0)
ADJUVANT_ENDOCRINE_MONTHS = 60.0  # planned duration [guidelines]
FIRST_LINE_CDK46_SHARE = 0.70  # of HR+ first-line endocrine therapy [ASSUMED]
MAX_METASTATIC_LINES = 3
