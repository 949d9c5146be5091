"""Explanations phrased for people: what a patient's value is, and what it does to the risk."""

from __future__ import annotations

import math
import re

from features.genes import HOTSPOTS, PATHWAY_NAMES

_CLINICAL = {
    "clin__age_years": ("age {v:.0f} years", None),
    "clin__tumor_size_mm": ("tumour size {v:.0f} mm", None),
    "clin__positive_nodes": ("{v:.0f} positive lymph nodes", None),
    "clin__grade": ("grade {v:.0f}", None),
    "clin__stage": ("stage {v:.0f}", None),
    "clin__t_category": ("T{v:.0f}", None),
    "clin__n_category": ("N{v:.0f}", None),
    "clin__npi": ("Nottingham prognostic index {v:.1f}", None),
    "clin__performance_status": ("ECOG performance status {v:.0f}", None),
    "clin__er_fmol_mg": ("ER {v:.0f} fmol/mg", None),
    "clin__pr_fmol_mg": ("PR {v:.0f} fmol/mg", None),
    "clin__months_from_diagnosis": ("{v:.0f} months since diagnosis", None),
    "clin__prior_lines": ("{v:.0f} prior treatment lines", None),
    "clin__n_sites": ("{v:.0f} metastatic sites", None),
    "tmb": ("TMB {v:.1f} mutations/Mb", None),
    "evo__n_acquired": ("{v:.0f} mutations acquired in the metastasis", None),
}
_BINARY = {
    "clin__er_positive": ("ER positive", "ER negative"),
    "clin__pr_positive": ("PR positive", "PR negative"),
    "clin__her2_positive": ("HER2 positive", "HER2 negative"),
    "clin__lobular": ("lobular histology", "non-lobular histology"),
    "clin__postmenopausal": ("postmenopausal", "not postmenopausal"),
    "clin__de_novo_metastatic": ("metastatic at diagnosis", "not metastatic at diagnosis"),
    "clin__visceral": ("visceral metastases", "no visceral metastases"),
    "clin__with_cdk46_inhibitor": ("with a CDK4/6 inhibitor", "without a CDK4/6 inhibitor"),
    "clin__prior_cdk46_inhibitor": ("a CDK4/6 inhibitor on an earlier line",
                                    "no CDK4/6 inhibitor on an earlier line"),
    "rclass__esr1": ("ESR1-mutant resistance class", "not ESR1-mutant class"),
    "rclass__mapk": ("MAPK-class lesion (Razavi)", "no MAPK-class lesion"),
    "rclass__er_tf": ("ER-transcription lesion (MYC, CTCF, FOXA1, TBX3)",
                      "no ER-transcription lesion"),
    "evo__er_loss": ("ER lost in the metastasis", "ER not lost"),
    "evo__her2_gain": ("HER2 gained in the metastasis", "HER2 not gained"),
    "evo__receptor_switch": ("receptor status switched", "no receptor switch"),
    "evo__paired": ("primary and metastasis both profiled", "not both profiled"),
}


#: Model inputs for people, in warnings about what a patient's profile lacks.
INPUT_LABELS = {
    "clin__age_years": "age", "clin__tumor_size_mm": "tumour size",
    "clin__positive_nodes": "positive lymph nodes", "clin__grade": "grade",
    "clin__stage": "stage", "clin__t_category": "T category", "clin__n_category": "N category",
    "clin__npi": "Nottingham prognostic index", "clin__performance_status": "ECOG status",
    "clin__er_positive": "ER status", "clin__pr_positive": "PR status",
    "clin__her2_positive": "HER2 status", "clin__lobular": "histology",
    "clin__postmenopausal": "menopausal status", "clin__er_fmol_mg": "ER level (fmol/mg)",
    "clin__pr_fmol_mg": "PR level (fmol/mg)", "tmb": "TMB",
    "clin__months_from_diagnosis": "months since diagnosis",
    "clin__de_novo_metastatic": "whether metastatic at diagnosis",
}
_INPUT_PATTERNS = (
    ("clin__subtype_", "receptor subtype"), ("clin__pam50_", "PAM50 subtype"),
    ("clin__intclust_", "integrative cluster"), ("clin__adjuvant_", "adjuvant therapy"),
    ("clin__radiotherapy", "radiotherapy"), ("clin__prior_", "prior therapy"),
    ("clin__with_cdk46", "current therapy"), ("clin__current_", "current therapy"),
    ("clin__site_", "metastatic sites"),
    ("clin__n_sites", "metastatic sites"), ("clin__visceral", "metastatic sites"),
    ("evo__", "primary-to-metastasis changes (need a profiled primary and metastasis)"),
)
#: Prefixes of the gene-level genomic inputs (unknown when the gene is not profiled).
GENOMIC_INPUT_PREFIXES = ("mut__", "hot__", "cna__", "path__", "rclass__")


def input_label(feature: str) -> str:
    """What a model input is, for people (``stage``, ``ER status``, ``metastatic sites``)."""
    if feature in INPUT_LABELS:
        return INPUT_LABELS[feature]
    for prefix, label in _INPUT_PATTERNS:
        if feature.startswith(prefix):
            return label
    return _titled(feature.split("__")[-1])


def _titled(text: str) -> str:
    return text.replace("_", " ")


def value_shown(feature: str, value: float, details: dict[str, str] | None = None) -> str:
    """The patient's value in human terms (``ESR1 D538G``, ``ER positive``, ``size 32 mm``,
    ``not profiled``); ``details`` maps genes to protein changes when known."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not profiled" if re.match(r"(mut|hot|cna|path|rclass)__|tmb", feature) else (
            "unknown")
    if feature.startswith(("mut__", "hot__", "cna__", "path__")):
        return _genomic(feature, value, details or {})
    return _clinical(feature, value)


def _genomic(feature: str, value: float, details: dict[str, str]) -> str:
    if feature.startswith("mut__"):
        gene = feature[len("mut__"):]
        if value >= 1:
            change = details.get(gene)
            return f"{gene} {change}" if change else f"{gene} mutated"
        return f"{gene} wild type"
    if feature.startswith("hot__"):
        name = feature[len("hot__"):]
        gene, _ = HOTSPOTS.get(name, (name.split("_")[0], frozenset()))
        label = name.replace("_", " ")
        if value >= 1:
            change = details.get(gene)
            return f"{gene} {change}" if change else label
        return f"no {label} hotspot"
    if feature.startswith("cna__"):
        gene, kind = feature[len("cna__"):].rsplit("_", 1)
        word = "amplified" if kind == "amp" else "deleted"
        return f"{gene} {word}" if value >= 1 else f"{gene} not {word}"
    if feature.startswith("path__"):
        key = feature[len("path__"):]
        name = PATHWAY_NAMES.get(key, _titled(key))
        return f"{name} pathway altered" if value >= 1 else f"{name} pathway not altered"
    return f"{feature} {value:g}"


def _clinical(feature: str, value: float) -> str:
    if feature in _BINARY:
        yes, no = _BINARY[feature]
        return yes if value >= 0.5 else no
    if feature.startswith("clin__site_"):
        site = _titled(feature[len("clin__site_"):])
        return f"{site} metastasis" if value >= 0.5 else f"no {site} metastasis"
    if feature.startswith("clin__subtype_"):
        subtype = _titled(feature[len("clin__subtype_"):])
        return f"subtype {subtype}" if value >= 0.5 else f"not {subtype}"
    if feature.startswith("clin__intclust_"):
        cluster = feature[len("clin__intclust_"):].upper().replace("_POS", "+").replace(
            "_NEG", "-")
        return (f"integrative cluster {cluster}" if value >= 0.5
                else f"not integrative cluster {cluster}")
    if feature.startswith(("clin__adjuvant_", "clin__prior_")) and feature not in (
            "clin__prior_lines", *_BINARY):
        therapy = _titled(feature.split("__")[1])
        return f"received {therapy}" if value >= 0.5 else f"no {therapy} received"
    if feature.startswith("clin__current_"):
        therapy = _titled(feature[len("clin__current_"):])
        return f"current line: {therapy}" if value >= 0.5 else f"current line not {therapy}"
    if feature == "clin__radiotherapy":
        return "received radiotherapy" if value >= 0.5 else "no radiotherapy received"
    if feature in _CLINICAL:
        return _CLINICAL[feature][0].format(v=value)
    return f"{_titled(feature.split('__')[-1])} {value:g}"


def direction(contribution: float) -> str:
    """``raises``, ``lowers`` or ``does not change`` (the predicted risk)."""
    if contribution > 1e-9:
        return "raises"
    if contribution < -1e-9:
        return "lowers"
    return "does not change"


def sentence(shown: str, contribution: float, treatment: bool = False) -> str:
    """One line for people, e.g. ``ESR1 D538G raises the predicted risk``. A treatment input
    (``treatment``) is worded as a marker of the clinical decision, not as an effect."""
    if treatment:
        return (f"{shown[0].upper()}{shown[1:]}: reflects the clinicians' assessment of risk, "
                f"not an effect of the treatment (the model's risk {direction(contribution)} "
                "with it)")
    return f"{shown[0].upper()}{shown[1:]} {direction(contribution)} the predicted risk"


#: Clinical inputs' names for people where the input label is not precise enough.
_FEATURE_NAMES = {
    "clin__prior_lines": "number of prior treatment lines",
    "clin__radiotherapy": "radiotherapy",
    "clin__t_category": "T category", "clin__n_category": "N category",
}


def _cna_name(name: str) -> str:
    gene, kind = name.rsplit("_", 1)
    return f"{gene} {'amplification' if kind == 'amp' else 'deletion'}"


#: Names for people by prefix: the rest of the feature name -> its name.
_PREFIX_NAMES = (
    ("mut__", lambda rest: f"{rest} mutation"),
    ("hot__", lambda rest: f"{rest.replace('_', ' ')} hotspot"),
    ("cna__", _cna_name),
    ("path__", lambda rest: f"{PATHWAY_NAMES.get(rest, _titled(rest))} pathway alteration"),
    ("clin__subtype_", lambda rest: "receptor subtype " + {
        "hr_pos_her2_neg": "HR+/HER2-", "her2_pos": "HER2+",
        "triple_negative": "triple negative"}.get(rest, _titled(rest))),
    ("clin__pam50_", lambda rest: f"PAM50 {_titled(rest).title()}"),
)


def feature_name(feature: str) -> str:
    """A model input's name for people, for cards and plots (``ER level (fmol/mg)``, ``TP53
    mutation``, ``MYC amplification``, ``ESR1-mutant resistance class``); a missing-value
    indicator is named after its input."""
    if feature.startswith("missingindicator_"):
        return f"{feature_name(feature[len('missingindicator_'):])} missing"
    if feature in _FEATURE_NAMES:
        return _FEATURE_NAMES[feature]
    if feature in _BINARY:
        return _BINARY[feature][0]
    for prefix, name in _PREFIX_NAMES:
        if feature.startswith(prefix):
            return name(feature[len(prefix):])
    if feature.startswith(("clin__site_", "clin__intclust_", "clin__current_",
                           "clin__adjuvant_", "clin__prior_")):
        return _clinical(feature, 1.0)
    return input_label(feature)
