"""Genomic findings of an mCODE Bundle (HL7 Genomics Reporting IG): variants with their gene,
protein change and kind, the genes a panel studied, and tumour mutation burden."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from features.actionability.match import Finding
from features.cohorts.vocab import HGNC_SYMBOL
from serving.fhir import codes
from serving.fhir.elements import code_in, codings, words
from serving.fhir.outcome import Issue, warning

#: Three-letter amino-acid codes (HGVS) -> one letter; Ter is the stop codon.
AMINO_ACIDS = {"Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q",
               "Glu": "E", "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K",
               "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W",
               "Tyr": "Y", "Val": "V", "Ter": "*", "Sec": "U", "Pyl": "O"}
_THREE = re.compile("|".join(AMINO_ACIDS))
_SHORT = re.compile(r"^[A-Za-z0-9*_>+\-]{1,40}$")
#: LOINC answers of a variant assessment: absent (a studied gene without the variant).
ABSENT = {"LA9634-2"}


@dataclass
class Genomics:
    """What the genomic observations say, in the profile's terms."""

    alterations: list[dict] = field(default_factory=list)
    #: each alteration's variant Observation (by finding label, e.g. ``ESR1 D538G``): what an
    #: answer's therapeutic implication is derived from
    sources: dict[str, str] = field(default_factory=dict)
    studied_genes: set[str] = field(default_factory=set)
    tmb: float | None = None
    specimens: list[Any] = field(default_factory=list)  # the variants' specimen References
    warnings: list[Issue] = field(default_factory=list)


def read_variant(observation: Any, where: str, reference: str, found: Genomics) -> None:
    """One Variant observation (``reference``: how the Bundle refers to it): a gene (HGNC
    symbol in the gene-studied component), its protein change (pHGVS, shortened to e.g.
    ``D538G``), kind (copy-number change types of the Sequence Ontology: amplification or
    deletion; any other: a mutation) and origin (genomic source class: germline or somatic;
    a germline variant is read for actionability, not by the models)."""
    read = _components(observation, where, found)
    if read is None:
        return
    gene, protein, kind, origin = read
    if origin != "germline":  # a germline test says nothing of the tumour panel
        found.studied_genes.add(gene)
        if observation.specimen is not None:
            found.specimens.append((observation.specimen, f"{where}.specimen"))
    if code_in(observation.valueCodeableConcept, codes.LOINC) in ABSENT:
        return  # studied, not found: wild type
    alteration = {"gene": gene, "kind": kind,
                  "protein_change": protein if kind == "mutation" else None, "origin": origin}
    found.alterations.append(alteration)
    found.sources[finding_label(alteration)] = reference


def _components(observation: Any, where: str, found: Genomics,
                ) -> tuple[str, str | None, str, str | None] | None:
    """A variant's gene, protein change, kind and origin; None (with a warning) when it has
    no readable gene."""
    gene, protein, kind, origin = None, None, "mutation", None
    for k, component in enumerate(observation.component or []):
        code = code_in(component.code, codes.LOINC)
        value = component.valueCodeableConcept
        if code == codes.GENOMIC_SOURCE:
            origin = codes.GENOMIC_ORIGINS.get(code_in(value, codes.LOINC) or "")
            if origin is None:
                found.warnings.append(warning("genomic source class not germline (LA6683-2) "
                                              "or somatic (LA6684-0): origin not read",
                                              f"{where}.component[{k}].valueCodeableConcept"))
        elif code == codes.GENE_STUDIED:
            gene = gene_symbol(value)
            if gene is None:
                found.warnings.append(warning(
                    "gene studied is not an HGNC symbol (display or text): variant not used",
                    f"{where}.component[{k}].valueCodeableConcept"))
                return None
        elif code == codes.AMINO_ACID_CHANGE:
            protein = short_protein_change(value)
            if protein is None:
                found.warnings.append(warning(
                    "amino-acid change not read as a protein change (pHGVS): the variant is "
                    "used without it", f"{where}.component[{k}].valueCodeableConcept"))
        elif code == codes.DNA_CHANGE_TYPE:
            kind = next((codes.COPY_NUMBER_TYPES[c] for _, c, _ in codings(value)
                         if c in codes.COPY_NUMBER_TYPES), kind)
    if gene is None:
        found.warnings.append(warning("a variant without a gene-studied component (LOINC "
                                      f"{codes.GENE_STUDIED}): not used", where))
        return None
    return gene, protein, kind, origin


def read_msi(observation: Any, reference: str, found: Genomics) -> str | None:
    """A microsatellite-instability Observation's status (``high`` or ``stable``; None when
    its answer is not read), its reference kept when high."""
    status = codes.MSI_ANSWERS.get(code_in(observation.valueCodeableConcept, codes.LOINC) or "")
    if status == "high":
        found.sources["MSI-high"] = reference
    return status


def finding_label(alteration: dict) -> str:
    """How an alteration is named among actionable findings (``ESR1 D538G``, ``ERBB2
    amplification``): :attr:`features.actionability.match.Finding.label`."""
    return Finding(alteration["gene"], alteration["kind"], alteration["protein_change"]).label


def read_region_studied(observation: Any, found: Genomics) -> None:
    """The genes a panel covered (gene-studied components of a RegionStudied observation)."""
    for component in observation.component or []:
        if code_in(component.code, codes.LOINC) == codes.GENE_STUDIED:
            gene = gene_symbol(component.valueCodeableConcept)
            if gene is not None:
                found.studied_genes.add(gene)


def gene_symbol(concept: Any) -> str | None:
    """The HGNC symbol of a gene concept: an HGNC coding's display, else the text."""
    candidates = [d for s, _, d in codings(concept) if s == codes.HGNC and d]
    candidates.append(getattr(concept, "text", None) or "")
    for candidate in candidates:
        for symbol in (candidate.strip(), candidate.strip().upper()):  # C1orf112 as written
            if HGNC_SYMBOL.fullmatch(symbol):
                return symbol
    return None


def short_protein_change(concept: Any) -> str | None:
    """``NP_000116.2:p.Asp538Gly`` or ``p.(D538G)`` as ``D538G``; None when not a protein
    change in HGVS."""
    text = next((c for s, c, _ in codings(concept) if s == codes.HGVS and c), None)
    text = text or (getattr(concept, "text", None) or "")
    change = text.split(":")[-1].strip()
    if not change.startswith("p."):
        return None
    change = change.removeprefix("p.").strip("()")
    change = _THREE.sub(lambda m: AMINO_ACIDS[m.group(0)], change)
    return change if _SHORT.match(change) else None


def sample_type_of(specimen: Any, where: str) -> tuple[str | None, Issue | None]:
    """The profile's sample type from a Specimen: plasma (cell-free DNA) -> ctdna; collected
    from the breast -> primary; from a metastatic site -> metastasis."""
    if any(c in codes.CTDNA_SPECIMENS for s, c, _ in codings(specimen.type)
           if s == codes.SNOMED) or any(w in words(specimen.type) for w in codes.CTDNA_WORDS):
        return "ctdna", None
    site = getattr(specimen.collection, "bodySite", None) if specimen.collection else None
    site_codes = {c for s, c, _ in codings(site) if s == codes.SNOMED}
    if site_codes & codes.BREAST_SITES:
        return "primary", None
    if site_codes & set(codes.SNOMED_SITES):
        return "metastasis", None
    return None, warning("specimen type and collection site not recognised: the sample type "
                         "is not read from it", where)
