"""Every dialect the alias table claims loads back to the same Cohort as cBioPortal's standard
folder, within the dialect's documented losses (``DIALECT_LOSSES``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.cohorts import CohortError, load_cbioportal_study
from features.cohorts.cbioportal.dialect_writer import DIALECT_LOSSES, write_study_dialect
from features.cohorts.cohort import Cohort
from features.cohorts.options import LoadOptions
from features.cohorts.synthetic import build_synthetic_cohort
from features.labels import relapse_labels
from tests.support.study_builder import (
    PATIENT_COLUMNS,
    PATIENT_ROWS,
    SAMPLE_COLUMNS,
    SAMPLE_ROWS,
    write_study,
    write_table,
)

N_PATIENTS = 300
MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """The synthetic cohort as read back from cBioPortal's standard folder."""
    cohort = build_synthetic_cohort(N_PATIENTS, 5)
    folder = write_study_dialect(cohort, tmp_path_factory.mktemp("standard"), "cbioportal")
    return load_cbioportal_study(folder)[0]


def _load(tmp_path: Path, dialect: str) -> tuple[Cohort, object]:
    cohort = build_synthetic_cohort(N_PATIENTS, 5)
    return load_cbioportal_study(write_study_dialect(cohort, tmp_path / dialect, dialect))


def _same(a: pd.DataFrame, b: pd.DataFrame, columns: list[str] | None = None) -> None:
    columns = list(a.columns) if columns is None else columns
    pd.testing.assert_frame_equal(a[columns], b[columns], check_exact=True)


def _panel_genes(cohort: Cohort) -> dict[str, set[str]]:
    return {panel: set(genes) for panel, genes in cohort.panels.groupby("panel_id")["gene"]}


def test_every_dialect_says_what_it_loses() -> None:
    assert set(DIALECT_LOSSES) == {"cbioportal", "metabric", "tcga", "genie", "clinical",
                                   "clinicogenomic", "line_summary"}


def test_metabric_dialect(tmp_path: Path, original: Cohort) -> None:
    cohort, report = _load(tmp_path, "metabric")
    with_primary = original.samples.loc[original.samples["sample_type"] == "primary",
                                        "patient_id"].unique()
    _same(original.patients.loc[with_primary], cohort.patients.loc[with_primary])
    others = original.patients.index.difference(with_primary)
    kept = [c for c in original.patients.columns if c not in ("grade", "stage", "tumor_size_mm")]
    _same(original.patients.loc[others], cohort.patients.loc[others], kept)
    for table in ("outcomes", "samples", "mutations", "copy_number", "panels", "treatments"):
        _same(original.table(table), cohort.table(table))
    assert report.recodings[("ER_IHC", "Positve", "positive")] > 0


def test_tcga_dialect(tmp_path: Path, original: Cohort) -> None:
    cohort, report = _load(tmp_path, "tcga")
    lost_or_added = {"tumor_size_mm", "positive_nodes", "t_category", "n_category",
                     "m_category"}
    kept = [c for c in original.patients.columns if c not in lost_or_added]
    _same(original.patients, cohort.patients, kept)
    size = original.patients["tumor_size_mm"].astype(float)
    expected_t = np.select([size <= 20, size <= 50, size > 50], [1.0, 2.0, 3.0], np.nan)
    np.testing.assert_array_equal(cohort.patients["t_category"].astype(float), expected_t)
    nodes = original.patients["positive_nodes"].astype(float)
    expected_n = np.select([nodes == 0, nodes <= 3, nodes <= 9, nodes >= 10],
                           [0.0, 1.0, 2.0, 3.0], np.nan)
    np.testing.assert_array_equal(cohort.patients["n_category"].astype(float), expected_n)
    assert cohort.patients["tumor_size_mm"].isna().all()
    for table in ("outcomes", "samples", "mutations", "copy_number", "panels", "treatments"):
        _same(original.table(table), cohort.table(table))
    missing_codes = sum(n for (_, raw, to), n in report.recodings.items()
                        if raw == "[Not Available]" and to is None)
    assert missing_codes > 0


def test_genie_dialect(tmp_path: Path, original: Cohort) -> None:
    folder = tmp_path / "genie"
    write_study_dialect(build_synthetic_cohort(N_PATIENTS, 5), folder, "genie")
    assert b"\r\n" in (folder / "data_clinical_sample.txt").read_bytes()
    assert not list(folder.glob("data_gene_panel*"))
    cohort, report = load_cbioportal_study(folder)
    _same(original.patients, cohort.patients)
    for table in ("outcomes", "mutations", "copy_number", "treatments"):
        _same(original.table(table), cohort.table(table))
    columns = [c for c in original.samples.columns if c != "collection_months"]
    _same(original.samples, cohort.samples, columns)
    np.testing.assert_allclose(cohort.samples["collection_months"].astype(float),
                               original.samples["collection_months"].astype(float),
                               atol=1e-3)
    inferred, defined = _panel_genes(cohort), _panel_genes(original)
    assert set(inferred) == set(defined)
    assert all(inferred[p] <= defined[p] for p in inferred)  # never more than the panel
    assert sum("inferred as the genes observed mutated" in w for w in report.warnings) == len(
        defined)
    assert any("by age at collection minus age at diagnosis" in w for w in report.warnings)


def test_clinical_only_dialect(tmp_path: Path, original: Cohort) -> None:
    cohort, report = _load(tmp_path, "clinical")
    _same(original.patients, cohort.patients)
    _same(original.outcomes, cohort.outcomes)
    assert cohort.samples.empty
    assert cohort.mutations.empty
    assert not cohort.has_samples
    assert any(w.startswith("no genomic data") for w in report.warnings)


# -- dialect errors: each a clear error naming file, line and column -----------------------

def _patients_with(study: Path, column: str, values: list[str]) -> None:
    rows = [[*row, value] for row, value in zip(PATIENT_ROWS, values, strict=True)]
    write_table(study / "data_clinical_patient.txt", [*PATIENT_COLUMNS, column], rows)


def test_a_tnm_value_that_parses_to_nothing(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    _patients_with(study, "PATH_T_STAGE", ["T2", "T1c", "T9", "TX"])
    with pytest.raises(CohortError, match="'T9' is not an AJCC T category") as info:
        load_cbioportal_study(study)
    assert (info.value.file, info.value.line, info.value.column) == (
        "data_clinical_patient.txt", 4, "PATH_T_STAGE")


def test_tnm_stage_and_grade_spellings(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    _patients_with(study, "PATH_M_STAGE", ["M0", "cM0(i+)", "M1", "MX"])
    cohort, report = load_cbioportal_study(study)
    assert cohort.patients["m_category"].tolist()[:3] == [0, 0, 1]
    assert cohort.patients["m_category"].isna().tolist()[3]
    assert cohort.patients.loc["P3", "de_novo_metastatic"]
    assert report.recodings[("PATH_M_STAGE", "MX", None)] == 1


def test_clocks_that_disagree(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    columns = [*SAMPLE_COLUMNS, "COLLECTION_MONTHS", "AGE_AT_SEQUENCING"]
    rows = [[*row, "0", ""] for row in SAMPLE_ROWS]
    rows[2][-2:] = ["0", "75"]  # S2 of P2 (45 at diagnosis): 0 months vs 360 months
    write_table(study / "data_clinical_sample.txt", columns, rows)
    with pytest.raises(CohortError, match="by the ages") as info:
        load_cbioportal_study(study)
    assert (info.value.file, info.value.line) == ("data_clinical_sample.txt", 4)


# -- the user's mapping file ----------------------------------------------------------------

def _rename_patient_columns(study: Path, renames: dict[str, str]) -> None:
    path = study / "data_clinical_patient.txt"
    text = path.read_text()
    for old, new in renames.items():
        text = text.replace(f"\t{old}\t", f"\t{new}\t")
    path.write_text(text)


def test_a_mapping_file_places_a_study_s_own_columns(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    clean, _ = load_cbioportal_study(study)
    _rename_patient_columns(study, {"AGE_AT_DIAGNOSIS": "Dx age yrs", "ER_IHC": "ER call"})
    _, report = load_cbioportal_study(study)
    assert ("data_clinical_patient.txt", "Dx age yrs") in report.unknown_columns
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[columns]\n"Dx age yrs" = "age_years"\n"ER call" = "er_status"\n'
                       '[values.er_status]\n"pos" = "positive"\n')
    cohort, report = load_cbioportal_study(study, LoadOptions(columns=mapping))
    pd.testing.assert_frame_equal(cohort.patients, clean.patients)
    assert report.unknown_columns == [c for c in report.unknown_columns
                                      if c[1] not in ("Dx age yrs", "ER call")]


def test_a_mapping_file_naming_an_absent_column(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[columns]\n"ER_IHC" = "er_status"\n"Not here" = "pr_status"\n')
    with pytest.raises(CohortError, match="maps column 'Not here'") as info:
        load_cbioportal_study(study, LoadOptions(columns=mapping))
    assert (info.value.file, info.value.line, info.value.column) == (
        str(mapping), 3, "Not here")


def test_a_mapping_file_with_an_unknown_target(tmp_path: Path) -> None:
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[columns]\n"Age" = "age in years"\n')
    with pytest.raises(CohortError, match="not a cohort field") as info:
        load_cbioportal_study(write_study(tmp_path / "study"), LoadOptions(columns=mapping))
    assert info.value.line == 2


def test_suggest_mapping_proposes_targets_the_user_checks(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    _rename_patient_columns(study, {"AGE_AT_DIAGNOSIS": "Dx age yrs"})
    result = subprocess.run([MBCRISK, "validate", str(study), "--suggest-mapping"],
                            capture_output=True, text=True, timeout=120, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith('"Dx age yrs"'))
    assert line.startswith('"Dx age yrs" = "age_years"  # data_clinical_patient.txt; '
                           "proposed: numbers 45 to 70: the name says age")
    assert "PATIENT_ID" not in result.stdout.split("[columns]")[1]
    suggested = tmp_path / "suggested.toml"
    suggested.write_text(result.stdout.replace('"Dx age yrs" = "age_years"',
                                               '"Dx age yrs" = "age"'))
    with pytest.raises(CohortError, match="not a cohort field"):
        load_cbioportal_study(study, LoadOptions(columns=suggested))
    suggested.write_text(result.stdout)  # the proposal as it is
    cohort, _ = load_cbioportal_study(study, LoadOptions(columns=suggested))
    assert cohort.patients.loc["P2", "age_years"] == 45


def test_suggest_mapping_reads_a_study_in_an_unknown_dialect(tmp_path: Path) -> None:
    """Age, grade in words, stage strings and receptor results under names of a study's own:
    each gets its target proposed from its name and values."""
    study = write_study(tmp_path / "study")
    _rename_patient_columns(study, {"AGE_AT_DIAGNOSIS": "Age at dx (years)",
                                    "ER_IHC": "Estrogen receptor"})
    sample = study / "data_clinical_sample.txt"
    text = sample.read_text().replace("\tGRADE\t", "\tHisto grade (Elston)\t").replace(
        "\tTUMOR_STAGE\t", "\tPath stage group\t").replace("\tHER2_STATUS\t", "\tHer2 call\t")
    for old, new in (("\t2\t22\t2\t", "\tGrade II (moderately differentiated)\t22\tStage II\t"),
                     ("\t3\t31\tIIB\t", "\tgrade III\t31\tStage IIB\t"),
                     ("\t1\t15\t1\t", "\tGrade I\t15\tStage I\t"),
                     ("\t2\t40\tStage III\t", "\tGrade 2\t40\tStage IIIA\t")):
        assert old in text, old
        text = text.replace(old, new)
    sample.write_text(text)
    result = subprocess.run([MBCRISK, "validate", str(study), "--suggest-mapping"],
                            capture_output=True, text=True, timeout=120, check=True)
    proposed = {line.split(" = ")[0].strip('"'): line.split(" = ")[1].split()[0].strip('"')
                for line in result.stdout.splitlines() if " = " in line
                and not line.startswith("#")}
    assert proposed["Age at dx (years)"] == "age_years"
    assert proposed["Estrogen receptor"] == "er_status"
    assert proposed["Histo grade (Elston)"] == "grade"
    assert proposed["Path stage group"] == "stage"
    assert proposed["Her2 call"] == "her2_status"
    mapping = tmp_path / "proposed.toml"
    mapping.write_text(result.stdout)
    cohort, _ = load_cbioportal_study(study, LoadOptions(columns=mapping))
    assert cohort.patients.loc["P1", "grade"] == 2
    assert cohort.patients.loc["P2", "stage"] == 2
    assert cohort.patients.loc["P1", "er_status"] == "positive"


def test_patient_and_sample_files_without_genomics_keep_every_patient(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    for name in ("data_mutations_extended.txt", "data_cna.txt", "data_gene_matrix.txt",
                 "data_gene_panel_a.txt", "data_gene_panel_b.txt"):
        (study / name).unlink()
    cohort, report = load_cbioportal_study(study)
    assert len(cohort.samples) == len(SAMPLE_ROWS)
    assert not cohort.has_samples  # no genomic samples: nobody needs a profiled one
    labels = relapse_labels(cohort)
    assert not any("profiled sample" in e.reason for e in labels.exclusions)
    assert any(w.startswith("no genomic data") for w in report.warnings)


def test_a_stage_with_a_stray_digit_is_refused(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    path = study / "data_clinical_sample.txt"
    path.write_text(path.read_text().replace("\tIIB\t", "\t12\t"))
    with pytest.raises(CohortError, match="'12' is not a stage"):
        load_cbioportal_study(study)


def test_mapping_values_reach_the_column_the_field_is_read_from(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    path = study / "data_clinical_sample.txt"
    path.write_text(path.read_text().replace("\tPositive\t", "\tPos.\t"))
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[values.er_status]\n"Pos." = "positive"\n')
    cohort, report = load_cbioportal_study(study, LoadOptions(columns=mapping))
    assert cohort.samples.loc["S1", "er_status"] == "positive"
    assert report.recodings[("ER_STATUS", "Pos.", "positive")] > 0


def test_sequenced_samples_header_in_lower_case(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    (study / "data_gene_matrix.txt").unlink()
    maf = study / "data_mutations_extended.txt"
    maf.write_text("#sequenced_samples: S1 S2\n" + maf.read_text())
    cohort, _ = load_cbioportal_study(study)
    profiled = cohort.samples["mutation_panel"].notna()
    assert sorted(cohort.samples.index[profiled]) == ["S1", "S2"]
