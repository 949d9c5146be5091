"""When each patient's metastatic disease began (months from diagnosis): the boundary between
early-setting therapy (line 0) and metastatic lines.

The earliest of: metastatic at diagnosis (0), a dated metastatic diagnosis or recurrence event,
a distant relapse (a ``drfs``/``dmfs`` event) and the first metastatic or recurrence sample. A
recorded progression is metastatic disease too, but not its start: when it comes before any of
these, the line running at it is taken as metastatic from its start
(:func:`features.cohorts.treatments.lines.derive_lines`). A patient with none of them has no
known onset: all her therapy is early-setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Endpoints whose event is a distant (metastatic) relapse.
DISTANT_RELAPSE_ENDPOINTS = ("drfs", "dmfs")
#: Sample types taken from metastatic or recurrent disease.
METASTATIC_SAMPLES = ("metastasis", "recurrence")


def metastatic_onset(patients: pd.DataFrame, samples: pd.DataFrame, outcomes: pd.DataFrame,
                     events: list[pd.DataFrame]) -> pd.Series:
    """Per patient (``patients``' index), the onset in months from diagnosis (NA: unknown).
    ``events`` are frames of ``patient_id`` and ``months`` (dated onset events)."""
    candidates = [pd.Series(np.where(
        patients["de_novo_metastatic"].fillna(False).astype(bool), 0.0, np.nan),
        index=patients.index)]
    for name in DISTANT_RELAPSE_ENDPOINTS:
        time, event = f"{name}_months", f"{name}_event"
        if time in outcomes.columns and event in outcomes.columns:
            happened = outcomes[event].fillna(False).astype(bool)
            candidates.append(outcomes[time].astype(float).where(happened))
    if len(samples) and "collection_months" in samples.columns:
        metastatic = samples[samples["sample_type"].isin(METASTATIC_SAMPLES)]
        candidates.append(metastatic.groupby("patient_id")["collection_months"].min()
                          .astype(float))
    for frame in events:
        if len(frame):
            candidates.append(frame.groupby("patient_id")["months"].min().astype(float))
    onset = pd.concat([c.reindex(patients.index) for c in candidates], axis=1).min(axis=1)
    return onset.astype(float)
