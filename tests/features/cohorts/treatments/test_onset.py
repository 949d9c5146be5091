"""The metastatic onset: the earliest dated sign of metastatic disease."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.treatments.onset import metastatic_onset


def test_the_earliest_sign_dates_the_onset() -> None:
    patients = pd.DataFrame({"de_novo_metastatic": [True, False, False, False, False]},
                            index=["A", "B", "C", "D", "E"])
    samples = pd.DataFrame({"patient_id": ["B", "C", "C"],
                            "sample_type": ["metastasis", "primary", "recurrence"],
                            "collection_months": [30.0, 0.0, 12.0]})
    outcomes = pd.DataFrame({"drfs_months": [np.nan, 40.0, 50.0, 20.0, 80.0],
                             "drfs_event": [pd.NA, True, True, True, False]},
                            index=patients.index)
    events = [pd.DataFrame({"patient_id": ["C", "D"], "months": [15.0, 25.0]})]
    onset = metastatic_onset(patients, samples, outcomes, events)
    assert onset["A"] == 0.0  # metastatic at diagnosis
    assert onset["B"] == 30.0  # the metastasis biopsy before the distant relapse
    assert onset["C"] == 12.0  # the recurrence sample (a primary sample is no sign)
    assert onset["D"] == 20.0  # the distant relapse before the event
    assert np.isnan(onset["E"])  # censored: no sign of metastatic disease
