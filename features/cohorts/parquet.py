"""Cohorts stored as Parquet partitions, for cohorts too large to hold in one process.

Layout: ``DIR/cohort.json`` (the manifest: metadata, number of partitions and patients) and
``DIR/<table>/part-00000.parquet``, one file per partition for each of the eight tables. A
partition holds whole patients (every row of theirs in every table), so each partition is a
valid cohort on its own and partition-wise work (labels, the design) needs no shuffle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from features.cohorts.cohort import Cohort
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.schema import ADDED_TABLES, SCHEMAS, TABLES
from features.cohorts.validation import build_cohort

MANIFEST = "cohort.json"
PARTITION_FILE = "part-{:05d}.parquet"


def is_parquet_cohort(folder: str | Path) -> bool:
    """Whether ``folder`` holds a partitioned Parquet cohort (it has the manifest)."""
    return (Path(folder) / MANIFEST).is_file()


def write_partition(cohort: Cohort, folder: Path, index: int) -> None:
    """Write ``cohort`` as partition ``index`` of the cohort in ``folder``."""
    for name in TABLES:
        table = cohort.table(name)
        if SCHEMAS[name].index is not None:
            table = table.reset_index()
        path = folder / name / PARTITION_FILE.format(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_parquet(path, index=False)


def write_manifest(folder: Path, metadata: dict[str, Any], partitions: int,
                   n_patients: int) -> None:
    """The manifest that makes ``folder`` a cohort: written last, once the partitions exist."""
    manifest = {"metadata": metadata, "partitions": partitions, "n_patients": n_patients,
                "tables": list(TABLES), "format": "mbcrisk parquet cohort 1"}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of the cohort in ``folder``; CohortError when absent or unreadable."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CohortError("no Parquet cohort manifest", file=str(path)) from error
    except (OSError, ValueError) as error:
        raise CohortError(f"manifest cannot be read ({error})", file=str(path)) from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("partitions"), int):
        raise CohortError("manifest without a partition count", file=str(path),
                          expected='{"partitions": N, ...}')
    if not isinstance(manifest.get("metadata"), dict):
        raise CohortError("manifest without metadata", file=str(path),
                          expected='{"metadata": {...}, ...}')
    return manifest


def read_partition(folder: str | Path, index: int) -> Cohort:
    """Partition ``index`` as a validated cohort (CohortError naming the file otherwise)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not 0 <= index < manifest["partitions"]:
        raise CohortError(f"no partition {index}", file=str(folder / MANIFEST),
                          expected=f"0 to {manifest['partitions'] - 1}")
    tables = {}
    for name in TABLES:
        path = folder / name / PARTITION_FILE.format(index)
        if name in ADDED_TABLES and not path.parent.exists():
            continue  # written before the table existed: empty
        try:
            tables[name] = pd.read_parquet(path)
        except FileNotFoundError as error:
            raise CohortError("partition file missing", file=str(path)) from error
        except (OSError, ValueError) as error:
            raise CohortError(f"not a readable Parquet file ({error})", file=str(path)) from error
    try:
        return build_cohort({**manifest["metadata"], "partition": index}, **tables)
    except CohortError as error:
        raise CohortError(f"partition {index}: {error}", file=str(folder)) from error


def load_parquet_cohort(folder: str | Path) -> tuple[Cohort, LoadReport]:
    """Every partition, concatenated and validated as one cohort: for cohorts that fit in
    memory (the distributed path reads partition by partition instead)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    parts = [read_partition(folder, k) for k in range(manifest["partitions"])]
    tables = {}
    for name in TABLES:
        frames = [part.table(name) for part in parts]
        frame = pd.concat(frames) if frames else pd.DataFrame()
        if name == "panels":  # panel definitions repeat in every partition
            frame = frame.drop_duplicates(ignore_index=True)
        tables[name] = frame
    cohort = build_cohort(dict(manifest["metadata"]), **tables)
    report = LoadReport(source=str(folder))
    report.counts.update({"patients": len(cohort.patients), "samples": len(cohort.samples),
                          "mutations": len(cohort.mutations),
                          "cna_calls": len(cohort.copy_number),
                          "treatment_lines": len(cohort.treatments),
                          "partitions": manifest["partitions"]})
    return cohort, report
