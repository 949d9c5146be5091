"""When a task's prediction is made, and which samples may inform it then: only samples taken
at or before a patient's time origin are eligible for features (``CLINICAL.md``, "Time origin and
leakage")."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from features.cohorts.cohort import Cohort

#: Samples of unknown collection time taken to be from diagnosis (primary tumours only).
DIAGNOSIS_SAMPLE_TYPES = ("primary",)


@dataclass(frozen=True)
class TimeOrigin:
    """When a task's prediction is made: each patient's origin (months from diagnosis), whether
    it is diagnosis or the start of a treatment line, and which sample types may inform it."""

    description: str
    months: pd.Series
    sample_types: tuple[str, ...]

    @property
    def at_diagnosis(self) -> bool:
        """True when the origin is diagnosis (no metastatic information known yet)."""
        return self.description == "diagnosis"


def eligible_samples(cohort: Cohort, sample_types: tuple[str, ...],
                     origin_months: pd.Series) -> pd.DataFrame:
    """Samples usable at each patient's origin: of an allowed type, collected at or before it.

    A sample with no collection time counts as taken at diagnosis if it is a primary tumour,
    and as not known at the origin otherwise.
    """
    samples = cohort.samples[cohort.samples["patient_id"].isin(origin_months.index)]
    samples = samples[samples["sample_type"].isin(sample_types).to_numpy()]
    collected = samples["collection_months"].astype(float)
    collected = collected.where(collected.notna() | ~samples["sample_type"].isin(
        DIAGNOSIS_SAMPLE_TYPES).to_numpy(), 0.0)
    origin = origin_months.reindex(samples["patient_id"]).to_numpy()
    return samples[(collected.to_numpy() <= origin + 1e-9)]
