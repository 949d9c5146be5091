"""Cohort integrity: hostile variations of a clean study that used to load while losing or
changing data without a word. Each class is built in code from the tiny study and must end in
a clear error (file, line, column) or a reported, counted decision with the expected outcome.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from features.cohorts import CohortError, load_cbioportal_study
from features.cohorts.cohort import Cohort
from features.cohorts.sources import load_cohort
from features.design import build_design
from features.labels import relapse_labels
from tests.features.cohorts.corpus import (
    MAF,
    MATRIX,
    PATIENT,
    SAMPLE,
    Mutation,
    Refused,
    Reported,
    both,
    check_case,
    edit,
    meta,
    put,
    timeline,
)
from tests.support.study_builder import MAF_COLUMNS, write_study, write_table

SUPP_PATIENT, SUPP_SAMPLE = "data_clinical_patient_supp.txt", "data_clinical_sample_supp.txt"
SECOND_MAF = "data_mutations_second.txt"
PANEL_A = "data_gene_panel_a.txt"
#: The installed command line, beside this interpreter.
MBCRISK = str(Path(sys.executable).with_name("mbcrisk"))


def _meta_clinical(kind: str, *files: str) -> Mutation:
    datatype = "PATIENT_ATTRIBUTES" if kind == "patient" else "SAMPLE_ATTRIBUTES"
    return both(*(meta(f"meta_clinical_{kind}_{k}.txt", "CLINICAL", datatype, name)
                  for k, name in enumerate(files)))


def _supplementary_patients(rows: list[list[str]]) -> Mutation:
    return both(
        lambda s: write_table(s / SUPP_PATIENT, ["PATIENT_ID", "MENOPAUSAL_STATUS", "AGE"],
                              rows),
        _meta_clinical("patient", PATIENT, SUPP_PATIENT))


def _second_maf(rows: list[list[str]]) -> Mutation:
    return both(lambda s: write_table(s / SECOND_MAF, MAF_COLUMNS, rows),
                meta("meta_mutations_a.txt", "MUTATION_EXTENDED", "MAF", MAF),
                meta("meta_mutations_b.txt", "MUTATION_EXTENDED", "MAF", SECOND_MAF))


def _mutation(cohort: Cohort, gene: str) -> dict:
    rows = cohort.mutations[cohort.mutations["gene"] == gene]
    return rows.iloc[0].to_dict()


def _hotspot(cohort: Cohort, patient: str) -> float:
    design = build_design(cohort, relapse_labels(cohort).time_origin)
    return float(design.loc[patient, "hot__PIK3CA_H1047R"])


def _fifo(name: str) -> Mutation:
    def mutate(study: Path) -> None:
        (study / name).unlink()
        os.mkfifo(study / name)
    return mutate


def _device(name: str) -> Mutation:
    def mutate(study: Path) -> None:
        (study / name).unlink()
        os.symlink("/dev/zero", study / name)
    return mutate


CASES: dict[str, tuple[Mutation, Refused | Reported]] = {
    # several files of one kind: merged and reported, or refused
    "supplementary patient file": (
        _supplementary_patients([["P1", "Post", "61.5"], ["P2", "Pre", "45"]]),
        Reported("data_clinical_patient_supp.txt: supplementary attribute file merged by "
                 "identifier: 2 rows (0 new identifiers), 2 values filled, columns "
                 "['menopausal_status']",
                 check=lambda c: c.patients.loc["P2", "menopausal_status"] == "pre")),
    "supplementary patient file that disagrees": (
        _supplementary_patients([["P1", "Post", "62"]]),
        Refused("age_years of 'P1' is 62.0 here but 61.5 in an earlier attribute file",
                SUPP_PATIENT, 2, "AGE")),
    "supplementary sample file": (
        both(lambda s: write_table(s / SUPP_SAMPLE, ["PATIENT_ID", "SAMPLE_ID", "SAMPLE_SITE"],
                                   [["P1", "S1M", "liver"]]),
             _meta_clinical("sample", SAMPLE, SUPP_SAMPLE)),
        Reported("columns ['site']", check=lambda c: c.samples.loc["S1M", "site"] == "liver")),
    "second MAF": (
        _second_maf([["AKT1", "207", "Missense_Mutation", "S2", "p.E17K", "30", "10"],
                     ["PIK3CA", "5290", "Missense_Mutation", "S1", "p.H1047R", "60", "40"]]),
        Reported("the same call in an earlier mutation file (kept once)", 1,
                 check=lambda c: "AKT1" in set(c.mutations["gene"])
                 and int((c.mutations["gene"] == "PIK3CA").sum()) == 1)),
    "two CNA files": (
        both(put("data_cna_b.txt", "Hugo_Symbol\tS1\nMYC\t2\n"),
             meta("meta_cna_a.txt", "COPY_NUMBER_ALTERATION", "DISCRETE", "data_cna.txt"),
             meta("meta_cna_b.txt", "COPY_NUMBER_ALTERATION", "DISCRETE", "data_cna_b.txt")),
        Refused("two data files of kind 'cna'", "data_cna_b.txt")),
    "data file no meta names": (
        both(put("data_clinical_extra.txt", "PATIENT_ID\tX\nP1\t1\n"),
             _meta_clinical("patient", PATIENT)),
        Reported("data_clinical_extra.txt: not named by a meta file mbcrisk reads; not read")),
    # the gene-panel matrix
    "panel matrix without rows": (put(MATRIX, "SAMPLE_ID\tmutations\tcna\n"),
                                  Refused("no sample rows after the header", MATRIX)),
    "sample missing from the panel matrix": (
        edit(MATRIX, "S3\tPANEL_A\tPANEL_A\n", ""),
        Reported("not in the gene panel matrix: taken as not profiled for mutations", 1,
                 check=lambda c: c.samples["mutation_panel"].isna().sum() == 2)),
    "two panel-matrix columns for one profile": (
        edit(MATRIX, "SAMPLE_ID\tmutations\tcna", "SAMPLE_ID\tmutations\tmutations_wes"),
        Refused("a second column for the mutation profile \\(the first: 'mutations'\\)",
                MATRIX, 1, "mutations_wes")),
    "sample listed twice in the panel matrix": (
        edit(MATRIX, "S2\tPANEL_A\tPANEL_A", "S2\tPANEL_A\tPANEL_A\nS2\tPANEL_B\tPANEL_B"),
        Refused("sample 'S2' listed twice", MATRIX, 5, "SAMPLE_ID")),
    # panel definitions
    "one panel ID in two files, other genes": (
        put("data_gene_panel_c.txt", "stable_id: PANEL_A\ngene_list: TP53\n"),
        Refused("gene panel 'PANEL_A' is defined again with other genes",
                "data_gene_panel_c.txt", column="stable_id")),
    "one panel ID in two files, same genes": (
        lambda s: (s / "data_gene_panel_c.txt").write_text((s / PANEL_A).read_text()),
        Reported("gene panel 'PANEL_A' defined again, with the same genes")),
    # conflicting values from two samples of one patient
    "two primary samples that disagree": (
        edit(SAMPLE, "P2\tS2\tPrimary\tNegative\tNegative\tNegative\t3",
             "P2\tS2\tPrimary\tNegative\tNegative\tNegative\t3\t31\tIIB\t2.6\n"
             "P2\tS2B\tPrimary\tNegative\tNegative\tNegative\t1"),
        Reported("patients.grade: 1 patients have primary samples that disagree; the first "
                 "primary sample in the sample file was used",
                 check=lambda c: c.patients.loc["P2", "grade"] == 3)),
    # variant classification spellings
    "Sequence Ontology term for a silent call": (
        edit(MAF, "\tSilent\t", "\tsynonymous_variant\t"),
        Reported("recoded Variant_Classification 'synonymous_variant' -> 'Silent'", 1,
                 check=lambda c: not bool(_mutation(c, "CDH1")["non_silent"]))),
    "lower-case MAF class": (
        edit(MAF, "\tSilent\t", "\tsilent\t"),
        Reported("recoded Variant_Classification 'silent' -> 'Silent'", 1,
                 check=lambda c: not bool(_mutation(c, "CDH1")["non_silent"]))),
    "VEP terms joined by a comma": (
        edit(MAF, "\tSilent\t", "\tsplice_region_variant,synonymous_variant\t"),
        Reported("-> 'Splice_Region'", 1,
                 check=lambda c: not bool(_mutation(c, "CDH1")["non_silent"]))),
    "unrecognised classification": (
        edit(MAF, "\tSilent\t", "\tWeird_Thing\t"),
        Reported("unrecognised classification 'Weird_Thing' kept as written and taken as "
                 "non-silent (first on line 7)", 1,
                 check=lambda c: bool(_mutation(c, "CDH1")["non_silent"]))),
    # protein changes in long-form HGVS
    "long-form HGVS": (
        edit(MAF, "p.H1047R", "p.His1047Arg"),
        Reported("recoded HGVSp_Short 'long-form HGVS (e.g. p.His1047Arg)'", 1,
                 check=lambda c: _mutation(c, "PIK3CA")["protein_change"] == "H1047R"
                 and _hotspot(c, "P1") == 1.0)),
    "only a long-form HGVSp column": (
        both(edit(MAF, "HGVSp_Short", "HGVSp"), edit(MAF, "p.H1047R", "p.(His1047Arg)")),
        Reported("recoded HGVSp", 1, check=lambda c: _hotspot(c, "P1") == 1.0)),
    "protein change in lower case": (
        edit(MAF, "p.H1047R", "p.h1047r"),
        Reported("unread column Entrez_Gene_Id", check=lambda c: _hotspot(c, "P1") == 1.0)),
    "protein change without p.": (
        edit(MAF, "p.H1047R", "H1047R"),
        Reported("unread column Entrez_Gene_Id", check=lambda c: _hotspot(c, "P1") == 1.0)),
    # read counts
    "read count that is not a number": (edit(MAF, "\t60\t40", "\tsixty\t40"),
                                        Refused("'sixty' is not a number", MAF, 3,
                                                "t_ref_count")),
    "fractional read count": (edit(MAF, "\t60\t40", "\t60.5\t40"),
                              Refused("not a whole number", MAF, 3, "t_ref_count")),
    # files outside the folder, special files
    "meta file naming a file outside the folder": (
        meta("meta_mutations.txt", "MUTATION_EXTENDED", "MAF", "../outside.txt"),
        Refused("outside the study folder", "meta_mutations.txt", column="data_filename")),
    "meta file naming an absolute path": (
        meta("meta_mutations.txt", "MUTATION_EXTENDED", "MAF", "/etc/hostname"),
        Refused("outside the study folder", "meta_mutations.txt", column="data_filename")),
    # columns not read are listed
    "unread MAF column": (edit(MAF, "Entrez_Gene_Id", "Center"),
                          Reported("unread column Center")),
    "unread timeline column": (
        timeline(["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TREATMENT_TYPE",
                  "NOTES"], [["P1", "10", "100", "TREATMENT", "Hormone", "free text"]]),
        Reported("unread column NOTES")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_integrity_class(tmp_path: Path, name: str) -> None:
    check_case(tmp_path / "study", CASES[name])


def test_the_clean_study_loads_without_these_decisions(tmp_path: Path) -> None:
    _, report = load_cbioportal_study(write_study(tmp_path / "study"))
    text = " ".join([*report.warnings, *(e.reason for e in report.exclusions)])
    for decision in ("merged", "disagree", "panel matrix", "defined again", "not named by"):
        assert decision not in text


def test_a_folder_named_like_a_builtin_cohort_is_ambiguous(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_study(tmp_path / "gbsg2")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CohortError, match="both a built-in cohort and a path"):
        load_cohort("gbsg2")
    cohort, _ = load_cohort("./gbsg2")
    assert cohort.metadata["name"] == "tiny_study"
    monkeypatch.chdir(tmp_path / "gbsg2")
    cohort, _ = load_cohort("gbsg2")  # no such path here: the built-in
    assert len(cohort.patients) == 686


def test_validate_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    process = subprocess.Popen([MBCRISK, "validate", str(study), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader goes away before the command writes
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr, stderr
    assert "BrokenPipeError" not in stderr, stderr


@pytest.mark.parametrize(("make_special", "name"), [(_fifo, PATIENT), (_fifo, SAMPLE),
                                                    (_device, MAF)])
def test_a_special_file_is_refused_by_validate_without_hanging(
        tmp_path: Path, make_special: Callable[[str], Mutation], name: str) -> None:
    # In a separate process with a deadline: reading a FIFO or /dev/zero never ends, so a
    # regression must fail the test, not hang the suite.
    study = write_study(tmp_path / "study")
    make_special(name)(study)
    result = subprocess.run([MBCRISK, "validate", str(study)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "not a regular file" in result.stderr
    assert name in result.stderr
