"""The cBioPortal study loader on small studies written in code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.cohorts import CohortError, load_cbioportal_study
from tests.support.study_builder import (
    MAF_COLUMNS,
    MAF_ROWS,
    SAMPLE_COLUMNS,
    SAMPLE_ROWS,
    write_study,
    write_table,
)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_study(tmp_path / "study")


def recoding(report, column: str, raw: str) -> tuple[str | None, int]:
    matches = [(to, n) for (col, frm, to), n in report.recodings.items()
               if col == column and frm == raw]
    assert len(matches) == 1, (column, raw, report.recodings)
    return matches[0]


def test_tables_and_counts(study: Path) -> None:
    cohort, report = load_cbioportal_study(study)
    assert list(cohort.patients.index) == ["P1", "P2", "P3", "P4"]
    assert len(cohort.samples) == 5
    assert cohort.samples.loc["S1M", "sample_type"] == "metastasis"
    assert report.counts["mutation_rows_read"] == 6
    assert len(cohort.mutations) == 5
    assert cohort.metadata["name"] == "tiny_study"


def test_codings_are_normalised_and_reported(study: Path) -> None:
    cohort, report = load_cbioportal_study(study)
    assert cohort.patients["er_status"].tolist()[:3] == ["positive", "negative", "positive"]
    assert recoding(report, "ER_IHC", "Positve") == ("positive", 1)
    assert recoding(report, "ER_IHC", "pos") == ("positive", 1)
    assert recoding(report, "RFS_STATUS", "1:Recurred") == ("event", 2)
    assert recoding(report, "AGE_AT_DIAGNOSIS", "[Not Available]") == (None, 1)
    assert pd.isna(cohort.patients.loc["P4", "age_years"])


def test_attributes_the_patient_file_lacks_come_from_the_primary_sample(study: Path) -> None:
    cohort, report = load_cbioportal_study(study)
    assert pd.isna(cohort.patients.loc["P4", "er_status"])  # ER_IHC is the patient's column
    assert cohort.patients.loc["P1", "pr_status"] == "positive"  # from S1, not metastasis S1M
    assert cohort.patients.loc["P2", "stage"] == 2  # "IIB" folded to stage 2
    assert cohort.patients.loc["P4", "stage"] == 3
    assert any("pr_status: 4 values taken from the primary sample" in w for w in report.warnings)


def test_endpoints_discovered_with_incomplete_rows_reported(study: Path) -> None:
    cohort, report = load_cbioportal_study(study)
    assert cohort.endpoints == ["rfs", "os"]
    summary = cohort.outcome_summary()["rfs"]
    assert summary["n_known"] == 3
    assert summary["n_events"] == 1
    assert summary["n_status_event"] == 2
    assert summary["n_time_missing"] == 1
    reasons = {(e.table, e.reason): e.count for e in report.exclusions}
    assert reasons[("outcomes.rfs", "RFS_MONTHS missing")] == 1


def test_mutations_silent_marked_unknown_gene_counted_symbol_updated(study: Path) -> None:
    cohort, report = load_cbioportal_study(study)
    muts = cohort.mutations.set_index("gene")
    assert bool(muts.loc["CDH1", "non_silent"]) is False
    assert "KMT2C" in muts.index
    assert "MLL3" not in muts.index
    assert recoding(report, "Hugo_Symbol", "MLL3") == ("KMT2C", 1)
    assert muts.loc["PIK3CA", "protein_change"] == "H1047R"
    assert muts.loc["PIK3CA", "vaf"] == pytest.approx(0.4)
    assert report.excluded_count("mutations") == 1


def test_panels_make_unprofiled_genes_unknown(study: Path) -> None:
    cohort, _ = load_cbioportal_study(study)
    assert cohort.samples.loc["S1", "mutation_panel"] == "PANEL_A"
    assert pd.isna(cohort.samples.loc["S4", "mutation_panel"])
    panel_a = set(cohort.panels.query("panel_id == 'PANEL_A'")["gene"])
    assert "ESR1" not in panel_a
    assert "KMT2C" in panel_a


def test_copy_number_keeps_fractional_non_neutral_calls(study: Path) -> None:
    cohort, report = load_cbioportal_study(study)
    calls = cohort.copy_number.set_index(["sample_id", "gene"])["level"]
    assert calls.loc[("S1M", "MDM4")] == 1.5
    assert calls.loc[("S1", "PTEN")] == -2
    assert len(calls) == 5
    assert report.counts["cna_values_missing"] == 1


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("with_meta_header", [True, False])
def test_line_endings_and_metadata_headers(tmp_path: Path, newline: str,
                                           with_meta_header: bool) -> None:
    folder = write_study(tmp_path / "s", newline=newline, with_meta_header=with_meta_header)
    cohort, _ = load_cbioportal_study(folder)
    reference, _ = load_cbioportal_study(write_study(tmp_path / "ref"))
    assert cohort.digest() == reference.digest()


def test_utf8_bom_is_ignored(study: Path) -> None:
    path = study / "data_clinical_sample.txt"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    cohort, _ = load_cbioportal_study(study)
    assert "S1" in cohort.samples.index


def test_latin1_file_read_with_a_warning(study: Path) -> None:
    rows = [[*row, "f\xe9mur" if row[1] == "S1M" else ""] for row in SAMPLE_ROWS]
    path = write_table(study / "data_clinical_sample.txt", [*SAMPLE_COLUMNS, "SAMPLE_SITE"], rows)
    path.write_bytes(path.read_text().encode("latin-1"))
    cohort, report = load_cbioportal_study(study)
    assert cohort.samples.loc["S1M", "site"] == "f\xe9mur"
    assert any("not valid UTF-8 (first bad byte on line 3)" in w for w in report.warnings)


# ---- errors naming file, line and column -------------------------------------------------


def _expect_error(folder: Path, pattern: str) -> CohortError:
    with pytest.raises(CohortError, match=pattern) as info:
        load_cbioportal_study(folder)
    return info.value


def test_missing_required_file(study: Path) -> None:
    (study / "data_clinical_patient.txt").unlink()
    _expect_error(study, r"required patient clinical file is missing")


def test_duplicate_patient_id(study: Path) -> None:
    path = study / "data_clinical_patient.txt"
    path.write_text(path.read_text() + "P2\t50\tNegative\tNO\t10\t0:x\t10\t0:LIVING\n")
    error = _expect_error(study, r"duplicate identifier 'P2'")
    assert (error.file, error.line, error.column) == ("data_clinical_patient.txt", 10,
                                                      "PATIENT_ID")


def test_sample_of_unknown_patient(study: Path) -> None:
    write_table(study / "data_clinical_sample.txt", SAMPLE_COLUMNS,
                [*SAMPLE_ROWS, ["P9", "S9", "Primary", "", "", "", "", "", "", ""]])
    error = _expect_error(study, r"patient 'P9' is not in the patients table")
    assert (error.file, error.line, error.column) == ("data_clinical_sample.txt", 7,
                                                      "PATIENT_ID")


@pytest.mark.parametrize(("value", "problem"), [("-3", "out of range"),
                                                 ("twelve", "is not a number")])
def test_bad_time(study: Path, value: str, problem: str) -> None:
    path = study / "data_clinical_patient.txt"
    path.write_text(path.read_text().replace("\t80\t0:Not Recurred", f"\t{value}\t0:Not Recurred"))
    error = _expect_error(study, problem)
    assert (error.file, error.line, error.column) == ("data_clinical_patient.txt", 7,
                                                      "RFS_MONTHS")


@pytest.mark.parametrize("column", ["Hugo_Symbol", "Tumor_Sample_Barcode"])
def test_maf_without_required_column(study: Path, column: str) -> None:
    columns = [c if c != column else "Something_Else" for c in MAF_COLUMNS]
    write_table(study / "data_mutations_extended.txt", columns, MAF_ROWS)
    error = _expect_error(study, r"required MAF column is missing")
    assert (error.file, error.column) == ("data_mutations_extended.txt", column)


def test_truncated_last_line(study: Path) -> None:
    path = study / "data_mutations_extended.txt"
    path.write_bytes(path.read_bytes() + b"TP53\t7157\tMissense_Mutation\tS2")
    error = _expect_error(study, r"truncated last line: 4 tab-separated fields")
    assert (error.file, error.line) == ("data_mutations_extended.txt", 9)
    assert error.column == "Tumor_Sample_Barcode"


def test_binary_file(study: Path) -> None:
    (study / "data_clinical_patient.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    _expect_error(study, r"data_clinical_patient.txt: binary data")


def test_bad_copy_number_value_names_sample_column(study: Path) -> None:
    write_table(study / "data_cna.txt", ["Hugo_Symbol", "S1", "S2"], [["MYC", "2", "amp"]])
    error = _expect_error(study, r"'amp' is not a copy-number level")
    assert (error.file, error.line, error.column) == ("data_cna.txt", 2, "S2")


def test_comma_separated_file(study: Path) -> None:
    (study / "data_clinical_sample.txt").write_text("PATIENT_ID,SAMPLE_ID\nP1,S1\n")
    _expect_error(study, r"line 1: header is separated by commas")


def test_unknown_category_set_to_missing_and_counted(study: Path) -> None:
    path = study / "data_clinical_sample.txt"
    path.write_text(path.read_text().replace("Metastasis", "Xenograft"))
    cohort, report = load_cbioportal_study(study)
    assert pd.isna(cohort.samples.loc["S1M", "sample_type"])
    reasons = [e.reason for e in report.exclusions if e.table == "values"]
    assert any("unrecognised sample_type 'Xenograft'" in r and "line 3" in r for r in reasons)
