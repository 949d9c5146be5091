"""Built-in GBSG2 and the real METABRIC study (from MBCRISK_DATA_DIR)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from features.cohorts import load_cbioportal_study, load_cohort
from features.cohorts.options import LoadOptions
from features.cohorts.schema import TABLES


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


#: ``Cohort.digest()`` of METABRIC as loaded by the code before the cohort-integrity work
#: (commit db95807), and the patient columns it had then. None of the integrity classes occurs
#: in this study, so its tables are the same; the real-cohorts work adds columns on purpose
#: (integrative cluster, NPI, TNM categories), which are left out of the comparison, and marks
#: the stage IV patients metastatic at diagnosis (checked on its own below).
METABRIC_DIGEST = "e92b8346eb6f654df92f71f37829f860b3fcc6cb2425c4cd8dda4641e1b6ff6e"
PATIENT_COLUMNS_BEFORE = [
    "age_years", "sex", "menopausal_status", "er_status", "pr_status", "her2_status",
    "er_fmol_mg", "pr_fmol_mg", "receptor_subtype", "pam50_subtype", "histology", "grade",
    "stage", "tumor_size_mm", "positive_nodes", "metastatic_sites",
    "performance_status", "received_chemotherapy", "received_endocrine",
    "received_radiotherapy", "received_anti_her2"]


@pytest.mark.realdata
def test_metabric_tables_are_those_of_before(metabric_dir: Path) -> None:
    cohort, report = load_cbioportal_study(metabric_dir)
    patients = cohort.patients[PATIENT_COLUMNS_BEFORE].assign(de_novo_metastatic=pd.NA)
    patients = patients.astype({"de_novo_metastatic": "boolean"})[
        [*PATIENT_COLUMNS_BEFORE[:15], "de_novo_metastatic", *PATIENT_COLUMNS_BEFORE[15:]]]
    # the treatment-history work added two treatment columns on purpose (METABRIC has none),
    # and actionability the samples' microsatellite status (METABRIC has none either)
    treatments = cohort.treatments.drop(columns=["agent_classes", "progression_months"])
    assert cohort.samples["msi_status"].isna().all()
    samples = cohort.samples.drop(columns=["msi_status"])
    # and the structural-variant table (METABRIC has no SV file): the digest of the others
    assert cohort.structural_variants.empty
    before = [name for name in TABLES if name != "structural_variants"]
    assert dataclasses.replace(cohort, patients=patients, treatments=treatments,
                               samples=samples).digest(before) == METABRIC_DIGEST
    # On purpose: stage IV at diagnosis (METABRIC has no M column) is metastatic at diagnosis.
    stage_four = cohort.patients["stage"] == 4
    assert cohort.patients["de_novo_metastatic"].fillna(False).equals(stage_four.fillna(False))
    assert int(stage_four.sum()) == 11
    # What changed on purpose is only what the report says: the MAF's unread columns listed.
    unread = {column for file, column in report.unknown_columns
              if file == "data_mutations_extended.txt"}
    assert {"Consequence", "HGVSp", "Chromosome"} <= unread
    assert "HGVSp_Short" not in unread


def _metabric_without_panel_file(metabric_dir: Path, folder: Path) -> Path:
    """METABRIC as a portal download has it: the panel named by ID, its definition elsewhere
    (links to the shared files, nothing copied)."""
    folder.mkdir()
    for path in metabric_dir.iterdir():
        if path.name != "data_gene_panel.txt":
            (folder / path.name).symlink_to(path)
    return folder


@pytest.mark.realdata
def test_metabric_without_its_panel_file_infers_the_panel(metabric_dir: Path,
                                                          tmp_path: Path) -> None:
    study = _metabric_without_panel_file(metabric_dir, tmp_path / "metabric")
    result = subprocess.run([str(Path(sys.executable).with_name("mbcrisk")), "validate",
                             str(study), "--json"], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    inferred = [w for w in json.loads(result.stdout)["warnings"]
                if w.startswith("gene panel 'METABRIC_173' is not defined in the study")]
    assert len(inferred) == 1, inferred
    cohort, _ = load_cbioportal_study(study)
    full, _ = load_cbioportal_study(metabric_dir)
    assert set(cohort.panels["gene"]) <= set(full.panels["gene"])
    assert f"({cohort.panels['gene'].nunique()} genes, 2509 samples)" in inferred[0]


@pytest.mark.realdata
def test_metabric_panel_from_a_panel_folder(metabric_dir: Path, tmp_path: Path) -> None:
    study = _metabric_without_panel_file(metabric_dir, tmp_path / "metabric")
    panels = tmp_path / "reference_panels"
    panels.mkdir()
    (panels / "data_gene_panel_metabric.txt").symlink_to(metabric_dir / "data_gene_panel.txt")
    cohort, report = load_cbioportal_study(study, LoadOptions(panels=panels))
    full, _ = load_cbioportal_study(metabric_dir)
    pd.testing.assert_frame_equal(cohort.panels, full.panels)
    assert not any("inferred" in w for w in report.warnings)
