"""A corpus of malformed and hostile cohort folders, made in code from the tiny study.

Each case either raises the one error type, :class:`CohortError`, saying what is wrong and
where (file, line, column when there is one), or loads with the documented handling recorded
in the load report (an exclusion with its count and line, a warning, an unread column).
Never another exception, never a record dropped without a count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from features.cohorts import CohortError, load_cbioportal_study
from tests.features.cohorts.corpus import (
    CNA,
    MAF,
    MATRIX,
    PATIENT,
    SAMPLE,
    TIMELINE,
    Mutation,
    Refused,
    Reported,
    add_cna_sample,
    append,
    both,
    check_case,
    edit,
    encode_patient_file,
    keep_fraction,
    put,
    replace_with,
    timeline,
)
from tests.support.study_builder import (
    MAF_COLUMNS,
    MAF_ROWS,
    SAMPLE_COLUMNS,
    SAMPLE_ROWS,
    write_study,
    write_table,
)

TIMELINE_COLUMNS = ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TREATMENT_TYPE"]
AGENT_COLUMNS = ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "AGENT"]
TIME_ROW = "\t80\t0:Not Recurred"

CASES: dict[str, tuple[Mutation, Refused | Reported]] = {
    # empty and truncated files
    "empty file": (put(PATIENT, b""), Refused("no header row", PATIENT)),
    "whitespace-only file": (put(PATIENT, "\n \n\t\n"), Refused("no header row", PATIENT)),
    "only comment lines": (put(PATIENT, "#a\tb\n#c\td\n"), Refused("no header row", PATIENT)),
    "header without rows": (put(PATIENT, "PATIENT_ID\tAGE_AT_DIAGNOSIS\n"),
                            Refused("no patient rows", PATIENT)),
    "truncated in the middle": (keep_fraction(PATIENT, 0.8),
                                Refused("truncated last line", PATIENT, 7)),
    "truncated MAF last line": (append(MAF, b"TP53\t7157\tMissense"),
                                Refused("truncated last line: 3", MAF, 9)),
    # delimiters and headers
    "comma-delimited": (put(SAMPLE, "PATIENT_ID,SAMPLE_ID\nP1,S1\n"),
                        Refused("separated by commas", SAMPLE, 1)),
    "semicolon-delimited": (put(SAMPLE, "PATIENT_ID;SAMPLE_ID\nP1;S1\n"),
                            Refused("separated by semicolons", SAMPLE, 1)),
    "extra field in a row": (edit(PATIENT, "P2\t45", "P2\t45\textra"),
                             Refused("9 tab-separated fields", PATIENT, 7)),
    "duplicate column name": (edit(SAMPLE, "SAMPLE_ID\tSAMPLE_TYPE", "SAMPLE_ID\tSAMPLE_ID"),
                              Refused("duplicate column name", SAMPLE, 1, "SAMPLE_ID")),
    "empty column name": (edit(SAMPLE, "SAMPLE_TYPE", ""),
                          Refused("empty column name at position 3", SAMPLE, 1)),
    "huge column name": (edit(SAMPLE, "TUMOR_STAGE", "X" * 200_000),
                         Reported("unread column")),
    # identifiers and references
    "duplicate patient id": (edit(PATIENT, "P2\t45", "P1\t45"),
                             Refused("duplicate identifier 'P1'", PATIENT, 7, "PATIENT_ID")),
    "duplicate sample id": (edit(SAMPLE, "P2\tS2", "P2\tS1"),
                            Refused("duplicate identifier 'S1'", SAMPLE, 4, "SAMPLE_ID")),
    "empty patient id": (edit(PATIENT, "P2\t45", "\t45"),
                         Refused("empty identifier", PATIENT, 7, "PATIENT_ID")),
    "orphan sample": (lambda s: write_table(s / SAMPLE, SAMPLE_COLUMNS, [
        *SAMPLE_ROWS, ["P9", "S9", "Primary", "", "", "", "", "", "", ""]]),
        Refused("patient 'P9' is not in the patients table", SAMPLE, 7, "PATIENT_ID")),
    "mutation of an unknown sample": (lambda s: write_table(s / MAF, MAF_COLUMNS, [
        *MAF_ROWS, ["TP53", "7157", "Missense_Mutation", "S99", "p.R175H", "", ""]]),
        Reported("sample not in the sample file (data_mutations_extended.txt, first on line 8)",
                 1)),
    "CNA column of an unknown sample": (add_cna_sample,
                                        Reported("sample columns not in the sample file", 3)),
    "panel row of an unknown sample": (edit(MATRIX, "S4\tNA\tNA",
                                            "S4\tNA\tNA\nS55\tPANEL_A\tPANEL_A"),
                                       Reported("sample not in the sample file", 1)),
    "undefined gene panel": (edit(MATRIX, "S2\tPANEL_A\tPANEL_A", "S2\tPANEL_Z\tPANEL_Z"),
                             Reported("gene panel 'PANEL_Z' is not defined in the study: "
                                      "inferred as the genes observed mutated, or carrying a "
                                      "copy-number value, in any sample on the panel (4 genes, "
                                      "1 samples)")),
    "timeline of an unknown patient": (
        timeline(TIMELINE_COLUMNS, [["P9", "10", "100", "TREATMENT", "Hormone"]]),
        Refused("patient 'P9' is not in the patients table", TIMELINE, 2, "PATIENT_ID")),
    # times, ages and other values
    "negative time": (edit(PATIENT, TIME_ROW, "\t-3\t0:Not Recurred"),
                      Refused("out of range", PATIENT, 7, "RFS_MONTHS")),
    "absurd time": (edit(PATIENT, TIME_ROW, "\t99999999\t0:Not Recurred"),
                    Refused("out of range", PATIENT, 7, "RFS_MONTHS")),
    "infinite time": (edit(PATIENT, TIME_ROW, "\tinf\t0:Not Recurred"),
                      Refused("not a finite number", PATIENT, 7, "RFS_MONTHS")),
    "text time": (edit(PATIENT, TIME_ROW, "\ttwelve\t0:Not Recurred"),
                  Refused("'twelve' is not a number", PATIENT, 7, "RFS_MONTHS")),
    "negative age": (edit(PATIENT, "P2\t45", "P2\t-45"),
                     Refused("out of range for age_years", PATIENT, 7, "AGE_AT_DIAGNOSIS")),
    "absurd age": (edit(PATIENT, "P2\t45", "P2\t450"),
                   Refused("out of range for age_years", PATIENT, 7, "AGE_AT_DIAGNOSIS")),
    "grade out of range": (edit(SAMPLE, "\t3\t31\t", "\t7\t31\t"),
                           Refused("'7' is not a grade", SAMPLE, 4, "GRADE")),
    "negative TMB": (edit(SAMPLE, "\t5.2\n", "\t-5.2\n"),
                     Refused("out of range for tmb", SAMPLE, 3, "TMB_NONSYNONYMOUS")),
    "treatment stops before it starts": (
        timeline(TIMELINE_COLUMNS, [["P1", "100", "10", "TREATMENT", "Hormone"]]),
        Refused("stops before it starts", TIMELINE, 2, "STOP_DATE")),
    "treatment a million years before diagnosis": (
        timeline(TIMELINE_COLUMNS, [["P1", "-99999999", "100", "TREATMENT", "Hormone"]]),
        Refused("out of range", TIMELINE, 2, "START_DATE")),
    # treatment histories as real studies record them (agent rows, progression, specimens)
    "agent row stops before it starts": (
        timeline(AGENT_COLUMNS, [["P1", "100", "10", "TREATMENT", "LETROZOLE"]]),
        Refused("stops before it starts", TIMELINE, 2, "STOP_DATE")),
    "unknown agent": (
        timeline(AGENT_COLUMNS, [["P1", "10", "100", "TREATMENT", "ZORBILIMAB"]]),
        Reported("1 agent names not in the drug dictionary")),
    "progression before any line": (
        both(timeline(AGENT_COLUMNS, [["P1", "100", "", "TREATMENT", "LETROZOLE"]]),
             put("data_timeline_progression.txt", "PATIENT_ID\tSTART_DATE\tSTOP_DATE\t"
                 "EVENT_TYPE\tPROGRESSION\nP1\t50\t\tPROGRESSION\tY\n")),
        Reported("progression events before any metastatic line (not attributed)", 1)),
    "two specimen anchors that disagree": (
        put("data_timeline_specimen.txt", "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\t"
            "SAMPLE_ID\nP1\t0\t\tSPECIMEN\tS1\nP1\t400\t\tSPECIMEN\tS1\n"),
        Refused("by its specimen event but", "data_timeline_specimen.txt", 3, "START_DATE")),
    "specimen of a sample the sample file lacks": (
        put("data_timeline_specimen.txt", "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\t"
            "SAMPLE_ID\nP1\t0\t\tSPECIMEN\tS9\n"),
        Refused("not in the sample file", "data_timeline_specimen.txt", 2, "SAMPLE_ID")),
    "progression value not understood": (
        both(timeline(AGENT_COLUMNS, [["P1", "100", "", "TREATMENT", "LETROZOLE"]]),
             put("data_timeline_progression.txt", "PATIENT_ID\tSTART_DATE\tSTOP_DATE\t"
                 "EVENT_TYPE\tPROGRESSION\nP1\t150\t\tPROGRESSION\tmaybe\n")),
        Reported("PROGRESSION value not understood", 1)),
    "CNA level not a number": (edit(CNA, "MYC\t2", "MYC\tamp"),
                               Refused("'amp' is not a copy-number level", CNA, 2, "S1")),
    "CNA level absurd": (edit(CNA, "MYC\t2", "MYC\t1e300"),
                         Refused("is not a copy-number level", CNA, 2, "S1")),
    "CNA gene repeated": (edit(CNA, "PTEN\t-2\t0\t-1\t0",
                               "PTEN\t-2\t0\t-1\t0\nPTEN\t0\t0\t0\t0"),
                          Reported("or repeated (data_cna.txt, first on line 5)", 1)),
    # codings
    "unknown event coding": (edit(PATIENT, "0:Not Recurred", "7:Maybe"),
                             Refused("'7:Maybe' is not an event status", PATIENT, 7,
                                     "RFS_STATUS")),
    "unknown sample type": (edit(SAMPLE, "Metastasis", "Xenograft"),
                            Reported("unrecognised sample_type 'Xenograft' set to missing", 1)),
    "unknown receptor coding": (edit(PATIENT, "Negative", "Ambiguous"),
                                Reported("unrecognised er_status 'Ambiguous' set to missing "
                                         "(first on line 7)", 1)),
    "'nan' written as a time": (edit(PATIENT, TIME_ROW, "\tnan\t0:Not Recurred"),
                                Reported("RFS_MONTHS missing", 2)),
    # sizes and encodings
    "huge cell": (edit(PATIENT, "P2\t45", "P2\t" + "4" * 200_000),
                  Refused("cell of 200000 characters", PATIENT, 7, "AGE_AT_DIAGNOSIS")),
    "binary file": (put(PATIENT, b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR"),
                    Refused("binary data", PATIENT)),
    "NUL byte inside a row": (lambda s: encode_patient_file(s, [("P3\t70", "P3\x00\t70",
                                                                 "utf-8")]),
                              Refused("binary data", PATIENT)),
    "Latin-1 file": (lambda s: encode_patient_file(s, [("Negative", "Négative", "latin-1")]),
                     Reported("not valid UTF-8 (first bad byte on line 7); read as Latin-1")),
    "mixed UTF-8 and Latin-1": (lambda s: encode_patient_file(s, [
        ("Positve", "Pösitive", "utf-8"), ("Negative", "Négative", "latin-1")]),
        Reported("not valid UTF-8 (first bad byte on line 7); read as Latin-1")),
    # the file system
    "directory where a file should be": (replace_with("directory", PATIENT),
                                         Refused("is a directory")),
    "symbolic link loop": (replace_with("loop", SAMPLE), Refused("symbolic link loop")),
    "dangling symbolic link": (replace_with("dangling", MAF), Refused("file not found")),
    "sample file missing beside genomic files": (
        lambda s: (s / SAMPLE).unlink(),
        Refused("a genomic file needs the sample clinical file", MAF)),
    "required file missing": (lambda s: (s / PATIENT).unlink(),
                              Refused("required patient clinical file is missing")),
    "meta file that is not key: value": (put("meta_study.txt", "not a key value file\n"),
                                         Refused("line without 'key: value'",
                                                 "meta_study.txt", 1)),
    "MAF without Hugo_Symbol": (edit(MAF, "Hugo_Symbol", "Gene"),
                                Refused("required MAF column is missing", MAF,
                                        column="Hugo_Symbol")),
    "timeline without START_DATE": (timeline(["PATIENT_ID", "STOP_DATE"], [["P1", "5"]]),
                                    Refused("required timeline column is missing", TIMELINE,
                                            column="START_DATE")),
}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_bad_cohort(tmp_path: Path, name: str) -> None:
    check_case(tmp_path / "study", CASES[name])


def test_study_path_that_is_a_file_or_missing(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study")
    with pytest.raises(CohortError, match="not a folder"):
        load_cbioportal_study(study / "meta_study.txt")
    with pytest.raises(CohortError, match="study folder not found"):
        load_cbioportal_study(tmp_path / "nowhere")


def test_blank_lines_change_nothing(tmp_path: Path) -> None:
    clean = write_study(tmp_path / "clean")
    padded = write_study(tmp_path / "padded")
    append(PATIENT, b"\n" * 100_000)(padded)
    (cohort, report), (padded_cohort, padded_report) = (load_cbioportal_study(clean),
                                                        load_cbioportal_study(padded))
    assert padded_cohort.digest() == cohort.digest()
    assert padded_report.counts == report.counts
    assert [(e.reason, e.count) for e in padded_report.exclusions] == [
        (e.reason, e.count) for e in report.exclusions]
