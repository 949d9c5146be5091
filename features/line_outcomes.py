"""How a treatment line ended, for its labels: its first progression, death during it, or
censoring at its end (the next line's start) or at the end of follow-up. Times in months from
diagnosis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.cohort import Cohort


def line_outcomes(cohort: Cohort, lines: pd.DataFrame) -> pd.DataFrame:
    """For lines indexed by patient: ``time_months`` (from diagnosis) of the line's first
    progression, or of death during the line, else of its end (the line's stop, else the end
    of follow-up: censored), and ``event`` (progression or death). A line's progression is its
    ``progression_months``, or its stop when it stopped for progression; death comes from the
    line's stop reason or the overall-survival endpoint."""
    start = lines["start_months"].astype(float)
    stop = lines["stop_months"].astype(float)
    recorded = lines["progression_months"].astype(float)
    # a recorded progression is observed: follow-up ends no earlier (nor unknown) for it
    end = stop.fillna(np.fmax(follow_up_end(cohort, lines.index), recorded))
    reason = lines["reason_stopped"].astype("object")
    progression = recorded.fillna(stop.where(reason == "progression"))
    progressed = (progression.notna() & (progression > start) & (progression <= end)).fillna(
        False)
    death = death_months(cohort, lines.index)
    died_on_stop = ((reason == "death") & stop.notna()).fillna(False)
    died_recorded = (death.notna() & (death <= end)).fillna(False)
    died = ~progressed & (died_on_stop | died_recorded)
    time = end.where(~(died & ~died_on_stop), death).where(~progressed, progression)
    return pd.DataFrame({"time_months": time, "event": (progressed | died).astype(bool),
                         "progressed": progressed.astype(bool), "died": died.astype(bool)},
                        index=lines.index)


def death_months(cohort: Cohort, patients: pd.Index) -> pd.Series:
    """Months from diagnosis to death for patients who died (overall survival), else NA."""
    if "os" not in cohort.endpoints:
        return pd.Series(np.nan, index=patients)
    os = cohort.endpoint("os").reindex(patients)
    return os["time_months"].astype(float).where(os["event"].fillna(False).astype(bool))


def follow_up_end(cohort: Cohort, patients: pd.Index) -> pd.Series:
    """Months from diagnosis to the end of follow-up: the overall-survival time when known."""
    if "os" in cohort.endpoints:
        return cohort.endpoint("os")["time_months"].reindex(patients).astype(float)
    return pd.Series(np.nan, index=patients)
