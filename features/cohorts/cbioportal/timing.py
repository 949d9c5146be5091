"""When each sample was taken, relative to diagnosis: the clock the time-origin rule needs.

Studies give it in months or days from diagnosis (``COLLECTION_MONTHS``,
``DAYS_TO_COLLECTION``), or on the birth clock: the age at sequencing or collection, which with
the patient's age at diagnosis gives months from diagnosis. When neither is given, the sample
type decides (:func:`features.labels.eligible_samples`: a primary tumour counts as taken at
diagnosis, any other sample as taken after it). The report says which rule placed how many
samples; two clocks that disagree by more than :data:`TOLERANCE_MONTHS` are an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable

#: Two clocks agree when they place a sample within this many months of each other (ages are
#: often given in whole years or to one decimal).
TOLERANCE_MONTHS = 12.0


def place_samples(samples: pd.DataFrame, patients: pd.DataFrame, table: TextTable,
                  report: LoadReport) -> pd.DataFrame:
    """``samples`` with ``collection_months`` filled from the birth clock where the study gives
    only ages (the ``age_at_collection`` column, years, is consumed). ``table`` is the sample
    file, for errors."""
    if "age_at_collection" not in samples.columns:
        given = samples.get("collection_months", pd.Series(np.nan, index=samples.index))
        _report(report, int(given.notna().sum()), 0, len(samples))
        return samples
    age = samples.pop("age_at_collection").astype(float)
    if "age_years" not in patients.columns:
        raise CohortError("a sample's age at collection needs the patient's age at diagnosis",
                          file=table.name,
                          expected="an age-at-diagnosis column in the patient file")
    at_diagnosis = patients["age_years"].astype(float).reindex(samples["patient_id"]).to_numpy()
    from_birth = pd.Series((age.to_numpy() - at_diagnosis) * 12.0, index=samples.index)
    given = (samples["collection_months"].astype(float) if "collection_months" in samples
             else pd.Series(np.nan, index=samples.index))
    disagree = (given - from_birth).abs() > TOLERANCE_MONTHS
    if disagree.any():
        sample = disagree[disagree].index[0]
        row = samples.index.get_loc(sample)
        raise CohortError(
            f"sample {sample!r}: collected {given[sample]:.1f} months after diagnosis by one "
            f"clock but {from_birth[sample]:.1f} by the ages (birth clock)",
            file=table.name, line=table.lines[row] if row < len(table.lines) else None,
            expected=f"clocks that agree within {TOLERANCE_MONTHS:g} months")
    fill = given.isna() & from_birth.notna()
    samples["collection_months"] = given.where(~fill, from_birth).astype("Float64")
    _report(report, int(given.notna().sum()), int(fill.sum()), len(samples))
    return samples


def _report(report: LoadReport, direct: int, birth_clock: int, total: int) -> None:
    if total == 0:
        return
    by_type = total - direct - birth_clock
    report.warn(f"sample timing: {direct} samples placed by their collection time from "
                f"diagnosis, {birth_clock} by age at collection minus age at diagnosis (birth "
                f"clock), {by_type} without a time (the sample type decides: a primary tumour "
                "at diagnosis, any other sample after it)")
