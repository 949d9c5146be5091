"""Partitioned Parquet cohorts: written one partition at a time, read back exactly, validated,
and refused clearly when damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cli import main
from features.cohorts import CohortError, load_cohort
from features.cohorts.parquet import MANIFEST, read_manifest, read_partition
from features.cohorts.schema import TABLES
from features.cohorts.synthetic.partitioned import synthetic_partition, write_synthetic_partitions


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parquet") / "cohort"
    assert write_synthetic_partitions(250, 4, out, partition_size=100) == 3
    return out


def test_manifest_and_partitions(folder: Path) -> None:
    manifest = read_manifest(folder)
    assert manifest["partitions"] == 3
    assert manifest["n_patients"] == 250
    assert manifest["metadata"]["synthetic"] is True
    assert [read_partition(folder, k).metadata["partition"] for k in range(3)] == [0, 1, 2]
    sizes = [len(read_partition(folder, k).patients) for k in range(3)]
    assert sizes == [100, 100, 50]


def test_a_partition_reads_back_exactly(folder: Path) -> None:
    written = synthetic_partition(100, 4, 1)
    read = read_partition(folder, 1)
    for name in TABLES:
        pd.testing.assert_frame_equal(read.table(name), written.table(name), check_dtype=True)


def test_partitions_hold_whole_patients_with_unique_ids(folder: Path) -> None:
    parts = [read_partition(folder, k) for k in range(3)]
    ids = [pid for part in parts for pid in part.patients.index]
    assert len(ids) == len(set(ids)) == 250
    for part in parts:  # every sample and treatment of a partition's patients is in it
        assert set(part.samples["patient_id"]) <= set(part.patients.index)
        assert set(part.treatments["patient_id"]) <= set(part.patients.index)
        assert set(part.mutations["sample_id"]) <= set(part.samples.index)


def test_partitions_are_independent_draws(folder: Path) -> None:
    first, second = read_partition(folder, 0), read_partition(folder, 1)
    assert not first.patients["age_years"].to_numpy()[:50].tolist() == (
        second.patients["age_years"].to_numpy()[:50].tolist())


def test_load_cohort_reads_all_partitions(folder: Path) -> None:
    cohort, report = load_cohort(folder)
    assert len(cohort.patients) == 250
    assert report.counts["partitions"] == 3
    assert not cohort.panels.duplicated().any()


def test_damaged_partitions_are_refused_naming_the_file(folder: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "samples" / "part-00002.parquet").unlink()
    with pytest.raises(CohortError, match=r"samples/part-00002.parquet.*partition file missing"):
        read_partition(copy, 2)
    (copy / "mutations" / "part-00001.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(CohortError, match=r"part-00001.parquet.*not a readable Parquet file"):
        read_partition(copy, 1)
    with pytest.raises(CohortError, match="no partition 7"):
        read_partition(copy, 7)
    (copy / MANIFEST).write_text(json.dumps({"metadata": {}}))
    with pytest.raises(CohortError, match="manifest without a partition count"):
        read_partition(copy, 0)
    (copy / MANIFEST).write_text(json.dumps({"partitions": 3}))
    with pytest.raises(CohortError, match="manifest without metadata"):
        read_partition(copy, 0)


def test_a_cohort_written_before_a_table_was_added_reads_it_as_empty(
        folder: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "older"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "structural_variants")  # as written before the table existed
    older = read_partition(copy, 0)
    assert older.structural_variants.empty
    assert older.digest() == read_partition(folder, 0).digest()  # empty either way
    (copy / "structural_variants").mkdir()  # the folder there, a file missing: refused
    with pytest.raises(CohortError, match="partition file missing"):
        read_partition(copy, 0)


def test_cli_writes_parquet_and_validate_reads_it(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["synth", "--n", "150", "--seed", "2", "--format", "parquet",
                 "--partition-size", "60", "--out", str(out)]) == 0
    assert "150 patients in 3 Parquet partitions" in capsys.readouterr().out
    assert main(["validate", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_patients"] == 150
