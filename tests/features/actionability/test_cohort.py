"""The cohort view of actionability: each patient's findings from every sample, and the share
of metastatic patients with a tier I or II finding, checked on the synthetic cohort against its
planted alterations read directly, and reported as not comparable on METABRIC (an
early-disease cohort)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.actionability.cohort import (
    FINDING_SEPARATOR,
    cohort_view,
    metastatic_patients,
    patient_findings,
)
from features.actionability.table import load_table
from features.cohorts.sources import load_cohort

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic():  # noqa: ANN201 - a Cohort
    return load_cohort("synthetic")[0]


def _planted_tier_one_or_two(cohort) -> set[str]:  # noqa: ANN001
    """Patients whose planted alterations the table ranks I or II, read straight from the
    tables: the table's rules restated as filters."""
    table = load_table()
    mutations = cohort.mutations[cohort.mutations["non_silent"].fillna(True).astype(bool)]
    hits = []
    for rule in table.rules:
        if rule.origin == "germline" or rule.gene in ("BRCA1", "BRCA2"):
            continue  # no origin in cohort calls
        if rule.alteration == "mutation":
            rows = mutations[mutations["gene"] == rule.gene]
            if rule.protein_changes:
                rows = rows[rows["protein_change"].isin(rule.protein_changes)]
            hits.append(rows["sample_id"])
        elif rule.alteration in ("amplification", "deletion"):
            cna = cohort.copy_number[cohort.copy_number["gene"] == rule.gene]
            level = cna["level"] >= 1.5 if rule.alteration == "amplification" else (
                cna["level"] <= -1.5)
            hits.append(cna.loc[level, "sample_id"])
    samples = pd.concat(hits).unique()
    return set(cohort.samples.loc[cohort.samples.index.isin(samples), "patient_id"])


def test_the_synthetic_share_matches_its_planted_alterations(synthetic) -> None:  # noqa: ANN001
    view = cohort_view(synthetic)
    metastatic = set(metastatic_patients(synthetic))
    expected = _planted_tier_one_or_two(synthetic) & metastatic
    assert view["with_tier_i_or_ii"] == len(expected)
    assert view["metastatic_patients"] == len(metastatic)
    assert view["comparable"]
    assert view["share"] == round(len(expected) / len(metastatic), 4)
    assert 0.3 < view["share"] < 0.7  # AURORA: 51% of metastatic patients
    findings = patient_findings(synthetic)
    assert set(findings.index[(findings["escat_tier_i"] + findings["escat_tier_ii"]) > 0]) == (
        _planted_tier_one_or_two(synthetic))


def test_a_finding_in_two_samples_counts_once(synthetic) -> None:  # noqa: ANN001
    findings = patient_findings(synthetic)
    for patient, row in findings[findings["escat_tier_i"] > 0].head(50).iterrows():
        sentences = row["escat_findings"].split(FINDING_SEPARATOR)
        assert len(sentences) == len(set(sentences)), patient
        assert row["escat_tier_i"] + row["escat_tier_ii"] == len(sentences)


def test_metabric_is_an_early_cohort_whose_share_is_not_comparable(metabric_dir: Path) -> None:
    cohort = load_cohort(str(metabric_dir))[0]
    view = cohort_view(cohort)
    assert not view["comparable"]
    assert view["metastatic_patients"] < 0.05 * view["patients"]
    assert view["note"].startswith("not comparable: an early-disease cohort")
