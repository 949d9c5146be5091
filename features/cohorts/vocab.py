"""Controlled vocabularies and the one reviewable table of raw codings we recognise.

Every categorical column of a :class:`~features.cohorts.cohort.Cohort` takes values from a tuple
below. Raw values met in files are looked up, case-insensitively and with surrounding blanks
removed, in :data:`CODINGS`; every raw value that is changed on the way is counted in the load
report (``from -> to``), so that a reviewer can see, e.g., that ``Positve`` became ``positive``.
"""

from __future__ import annotations

import re

from features.cohorts.treatments.drugs import THERAPY_CLASSES

RECEPTOR_STATUS = ("positive", "negative", "equivocal")
SEX = ("female", "male")
MENOPAUSAL_STATUS = ("pre", "peri", "post")
HISTOLOGY = (
    "ductal",
    "lobular",
    "mixed_ductal_lobular",
    "mucinous",
    "medullary",
    "tubular",
    "metaplastic",
    "other",
)
PAM50_SUBTYPE = ("luminal_a", "luminal_b", "her2_enriched", "basal", "normal_like", "claudin_low")
#: METABRIC's integrative clusters (Curtis et al., Nature 2012); cluster 4 split by ER.
INTEGRATIVE_CLUSTER = ("1", "2", "3", "4ER+", "4ER-", "5", "6", "7", "8", "9", "10")
RECEPTOR_SUBTYPE = ("hr_pos_her2_neg", "her2_pos", "triple_negative", "unknown")
SAMPLE_TYPE = ("primary", "metastasis", "recurrence", "ctdna")
METASTATIC_SITE = ("bone", "liver", "lung", "brain", "lymph_node", "pleura", "skin", "other")
TREATMENT_SETTING = ("neoadjuvant", "adjuvant", "metastatic")
#: The therapy classes of a line: the drug dictionary's (features/cohorts/treatments/drugs.csv).
THERAPY_CLASS = THERAPY_CLASSES
REASON_STOPPED = ("progression", "toxicity", "completed", "ongoing", "death", "other")

#: Cells that mean "no value" in cBioPortal exports and spreadsheets (compared case-insensitively).
MISSING_TOKENS = frozenset(
    {
        "",
        "na",
        "n/a",
        "nan",
        "null",
        "none",
        "unknown",
        "undef",
        "[not available]",
        "[not applicable]",
        "[not evaluated]",
        "[unknown]",
        "[discrepancy]",
        "[completed]",
        "[not reported]",
        # Explicit missing codes of other studies (MSK, GENIE, TCGA exports).
        "unk/nd",
        "unk",
        "nd",
        "not done",
        "not available",
        "not reported",
        "not evaluated",
        "n.a.",
        # Equivocal receptor results are not results (HER2 IHC 2+ awaits ISH).
        "equivocal",
        "indeterminate",
        "borderline",
        "2+",
    }
)

_YES = ("yes", "y", "true", "t", "1")
_NO = ("no", "n", "false", "f", "0")


def _table(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Invert ``{canonical: (raw spellings...)}`` into ``{raw: canonical}``."""
    table: dict[str, str] = {}
    for canonical, spellings in pairs.items():
        for raw in (canonical, *spellings):
            table[raw.lower()] = canonical
    return table


#: Per coding domain: lower-cased raw spelling -> canonical value. The single place to extend.
CODINGS: dict[str, dict[str, str]] = {
    "receptor_status": _table(
        {
            "positive": ("positve", "pos", "+", "posititve", "postive", "p", "1"),
            "negative": ("neg", "-", "negtive", "n", "0", "1+", "0/1+"),
            "equivocal": ("equiv",),
        }
    ),
    "sex": _table({"female": ("f", "woman"), "male": ("m", "man")}),
    "menopausal_status": _table(
        {
            "pre": ("premenopausal", "pre-menopausal"),
            "peri": ("perimenopausal", "peri-menopausal"),
            "post": ("postmenopausal", "post-menopausal"),
        }
    ),
    "histology": _table(
        {
            "ductal": ("ductal/nst", "idc", "nst", "breast invasive ductal carcinoma",
                       "invasive ductal carcinoma", "infiltrating ductal carcinoma"),
            "lobular": ("ilc", "breast invasive lobular carcinoma", "invasive lobular carcinoma",
                        "infiltrating lobular carcinoma"),
            "mixed_ductal_lobular": (
                "mixed",
                "mdlc",
                "breast mixed ductal and lobular carcinoma",
            ),
            "mucinous": ("immc", "breast invasive mixed mucinous carcinoma"),
            "medullary": (),
            "tubular": ("tubular/ cribriform", "tubular/cribriform"),
            "metaplastic": ("mbc", "metaplastic breast cancer"),
            "other": ("breast", "invasive breast carcinoma", "brca"),
        }
    ),
    "pam50_subtype": _table(
        {
            "luminal_a": ("luma", "brca_luma", "luminal a", "luminal-a", "lum a"),
            "luminal_b": ("lumb", "brca_lumb", "luminal b", "luminal-b", "lum b"),
            "her2_enriched": ("her2", "brca_her2", "her2-enriched", "her2 enriched", "her2e"),
            "basal": ("basal-like", "brca_basal", "basal like"),
            "normal_like": ("normal", "brca_normal", "normal-like", "normal like"),
            "claudin_low": ("claudin-low", "claudin low", "claudinlow"),
        }
    ),
    "msi_status": _table(
        {
            "high": ("instable", "unstable", "msi-h", "msi-high", "msi high", "msih",
                     "microsatellite instability-high", "msi"),
            "stable": ("mss", "msi-l", "msi-low", "msi low", "msil", "microsatellite stable"),
        }
    ),
    "integrative_cluster": _table(
        {str(k): () for k in (1, 2, 3, 5, 6, 7, 8, 9, 10)} | {"4ER+": (), "4ER-": ()}
    ),
    "sample_type": _table(
        {
            "primary": ("primary tumor", "primary tumour", "primary_tumor"),
            "metastasis": ("metastatic", "metastases", "metastatic tumor"),
            "recurrence": ("recurrent", "local recurrence"),
            "ctdna": ("cfdna", "cell-free dna", "plasma"),
        }
    ),
    "yes_no": _table({"yes": _YES, "no": _NO}),
    "treatment_setting": _table({"neoadjuvant": (), "adjuvant": (), "metastatic": ("advanced",)}),
    "therapy_class": _table(
        {
            "endocrine": ("hormone", "hormone therapy", "endocrine therapy"),
            "endocrine_cdk46": ("endocrine+cdk4/6", "cdk4/6"),
            "anti_her2": ("her2", "anti-her2"),
            "chemotherapy": ("chemo",),
            "pi3k_akt_mtor": ("targeted_pi3k",),
            "parp": ("parp inhibitor",),
            "immunotherapy": ("immune checkpoint inhibitor",),
            "radiotherapy": ("radiation", "radio therapy"),
            "other": (),
        }
    ),
    "reason_stopped": _table(
        dict.fromkeys(REASON_STOPPED, ()) | {"progression": ("progressive disease", "pd")}
    ),
    "metastatic_site": _table(
        dict.fromkeys(METASTATIC_SITE, ()) | {"lymph_node": ("lymph node", "nodes", "ln")}
    ),
}

#: The allowed values of each coding domain that yields a categorical column.
#: Microsatellite status of a sample: high (MSI-H, instable) or stable (MSS, MSI-L).
MSI_STATUS = ("high", "stable")

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "receptor_status": RECEPTOR_STATUS,
    "sex": SEX,
    "menopausal_status": MENOPAUSAL_STATUS,
    "histology": HISTOLOGY,
    "pam50_subtype": PAM50_SUBTYPE,
    "integrative_cluster": INTEGRATIVE_CLUSTER,
    "receptor_subtype": RECEPTOR_SUBTYPE,
    "sample_type": SAMPLE_TYPE,
    "msi_status": MSI_STATUS,
    "treatment_setting": TREATMENT_SETTING,
    "therapy_class": THERAPY_CLASS,
    "reason_stopped": REASON_STOPPED,
}

#: Previous HGNC symbols still found in older panels and MAFs -> the current approved symbol.
GENE_SYMBOL_UPDATES: dict[str, str] = {
    "MLL2": "KMT2D",
    "MLL3": "KMT2C",
    "MLL": "KMT2A",
    "MLL4": "KMT2B",
    "GPR124": "ADGRA2",
    "MLLT4": "AFDN",
    "LARGE": "LARGE1",
    "HIST1H2BC": "H2BC4",
    "C10orf54": "VSIR",
    "FAM46C": "TENT5C",
    "PARK2": "PRKN",
    "WHSC1": "NSD2",
    "WHSC1L1": "NSD3",
    "MRE11A": "MRE11",
    "FAM175A": "ABRAXAS1",
    "H3F3A": "H3-3A",
    "HIST1H3B": "H3C2",
}

#: Syntax of an HGNC approved symbol: upper-case letters and digits, with the ``orf`` of open
#: reading frames (``C1orf112``) and ``-``, ``.`` or ``@`` inside (``H3-3A``, ``HLA-A``).
HGNC_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]*(?:orf[0-9]+)?(?:[-.@][A-Z0-9]+)*$")

#: Panel id meaning "every gene profiled" (whole exome or genome).
WHOLE_EXOME_PANEL = "WES"
