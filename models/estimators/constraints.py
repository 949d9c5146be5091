"""Established adverse factors, declared once with their sources: every boosted model is
constrained so that its risk never falls as one of them worsens (xgboost monotone
constraints), whatever a small subgroup of its training cohort suggests.

A constraint binds the factor's known values; an unknown value (NaN) still follows the
trees' learned default direction. Features a design does not have are simply not constrained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AdverseFactor:
    """A design feature whose higher values mean a worse prognosis, and why we say so."""

    feature: str
    label: str
    source: str


#: The reviewable table: a higher value never lowers the predicted risk.
ADVERSE_FACTORS = (
    AdverseFactor("clin__positive_nodes", "positive lymph nodes",
                  "Carter, Allen, Henson 1989 (SEER, 24,740 cases): survival falls with each "
                  "additional positive node; AJCC Cancer Staging Manual, 8th edition"),
    AdverseFactor("clin__tumor_size_mm", "tumour size",
                  "Carter, Allen, Henson 1989: survival falls with tumour size within every "
                  "nodal group; AJCC 8th edition T categories"),
    AdverseFactor("clin__grade", "histological grade",
                  "Elston and Ellis 1991 (Nottingham grade): grade 3 carries the worst "
                  "prognosis"),
    AdverseFactor("clin__stage", "AJCC stage", "AJCC Cancer Staging Manual, 8th edition"),
    AdverseFactor("clin__t_category", "T category", "AJCC Cancer Staging Manual, 8th edition"),
    AdverseFactor("clin__n_category", "N category", "AJCC Cancer Staging Manual, 8th edition"),
    AdverseFactor("clin__npi", "Nottingham prognostic index",
                  "Galea et al. 1992: a higher index, a worse prognosis"),
)
ADVERSE_FEATURES = tuple(f.feature for f in ADVERSE_FACTORS)


def monotone_constraints(features: Sequence[str], margin_sign: int = 1) -> tuple[int, ...]:
    """xgboost's ``monotone_constraints`` for columns ``features``: ``margin_sign`` (+1 when
    the model's margin is its risk, -1 when the risk is minus the margin, as for the AFT
    model's log time) on the adverse factors, 0 elsewhere."""
    return tuple(margin_sign if name in ADVERSE_FEATURES else 0 for name in features)
