"""A request's profile read for the ESCAT table (:mod:`features.actionability`): its findings
with their origin, what its test covered, its microsatellite status, and whether its sample
followed endocrine therapy."""

from __future__ import annotations

from features.actionability.match import Context, Finding, match
from features.actionability.table import load_table
from features.therapies import THERAPY_GROUPS
from serving.schemas import PatientProfile


def actionability(profile: PatientProfile) -> dict[str, object]:
    """``{table_version, findings, not_tested, notes}`` of one patient."""
    findings = [Finding(a.gene, a.kind, a.protein_change, a.origin)
                for a in profile.alterations]
    profiled = None if profile.profiled_genes is None else frozenset(profile.profiled_genes)
    return match(load_table(), findings, Context(profiled, profile.msi_status,
                                                 profile.sample_type, _endocrine_before(profile)))


def _endocrine_before(profile: PatientProfile) -> bool | None:
    """Whether the profiled sample followed endocrine therapy: a sample at diagnosis (early
    setting, or a primary tumour of a patient with no endocrine therapy before) did not; a
    metastatic-setting sample other than the primary after endocrine therapy did; otherwise
    unknown (a primary of a treated patient may be archival)."""
    exposed = bool(set(THERAPY_GROUPS["endocrine"]) & set(profile.prior_therapies))
    if profile.setting == "early" or not exposed:
        return False
    return None if profile.sample_type == "primary" else True
