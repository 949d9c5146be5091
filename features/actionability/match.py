"""One patient's findings matched against the ESCAT table (:mod:`features.actionability.table`).

What it answers, per patient: the findings with a tier (evidence levels, never
recommendations), the findings in the table's genes without one (they say so), the table's
genes the profile did not test ("not tested", never "no actionable finding"), and notes where
a negative result says nothing: an ESR1 test on a primary tumour or before any endocrine
therapy is not informative for ESR1, whose mutations are acquired under endocrine therapy.

A finding's origin decides the tier where the table ranks germline and somatic variants apart
(BRCA1/2, PALB2): a finding of unknown origin there is reported with both readings, not
matched. Elsewhere a tumour finding of unknown origin is read as somatic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from features.actionability.table import ActionabilityTable, Rule

MSI = "microsatellite instability"


@dataclass(frozen=True)
class Finding:
    """One alteration as reported: ``kind`` is mutation, amplification, deletion or fusion;
    ``origin`` somatic, germline or None (not stated)."""

    gene: str
    kind: str
    protein_change: str | None = None
    origin: str | None = None

    @property
    def label(self) -> str:
        """How the finding is named, e.g. ``ESR1 D538G`` or ``ERBB2 amplification``."""
        if self.kind == "mutation" and self.protein_change:
            return f"{self.gene} {self.protein_change.removeprefix('p.')}"
        return f"{self.gene} {self.kind}"


@dataclass(frozen=True)
class Context:
    """What the matching needs besides the findings: the genes the test covered (None: not
    stated, so only the genes with a finding are known to be tested), microsatellite status
    (``high``, ``stable`` or None), the sample's type (primary, metastasis, recurrence,
    ctdna), and whether the patient had endocrine therapy before the sample (None: unknown)."""

    profiled_genes: frozenset[str] | None
    msi_status: str | None
    sample_type: str
    endocrine_before_sample: bool | None


def match(table: ActionabilityTable, findings: Iterable[Finding],
          context: Context) -> dict[str, object]:
    """``{table_version, findings, not_tested, notes}`` for one patient. Each finding record:
    ``{finding, gene, alteration, origin, tier, therapy, rule, evidence, source, sentence}``,
    with ``tier`` None where the table ranks none."""
    findings = list(findings)
    records = [record for finding in findings for record in _records(table, finding)]
    if context.msi_status == "high":
        rule = next(r for r in table.rules if r.alteration == "msi_high")
        records.append(_tiered(rule, "MSI-high", None))
    tested = ({f.gene for f in findings} if context.profiled_genes is None
              else set(context.profiled_genes) | {f.gene for f in findings})
    not_tested = sorted(table.genes - tested)
    if context.msi_status is None:
        not_tested.append(MSI)
    notes = _esr1_notes(findings, context, tested)
    records.sort(key=lambda r: (r["tier"] is None, r["tier"] or "", r["finding"]))
    return {"table_version": table.version, "findings": records, "not_tested": not_tested,
            "notes": notes}


def _records(table: ActionabilityTable, finding: Finding) -> list[dict[str, object]]:
    rules = [r for r in table.rules if r.gene == finding.gene and r.alteration == finding.kind]
    if not rules:
        if finding.gene not in table.genes:
            return []
        return [_untiered(finding, f"{finding.label}: no ESCAT tier in the table for this "
                                   "alteration class")]
    change = (finding.protein_change or "").removeprefix("p.")
    fitting = [r for r in rules if not r.protein_changes or change in r.protein_changes]
    if not fitting:
        return [_untiered(finding, f"{finding.label}: not in the alteration set the table "
                                   f"ranks for {finding.gene}: no ESCAT tier")]
    germline = [r for r in fitting if r.origin == "germline"]
    if finding.origin is None and germline:
        readings = "; ".join(f"{r.tier} if {r.origin}" for r in fitting if r.origin != "any")
        return [_untiered(finding, f"{finding.label} of unstated origin: ESCAT {readings}; "
                                   "give the variant's origin")]
    origin = finding.origin or "somatic"
    matched = [r for r in fitting if r.origin in ("any", origin)]
    if not matched:
        return [_untiered(finding, f"{finding.label} ({origin}): no ESCAT tier in the table "
                                   f"for a {origin} variant")]
    return [_tiered(r, finding.label, finding.origin) for r in matched]  # origin as given


def _tiered(rule: Rule, label: str, origin: str | None) -> dict[str, object]:
    return {"finding": label, "gene": None if rule.gene == "*" else rule.gene,
            "alteration": rule.alteration, "origin": origin, "tier": rule.tier,
            "therapy": rule.therapy, "rule": rule.rule, "evidence": rule.evidence,
            "source": rule.source,
            "sentence": f"{label}: ESCAT {rule.tier} for {rule.therapy} ({_cite(rule.source)})"}


def _untiered(finding: Finding, sentence: str) -> dict[str, object]:
    return {"finding": finding.label, "gene": finding.gene, "alteration": finding.kind,
            "origin": finding.origin, "tier": None, "therapy": None, "rule": None,
            "evidence": None, "source": None, "sentence": sentence}


def _cite(source: str) -> str:
    """``Crimini E et al. ... 2021;98:...`` -> ``Crimini et al. 2021``."""
    found = re.match(r"(\w+) [A-Z]+ et al\..*?\b((?:19|20)\d\d)\b", source)
    return f"{found.group(1)} et al. {found.group(2)}" if found else source.split(".")[0]


def _esr1_notes(findings: list[Finding], context: Context, tested: set[str]) -> list[str]:
    """ESR1 mutations arise under endocrine therapy: a test without one says nothing when the
    sample is an archival primary or was taken before any endocrine therapy."""
    if "ESR1" not in tested or any(f.gene == "ESR1" and f.kind == "mutation"
                                   for f in findings):
        return []
    if context.sample_type == "primary" or context.endocrine_before_sample is False:
        why = ("a primary tumour sample" if context.sample_type == "primary"
               else "a sample taken before any endocrine therapy")
        return [f"ESR1: no mutation found in {why}: not informative for ESR1 (its mutations "
                "are acquired under endocrine therapy; test at progression, e.g. in ctDNA)"]
    if context.endocrine_before_sample is None:
        return ["ESR1: no mutation found; whether the sample followed endocrine therapy is not "
                "stated, so the result may not be informative for ESR1"]
    return []
