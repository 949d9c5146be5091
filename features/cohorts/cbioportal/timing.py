"""When each sample was taken, relative to diagnosis: the clock the time-origin rule needs.

Studies give it in months or days from diagnosis (``COLLECTION_MONTHS``,
``DAYS_TO_COLLECTION``), or on the birth clock: the age at sequencing or collection, which with
the patient's age at diagnosis gives months from diagnosis. When neither is given, the sample
type decides (:func:`features.time_origin.eligible_samples`: a primary tumour counts as taken at
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
    specimens = report.counts.get("samples_placed_by_specimen_events", 0)
    from_events = f" ({specimens} of them by specimen events in the timeline)" if specimens else ""
    report.warn(f"sample timing: {direct} samples placed by their collection time from "
                f"diagnosis{from_events}, {birth_clock} by age at collection minus age at "
                "diagnosis (birth "
                f"clock), {by_type} without a time (the sample type decides: a primary tumour "
                "at diagnosis, any other sample after it)")


#: A specimen event and a sample attribute agree when they place a sample within this many
#: months of each other (both count days from diagnosis).
SPECIMEN_TOLERANCE_MONTHS = 1.0


def place_by_specimens(samples: pd.DataFrame, specimens: pd.DataFrame,
                       report: LoadReport) -> pd.DataFrame:
    """``samples`` with ``collection_months`` taken from the timeline's specimen events
    (``sample_id``, ``months``) where the sample file gives none. A specimen event of a sample
    the sample file lacks, of another patient, or that disagrees with the sample file's time
    is an error naming the timeline file and line."""
    if specimens.empty:
        return samples
    given = (samples["collection_months"].astype(float) if "collection_months" in samples
             else pd.Series(np.nan, index=samples.index))
    placed = 0
    for row in specimens.itertuples(index=False):
        where = {"file": row.file, "line": row.line, "column": "SAMPLE_ID"}
        if row.sample_id not in samples.index:
            raise CohortError(f"specimen event of sample {row.sample_id!r}, which is not in "
                              "the sample file", **where)
        if samples.at[row.sample_id, "patient_id"] != row.patient_id:
            raise CohortError(f"specimen event puts sample {row.sample_id!r} on patient "
                              f"{row.patient_id!r}; the sample file on "
                              f"{samples.at[row.sample_id, 'patient_id']!r}", **where)
        known = given[row.sample_id]
        if pd.notna(known) and abs(known - row.months) > SPECIMEN_TOLERANCE_MONTHS:
            raise CohortError(
                f"sample {row.sample_id!r}: taken {row.months:.1f} months after diagnosis by "
                f"its specimen event but {known:.1f} by the sample file",
                file=row.file, line=row.line, column="START_DATE",
                expected=f"times that agree within {SPECIMEN_TOLERANCE_MONTHS:g} month")
        if pd.isna(known):
            given[row.sample_id] = row.months
            placed += 1
    samples["collection_months"] = given.astype("Float64")
    report.counts["samples_placed_by_specimen_events"] = placed
    return samples
