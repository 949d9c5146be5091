"""The synthetic cohort written as Parquet partitions, one chunk of patients at a time, so
memory is bounded by the partition size, not the cohort size (2,000,000 patients and more)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from features.cohorts.cohort import Cohort
from features.cohorts.parquet import write_manifest, write_partition
from features.cohorts.schema import TABLES
from features.cohorts.synthetic.generator import build_synthetic_cohort
from features.cohorts.validation import build_cohort

ID_PREFIX = "SYN-"


def partition_seed(random_state: int, index: int) -> int:
    """The generator seed of partition ``index``: independent streams from one seed."""
    return int(np.random.SeedSequence([random_state, index]).generate_state(1)[0])


def synthetic_partition(size: int, random_state: int, index: int) -> Cohort:
    """Partition ``index``: ``size`` patients whose identifiers carry the partition number
    (``SYN-00003-000001``, samples ``SYN-00003-000001-P``), unique across partitions."""
    cohort = build_synthetic_cohort(size, partition_seed(random_state, index))
    prefix = f"{ID_PREFIX}{index:05d}-"

    tables = {name: cohort.table(name).copy() for name in TABLES}
    for name in ("patients", "samples", "outcomes"):
        ids = tables[name].index
        tables[name].index = ids.str.replace(ID_PREFIX, prefix, n=1, regex=False).rename(
            ids.name)
    for name, column in (("samples", "patient_id"), ("mutations", "sample_id"),
                         ("copy_number", "sample_id"), ("treatments", "patient_id"),
                         ("structural_variants", "sample_id")):
        tables[name][column] = tables[name][column].astype("string").str.replace(
            ID_PREFIX, prefix, n=1, regex=False)
    metadata = {**cohort.metadata, "random_state": random_state, "partition": index}
    return build_cohort(metadata, **tables)


def write_synthetic_partitions(n_patients: int, random_state: int, folder: Path,
                               partition_size: int = 100_000,
                               progress: Callable[[int, int], None] | None = None) -> int:
    """Write ``n_patients`` synthetic patients to ``folder`` in partitions of at most
    ``partition_size``; returns the number of partitions. ``progress(done, total)`` is called
    after each partition."""
    if n_patients < 1 or partition_size < 1:
        raise ValueError("n_patients and partition_size must be at least 1")
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [min(partition_size, n_patients - start)
             for start in range(0, n_patients, partition_size)]
    metadata: dict = {}
    for index, size in enumerate(sizes):
        cohort = synthetic_partition(size, random_state, index)
        write_partition(cohort, folder, index)
        metadata = {k: v for k, v in cohort.metadata.items() if k != "partition"}
        if progress is not None:
            progress(index + 1, len(sizes))
    metadata["title"] = (f"Synthetic metastatic breast cancer cohort (n={n_patients}, "
                         f"seed={random_state}, {len(sizes)} partitions)")
    write_manifest(folder, metadata, len(sizes), n_patients)
    return len(sizes)
