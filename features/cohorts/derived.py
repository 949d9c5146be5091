"""Columns derived from other cohort columns, by published conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd


def receptor_subtype(er: object, pr: object, her2: object) -> str:
    """Receptor subtype from ER, PR and HER2 status at diagnosis (each ``positive``,
    ``negative``, ``equivocal`` or missing).

    ``her2_pos`` if HER2 is positive; otherwise ``hr_pos_her2_neg`` if ER or PR is positive and
    HER2 negative; ``triple_negative`` if all three are negative; ``unknown`` when the statuses
    that decide are missing or equivocal.
    """
    if her2 == "positive":
        return "her2_pos"
    if her2 == "negative":
        if er == "positive" or pr == "positive":
            return "hr_pos_her2_neg"
        if er == "negative" and pr == "negative":
            return "triple_negative"
    return "unknown"


def derive_receptor_subtype(patients: pd.DataFrame) -> pd.Series:
    """:func:`receptor_subtype` of every patient (columns ``er_status``, ``pr_status``,
    ``her2_status``; a missing column is missing for everyone)."""
    def column(name: str) -> list[object]:
        if name in patients.columns:
            return patients[name].astype("object").tolist()
        return [None] * len(patients)

    subtypes = [receptor_subtype(er, pr, her2) for er, pr, her2 in zip(
        column("er_status"), column("pr_status"), column("her2_status"), strict=True)]
    return pd.Series(subtypes, index=patients.index, dtype="object")


def derive_de_novo_metastatic(patients: pd.DataFrame) -> tuple[pd.Series, int]:
    """``de_novo_metastatic`` where the study did not say it: True for M1 or AJCC stage IV at
    diagnosis (no relapse-free interval), False for M0; a value the study gives is kept.
    Returns the column and how many values were derived."""
    given = (patients["de_novo_metastatic"] if "de_novo_metastatic" in patients.columns
             else pd.Series(pd.NA, index=patients.index, dtype="boolean")).astype("boolean")

    def number(name: str) -> pd.Series:
        if name not in patients.columns:
            return pd.Series(np.nan, index=patients.index)
        return patients[name].astype("Float64").astype(float)

    m, stage = number("m_category"), number("stage")
    derived = pd.Series(pd.NA, index=patients.index, dtype="boolean")
    derived[(m == 0).to_numpy()] = False
    derived[((m == 1) | (stage == 4)).to_numpy()] = True
    fill = given.isna() & derived.notna()
    return given.where(~fill, derived), int(fill.sum())
