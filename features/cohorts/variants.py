"""Spellings of a variant call: the MAF variant classification and the protein change.

Studies write the same call in several ways: MAF classes in other cases (``missense_mutation``),
Sequence Ontology terms (``synonymous_variant``, VEP joins several with ``,`` or ``&``, most
severe first), and protein changes as short (``H1047R``) or long HGVS (``p.His1047Arg``), with
or without ``p.`` and parentheses. These functions map each onto one canonical form, so that
"silent" and the hotspot features mean the same whatever the study wrote.
"""

from __future__ import annotations

import re

import pandas as pd

#: MAF Variant_Classification values (GDC MAF specification), canonical spelling.
MAF_CLASSES = (
    "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins", "Missense_Mutation",
    "Nonsense_Mutation", "Silent", "Splice_Site", "Translation_Start_Site", "Nonstop_Mutation",
    "3'UTR", "3'Flank", "5'UTR", "5'Flank", "IGR", "Intron", "RNA", "Targeted_Region",
    "De_novo_Start_InFrame", "De_novo_Start_OutOfFrame", "Splice_Region", "lincRNA", "Fusion",
)

#: Classifications with no protein effect (cBioPortal filters these by default).
SILENT_CLASSIFICATIONS = frozenset(
    {"Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA", "lincRNA",
     "Splice_Region", "Targeted_Region"}
)

#: Sequence Ontology consequence terms -> the MAF class they correspond to (the mapping of
#: vcf2maf, simplified: a frameshift is written as a deletion, its most common form).
SO_TERMS = {
    "synonymous_variant": "Silent",
    "stop_retained_variant": "Silent",
    "start_retained_variant": "Silent",
    "intron_variant": "Intron",
    "3_prime_utr_variant": "3'UTR",
    "5_prime_utr_variant": "5'UTR",
    "upstream_gene_variant": "5'Flank",
    "downstream_gene_variant": "3'Flank",
    "intergenic_variant": "IGR",
    "splice_region_variant": "Splice_Region",
    "non_coding_transcript_exon_variant": "RNA",
    "non_coding_transcript_variant": "RNA",
    "mature_mirna_variant": "RNA",
    "missense_variant": "Missense_Mutation",
    "protein_altering_variant": "Missense_Mutation",
    "coding_sequence_variant": "Missense_Mutation",
    "stop_gained": "Nonsense_Mutation",
    "stop_lost": "Nonstop_Mutation",
    "start_lost": "Translation_Start_Site",
    "frameshift_variant": "Frame_Shift_Del",
    "inframe_deletion": "In_Frame_Del",
    "inframe_insertion": "In_Frame_Ins",
    "splice_acceptor_variant": "Splice_Site",
    "splice_donor_variant": "Splice_Site",
}

_CANONICAL = {**{c.lower(): c for c in MAF_CLASSES}, **SO_TERMS}

#: Three-letter amino-acid codes -> one letter (``Ter`` and ``X`` are the stop codon).
AMINO_ACIDS = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U",
    "Pyl": "O", "Ter": "*", "Xaa": "X",
}
_THREE_LETTER = re.compile("|".join(AMINO_ACIDS))
_PREFIX = re.compile(r"^(?:[A-Za-z0-9_.]+:)?[pP]\.")
_LOWER_SHORT = re.compile(r"^[a-z]\d+[a-z*]$")


def canonical_classification(value: str) -> str | None:
    """The MAF class of ``value`` (any case, or a Sequence Ontology term; of several joined by
    ``,`` or ``&``, the first), or None when it is none of these."""
    first = re.split(r"[,&]", value.strip(), maxsplit=1)[0].strip().lower()
    return _CANONICAL.get(first)


def is_silent(classification: pd.Series) -> pd.Series:
    """True where a canonical classification has no protein effect; unknown (NA) is not."""
    return classification.isin(SILENT_CLASSIFICATIONS).fillna(False).astype(bool)


def short_protein_change(value: str) -> str:
    """The short HGVS protein change: ``p.His1047Arg``, ``p.(H1047R)``, ``ENSP...:p.H1047R``
    and ``H1047R`` all give ``H1047R``; ``p.Glu17Ter`` gives ``E17*``."""
    text = _PREFIX.sub("", value.strip())
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if _LOWER_SHORT.match(text):  # h1047r: a short form in lower case
        return text.upper()
    return _THREE_LETTER.sub(lambda match: AMINO_ACIDS[match.group(0)], text)


def short_protein_changes(values: pd.Series) -> pd.Series:
    """:func:`short_protein_change` of every non-missing value (missing stays missing)."""
    present = values.notna() & (values.astype("string") != "")
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    unique = pd.unique(values[present].astype(str))
    mapping = {value: short_protein_change(value) for value in unique}
    out[present] = values[present].astype(str).map(mapping)
    return out
