"""The machinery of the bad-cohort corpora: how a clean study is changed, and what outcome is
expected (a CohortError saying what and where, or a load whose report records the decision)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from features.cohorts import CohortError, load_cbioportal_study
from features.cohorts.cohort import Cohort
from features.cohorts.report import LoadReport
from tests.support.study_builder import write_study, write_table

PATIENT, SAMPLE = "data_clinical_patient.txt", "data_clinical_sample.txt"
MAF, CNA = "data_mutations_extended.txt", "data_cna.txt"
MATRIX, TIMELINE = "data_gene_matrix.txt", "data_timeline_treatment.txt"

Mutation = Callable[[Path], object]


@dataclass(frozen=True)
class Refused:
    """Expected CohortError: message pattern, and where (None: not checked)."""

    pattern: str
    file: str | None = None
    line: int | None = None
    column: str | None = None


@dataclass(frozen=True)
class Reported:
    """Expected load with this text in the report's exclusions (with count), recodings (with
    count), warnings or unread columns; and, with ``check``, a property of the loaded cohort."""

    text: str
    count: int | None = None
    check: Callable[[Cohort], bool] | None = None


def edit(name: str, old: str, new: str) -> Mutation:
    def mutate(study: Path) -> None:
        path = study / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1))
    return mutate


def put(name: str, data: bytes | str) -> Mutation:
    return lambda study: (study / name).write_bytes(
        data if isinstance(data, bytes) else data.encode())


def append(name: str, data: bytes) -> Mutation:
    return lambda study: (study / name).write_bytes((study / name).read_bytes() + data)


def keep_fraction(name: str, fraction: float) -> Mutation:
    def mutate(study: Path) -> None:
        data = (study / name).read_bytes()
        (study / name).write_bytes(data[: int(len(data) * fraction)])
    return mutate


def replace_with(kind: str, name: str) -> Mutation:
    def mutate(study: Path) -> None:
        (study / name).unlink()
        if kind == "directory":
            (study / name).mkdir()
        elif kind == "loop":
            os.symlink(name, study / name)
        else:
            os.symlink("nowhere.txt", study / name)
    return mutate


def timeline(columns: list[str], rows: list[list[str]]) -> Mutation:
    return lambda study: write_table(study / TIMELINE, columns, rows)


def encode_patient_file(study: Path, pieces: list[tuple[str, str, str]]) -> None:
    """Replace text in the patient file, each replacement with its own encoding."""
    data = (study / PATIENT).read_bytes()
    for old, new, encoding in pieces:
        data = data.replace(old.encode(), new.encode(encoding), 1)
    (study / PATIENT).write_bytes(data)


def add_cna_sample(study: Path) -> None:
    lines = (study / CNA).read_text().splitlines()
    (study / CNA).write_text("\n".join([lines[0] + "\tS77", *(f"{x}\t2" for x in lines[1:])])
                             + "\n")


def meta(name: str, alteration: str, datatype: str, data_file: str) -> Mutation:
    """Write a ``meta_*.txt`` naming ``data_file`` as a file of the given data type."""
    return put(name, f"cancer_study_identifier: tiny_study\ngenetic_alteration_type: "
                     f"{alteration}\ndatatype: {datatype}\ndata_filename: {data_file}\n")


def both(*mutations: Mutation) -> Mutation:
    """Apply several changes in order."""
    def mutate(study: Path) -> None:
        for mutation in mutations:
            mutation(study)
    return mutate


def report_text(report: LoadReport) -> list[tuple[str, int | None]]:
    texts: list[tuple[str, int | None]] = [(e.reason, e.count) for e in report.exclusions]
    texts += [(f"recoded {column} {raw!r} -> {to!r}", count)
              for (column, raw, to), count in report.recodings.items()]
    texts += [(w, None) for w in report.warnings]
    texts += [(f"unread column {column[:40]}", None) for _, column in report.unknown_columns]
    return texts


def assert_outcome(study: Path, expected: Refused | Reported) -> None:
    """Load ``study`` and check the expected refusal or reported decision."""
    if isinstance(expected, Refused):
        with pytest.raises(CohortError, match=expected.pattern) as info:
            load_cbioportal_study(study)
        error = info.value
        for attribute in ("file", "line", "column"):
            wanted = getattr(expected, attribute)
            if wanted is not None:
                assert getattr(error, attribute) == wanted, (attribute, str(error))
        return
    cohort, report = load_cbioportal_study(study)
    found = [(text, count) for text, count in report_text(report) if expected.text in text]
    assert found, f"{expected.text!r} not in the report: {report_text(report)}"
    if expected.count is not None:
        assert any(count == expected.count for _, count in found), found
    if expected.check is not None:
        assert expected.check(cohort), expected.text


def check_case(folder: Path, case: tuple[Mutation, Refused | Reported]) -> None:
    """Write the tiny study into ``folder``, change it as the case says, check the outcome."""
    mutate, expected = case
    study = write_study(folder)
    mutate(study)
    assert_outcome(study, expected)
