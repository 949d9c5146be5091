"""GBSG2: the German Breast Cancer Study Group 2 trial (686 node-positive patients, 299
recurrences), as shipped inside the ``lifelines`` package.

Schumacher et al., J Clin Oncol 1994. Recurrence-free survival, recorded in days, is converted to
months (days / 30.4375). Receptor levels are kept in fmol/mg; ER and PR status are derived with
the usual cut-off of 10 fmol/mg. HER2 was not measured, so the receptor subtype is unknown.
"""

from __future__ import annotations

import pandas as pd

from features.cohorts.cohort import Cohort
from features.cohorts.derived import derive_receptor_subtype
from features.cohorts.report import LoadReport
from features.cohorts.units import days_to_months
from features.cohorts.validation import build_cohort

#: Receptor level (fmol/mg protein) at or above which ER/PR status is positive.
RECEPTOR_POSITIVE_FMOL_MG = 10.0

_GRADES = {"I": 1, "II": 2, "III": 3}
_MENOPAUSE = {"Pre": "pre", "Post": "post"}
_YES_NO = {"yes": True, "no": False}


def _recode(report: LoadReport, column: str, raw: pd.Series, mapping: dict) -> pd.Series:
    values = raw.map(mapping)
    for value, count in raw.value_counts().items():
        report.recode(column, str(value), str(mapping.get(value)), int(count))
    unknown = values.isna() & raw.notna()
    report.exclude("values", f"gbsg2 column {column}: unrecognised values set to missing",
                   int(unknown.sum()))
    return values


def load_gbsg2() -> tuple[Cohort, LoadReport]:
    """The GBSG2 cohort (recurrence-free survival as endpoint ``rfs``) and its load report."""
    from lifelines.datasets import load_gbsg2 as read_packaged_csv

    raw = read_packaged_csv()
    report = LoadReport(source="lifelines.datasets.load_gbsg2 (gbsg2.csv)")
    index = pd.Index([f"GBSG2-{i:04d}" for i in range(1, len(raw) + 1)], name="patient_id")
    raw = raw.set_axis(index)
    patients = pd.DataFrame(
        {
            "age_years": raw["age"].astype(float),
            "sex": "female",
            "menopausal_status": _recode(report, "menostat", raw["menostat"], _MENOPAUSE),
            "tumor_size_mm": raw["tsize"].astype(float),
            "grade": _recode(report, "tgrade", raw["tgrade"], _GRADES),
            "positive_nodes": raw["pnodes"],
            "er_fmol_mg": raw["estrec"].astype(float),
            "pr_fmol_mg": raw["progrec"].astype(float),
            "received_endocrine": _recode(report, "horTh", raw["horTh"], _YES_NO),
        },
        index=index,
    )
    for status, level in (("er_status", "er_fmol_mg"), ("pr_status", "pr_fmol_mg")):
        positive = patients[level] >= RECEPTOR_POSITIVE_FMOL_MG
        patients[status] = positive.map({True: "positive", False: "negative"})
        report.warn(f"{status} derived from {level} >= {RECEPTOR_POSITIVE_FMOL_MG:g}")
    patients["receptor_subtype"] = derive_receptor_subtype(patients)
    report.warn("HER2 not measured in GBSG2: receptor subtype is unknown for every patient")
    outcomes = pd.DataFrame(
        {
            "rfs_months": days_to_months(raw["time"].astype(float)),
            "rfs_event": raw["cens"].astype(bool),
        },
        index=index,
    )
    report.recode("time", "days", "months (/30.4375)", len(raw))
    report.counts = {"patients": len(patients), "samples": 0, "mutations": 0, "cna_calls": 0,
                     "treatment_lines": 0}
    metadata = {
        "name": "gbsg2",
        "title": "German Breast Cancer Study Group 2 (GBSG2)",
        "description": "686 node-positive breast cancer patients of a randomised trial of "
                       "hormonal treatment; recurrence-free survival.",
        "citation": "Schumacher et al., J Clin Oncol 1994",
        "source": "lifelines package data set",
        "synthetic": False,
    }
    return build_cohort(metadata, patients=patients, outcomes=outcomes), report
