"""The treatment block of the design: what a patient had received, and is starting, at her
time origin (adjuvant therapy at diagnosis; at a line, the prior lines, their classes and the
therapy of the line starting at the origin). Treatment inputs are markers of the clinicians'
judgement of risk, never effects (:data:`features.pipeline.TREATMENT_GROUP`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.cohort import Cohort
from features.therapies import THERAPY_GROUPS
from features.time_origin import TimeOrigin


def treatment_features(cohort: Cohort, origin: TimeOrigin) -> pd.DataFrame:
    """Treatment known at the origin: adjuvant therapy at diagnosis; at a line, prior lines
    and the therapy class of the line starting at the origin (``clin__current_<group>``)."""
    index = origin.months.index
    lines = cohort.treatments[cohort.treatments["patient_id"].isin(index)]
    if origin.at_diagnosis:
        if not cohort.has_treatment_lines:
            flags = cohort.patients.loc[index]
            return pd.DataFrame({
                "clin__adjuvant_chemotherapy": flags["received_chemotherapy"].astype(float),
                "clin__adjuvant_endocrine": flags["received_endocrine"].astype(float),
                "clin__adjuvant_anti_her2": flags["received_anti_her2"].astype(float),
                "clin__radiotherapy": flags["received_radiotherapy"].astype(float),
            }, index=index)
        adjuvant = lines[lines["setting"].isin(["adjuvant", "neoadjuvant"])]
        return pd.DataFrame({
            f"clin__adjuvant_{group}": _any_line(adjuvant, index, classes)
            for group, classes in THERAPY_GROUPS.items()
        } | {"clin__radiotherapy": cohort.patients.loc[index, "received_radiotherapy"]
             .astype(float)}, index=index)
    start = origin.months.reindex(lines["patient_id"]).to_numpy()
    dated = lines["start_months"].to_numpy(dtype=float, na_value=np.nan)
    at_origin = lines[np.isclose(dated, start)]
    dated_before = lines[dated < start - 1e-9]
    undated = _undated_before(lines, at_origin)
    before = pd.concat([dated_before, undated])
    frame = pd.DataFrame({
        f"clin__prior_{group}": _any_line(before, index, classes)
        for group, classes in THERAPY_GROUPS.items()
    }, index=index)
    frame["clin__prior_cdk46_inhibitor"] = _any_line(before, index, ("endocrine_cdk46",),
                                                     agent_class="cdk46_inhibitor")
    frame["clin__prior_lines"] = _prior_line_count(dated_before, undated, at_origin, index)
    # the line at the origin of unknown class (or none dated there): its therapy is unknown
    known = index.isin(at_origin.loc[at_origin["therapy_class"].notna(), "patient_id"])
    for group, classes in THERAPY_GROUPS.items():
        frame[f"clin__current_{group}"] = _any_line(at_origin, index, classes).where(known)
    frame["clin__with_cdk46_inhibitor"] = _any_line(at_origin, index,
                                                    ("endocrine_cdk46",)).where(known)
    frame["clin__months_from_diagnosis"] = origin.months.astype(float)
    return frame


def _prior_line_count(dated: pd.DataFrame, undated: pd.DataFrame, at_origin: pd.DataFrame,
                      index: pd.Index) -> pd.Series:
    """Lines before the origin: the distinct dated ones (an adjuvant line counts as one); a
    patient with undated prior lines (a per-line summary's) has as many metastatic lines before
    hers as her line's number says."""
    distinct = dated.drop_duplicates(["patient_id", "setting", "line"])
    count = distinct.groupby("patient_id").size().reindex(index, fill_value=0).astype(float)
    if undated.empty:
        return count
    metastatic = distinct[distinct["setting"] == "metastatic"].groupby("patient_id").size()
    number = at_origin.groupby("patient_id")["line"].min().astype(float)
    patients = pd.Index(undated["patient_id"].unique())
    implied = (number.reindex(patients) - 1.0 - metastatic.reindex(patients, fill_value=0))
    return count.add(implied.clip(lower=0.0).fillna(0.0), fill_value=0.0).reindex(index)


def _undated_before(lines: pd.DataFrame, at_origin: pd.DataFrame) -> pd.DataFrame:
    """Undated metastatic lines numbered below the line at the origin (a per-line summary's
    prior-exposure flags): prior lines without a date."""
    undated = lines[lines["start_months"].isna() & (lines["setting"] == "metastatic")]
    origin_line = at_origin.groupby("patient_id")["line"].min().astype(float)
    below = (undated["line"].to_numpy(dtype=float, na_value=np.nan)
             < origin_line.reindex(undated["patient_id"]).to_numpy(dtype=float))
    return undated[below]


def _any_line(lines: pd.DataFrame, index: pd.Index, classes: tuple[str, ...],
              agent_class: str | None = None) -> pd.Series:
    """1.0 for patients with a line of ``classes`` (or with an agent of ``agent_class``)."""
    hit = lines["therapy_class"].isin(classes).to_numpy(dtype=bool, copy=True)
    if agent_class is not None:
        hit |= lines["agent_classes"].fillna("").astype(str).str.split("+").map(
            lambda agents: agent_class in agents).to_numpy(dtype=bool)
    return pd.Series(index.isin(lines.loc[hit, "patient_id"]), index=index, dtype=float)
