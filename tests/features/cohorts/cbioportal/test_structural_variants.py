"""A study's structural-variant file (``data_sv.txt``): fusions kept with both genes and their
origin, other rearrangements kept as not fusions, bad rows counted, a file without a sample
column refused naming it; and an NTRK3 fusion reaching the cohort's actionability."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.actionability.cohort import patient_findings
from features.cohorts import CohortError, load_cbioportal_study
from features.cohorts.cbioportal.structural_variants import SV_READ
from tests.support.study_builder import write_study, write_table

SV_COLUMNS = ["Sample_Id", "Site1_Hugo_Symbol", "Site2_Hugo_Symbol", "Class", "Event_Info",
              "SV_Status", "Site1_Position"]
SV_ROWS = [
    ["S1M", "ETV6", "NTRK3", "FUSION", "ETV6-NTRK3 fusion", "SOMATIC", "11803000"],
    ["S2", "ESR1", "CCDC170", "DELETION", "ESR1-CCDC170 Fusion", "", "151690000"],
    ["S3", "BRCA2", "", "INVERSION", "", "SOMATIC", "32340000"],
    ["S9", "ETV6", "NTRK3", "FUSION", "", "SOMATIC", "1"],  # not in the sample file
    ["S1", "", "", "TRANSLOCATION", "", "", "1"],  # no gene at either site
]


def _with_sv(folder: Path, rows: list[list[str]], columns: list[str] = SV_COLUMNS) -> Path:
    study = write_study(folder)
    (study / "meta_sv.txt").write_text(
        "cancer_study_identifier: tiny_study\ngenetic_alteration_type: STRUCTURAL_VARIANT\n"
        "datatype: SV\nstable_id: structural_variants\ndata_filename: data_sv.txt\n")
    write_table(study / "data_sv.txt", columns, rows)
    return study


def test_fusions_keep_both_genes_and_their_origin_and_bad_rows_are_counted(
        tmp_path: Path) -> None:
    cohort, report = load_cbioportal_study(_with_sv(tmp_path / "study", SV_ROWS))
    calls = cohort.structural_variants.set_index("sample_id")
    assert list(calls.index) == ["S1M", "S2", "S3"]
    assert calls.loc["S1M", ["gene", "partner_gene", "fusion", "origin"]].tolist() == [
        "ETV6", "NTRK3", True, "somatic"]
    assert bool(calls.loc["S2", "fusion"])  # said in Event_Info
    assert calls["origin"].isna()["S2"]  # SV_Status empty: not stated
    assert not bool(calls.loc["S3", "fusion"])
    excluded = {e.reason.split(" (")[0]: e.count for e in report.exclusions
                if e.table == "structural_variants"}
    assert excluded == {"sample not in the sample file": 1, "no HGNC symbol at either site": 1}
    unread = {c for f, c in report.unknown_columns if f == "data_sv.txt"}
    assert unread == set(SV_COLUMNS) - set(SV_READ) == {"Site1_Position"}
    assert report.counts["structural_variants"] == 3


def test_an_ntrk3_fusion_is_a_tier_one_c_finding_of_its_patient(tmp_path: Path) -> None:
    cohort, _ = load_cbioportal_study(_with_sv(tmp_path / "study", SV_ROWS))
    findings = patient_findings(cohort)
    assert "NTRK3 fusion: ESCAT I-C for TRK inhibitor" in findings.loc["P1", "escat_findings"]
    assert "fusion" not in findings.loc["P3", "escat_findings"]  # an inversion, not a fusion


def test_a_file_without_a_sample_column_is_refused_naming_it(tmp_path: Path) -> None:
    study = _with_sv(tmp_path / "study", [row[1:] for row in SV_ROWS], SV_COLUMNS[1:])
    with pytest.raises(CohortError, match=r"data_sv\.txt.*Sample_Id"):
        load_cbioportal_study(study)
