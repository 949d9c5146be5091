"""Built-in GBSG2 and the real METABRIC study (from MBCRISK_DATA_DIR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from features import load_cbioportal_study, load_cohort


def test_gbsg2_counts_and_units() -> None:
    cohort, report = load_cohort("gbsg2")
    assert len(cohort.patients) == 686
    assert cohort.outcome_summary()["rfs"]["n_known"] == 686
    assert cohort.outcome_summary()["rfs"]["n_events"] == 299
    # First row of lifelines' gbsg2.csv: 1814 days to recurrence.
    assert cohort.outcomes["rfs_months"].iloc[0] == pytest.approx(1814 / 30.4375)
    assert cohort.patients["grade"].dropna().isin([1, 2, 3]).all()
    assert not cohort.synthetic


@pytest.mark.realdata
def test_metabric_patients_outcomes_and_recoding(metabric_dir: Path) -> None:
    cohort, report = load_cbioportal_study(metabric_dir)
    assert len(cohort.patients) == 2509
    rfs = cohort.outcome_summary()["rfs"]
    # SOURCE.md: RFS_STATUS 1,002 recurred / 1,486 not / 21 missing; RFS_MONTHS missing for 121.
    assert (rfs["n_status_event"], rfs["n_status_censored"]) == (1002, 1486)
    assert (rfs["n_status_missing"], rfs["n_time_missing"]) == (21, 121)
    assert rfs["n_known"] == 2509 - len(
        cohort.outcomes.query("rfs_months.isna() or rfs_event.isna()", engine="python"))
    assert report.recodings[("ER_IHC", "Positve", "positive")] == 1817
    assert len(cohort.mutations) + report.excluded_count("mutations") == 17272
    assert set(cohort.samples["mutation_panel"].dropna()) == {"METABRIC_173"}
    assert len(cohort.panels) == 173


@pytest.mark.realdata
def test_metabric_er_positive_hormone_therapy_count(metabric_dir: Path) -> None:
    cohort, _ = load_cbioportal_study(metabric_dir)
    patients = cohort.patients
    positive_treated = (patients["er_status"] == "positive") & patients["received_endocrine"]
    # SOURCE.md: 1,104 ER+ (by IHC, the patient file's ER_IHC) received hormone therapy.
    assert int(positive_treated.fillna(False).sum()) == 1104
