"""``mbcrisk predict``: a registered model scores a whole cohort to one table (one row per
patient of the model's task) and writes the summary and shift report beside it.

A partitioned Parquet cohort is read and scored one partition at a time (locally, or on a Dask
cluster with a bounded number of partitions in flight), so memory stays bounded by a partition,
not by the cohort; any other cohort is loaded once and scored in blocks. The table and its
summary appear only when everything was written (:mod:`training.batch.table_writer`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.actionability.cohort import ACTIONABILITY_COLUMNS
from features.actionability.table import load_table
from features.cohorts.options import LoadOptions
from features.cohorts.parquet import is_parquet_cohort, read_manifest, read_partition
from features.cohorts.sources import load_cohort
from models.bundles.bundle import ModelBundle
from models.loading import RegisteredBundle, load_registered_bundle
from models.scoring import BundleScorer
from training.batch.scoring import (
    Tally,
    output_columns,
    refuse_without_minimum_data,
    score_piece,
)
from training.batch.shift import NOTABLE_DIFFERENCE, shift_report
from training.batch.table_writer import AtomicTableWriter, output_format, partial_path

#: Drivers per patient with ``--explain`` unless ``--top`` says otherwise.
DEFAULT_TOP = 5
#: Partitions in flight per Dask worker (results wait on workers until written).
IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class PredictRequest:
    """What to score and where: a model reference, a cohort source and the output file;
    ``top`` drivers per patient (0: no explanation); ``engine`` ``local`` or ``dask``."""

    model: str
    cohort: str
    out: Path
    top: int = 0
    engine: str = "local"
    scheduler: str | None = None
    n_workers: int = 2
    options: LoadOptions | None = None

    @property
    def summary_path(self) -> Path:
        """``<out>.summary.json``."""
        return self.out.with_name(self.out.name + ".summary.json")


def predict_cohort(request: PredictRequest,
                   on_piece: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Score the cohort, write the table and ``<out>.summary.json``; return the summary.
    ``on_piece(done, total)`` reports progress. ValueError (nothing written) for an output
    that cannot be written, an unknown engine, or a cohort the model cannot score;
    ModelLoadError for an unknown model."""
    output_format(request.out)
    if request.top < 0:
        raise ValueError("--top must be 0 or more")
    if request.engine not in ("local", "dask"):
        raise ValueError(f"unknown engine {request.engine!r}; choose local or dask")
    partitioned = is_parquet_cohort(request.cohort)
    if request.engine == "dask" and not partitioned:
        raise ValueError("--engine dask scores a partitioned Parquet cohort (mbcrisk synth "
                         "--format parquet writes one)")
    registered = load_registered_bundle(request.model)
    bundle = registered.bundle
    scorer = BundleScorer.of(bundle)
    started = time.perf_counter()
    tally = Tally(scorer.features)
    summary_partial = partial_path(request.summary_path)
    try:
        with AtomicTableWriter(request.out) as writer:
            if request.engine == "dask":
                pieces = _dask_pieces(request, bundle, on_piece)
            elif partitioned:
                pieces = _partition_pieces(request.cohort, bundle, scorer, request.top,
                                           on_piece)
            else:
                pieces = _cohort_pieces(request, bundle, scorer, on_piece)
            name = None
            for piece_name, frames, piece_tally in pieces:
                name = name or piece_name
                for frame in frames:
                    writer.write(frame)
                tally.merge(piece_tally)
            refuse_without_minimum_data(tally, bundle.task)
            summary = build_summary(registered, request, name or str(request.cohort), tally,
                                    time.perf_counter() - started)
            summary_partial.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        summary_partial.unlink(missing_ok=True)
        raise
    os.replace(summary_partial, request.summary_path)
    return summary


Piece = tuple[str, Iterator[pd.DataFrame], Tally]


def _cohort_pieces(request: PredictRequest, bundle: ModelBundle, scorer: BundleScorer,
                   on_piece: Callable[[int, int], None] | None) -> Iterator[Piece]:
    cohort, _ = load_cohort(request.cohort, request.options)
    frames, tally = score_piece(bundle, scorer, cohort, request.top)
    yield str(cohort.metadata.get("name", request.cohort)), frames, tally
    if on_piece is not None:
        on_piece(1, 1)


def _partition_pieces(source: str, bundle: ModelBundle, scorer: BundleScorer, top: int,
                      on_piece: Callable[[int, int], None] | None) -> Iterator[Piece]:
    total = read_manifest(source)["partitions"]
    for index in range(total):
        cohort = read_partition(source, index)
        frames, tally = score_piece(bundle, scorer, cohort, top)
        yield str(cohort.metadata.get("name", source)), frames, tally
        if on_piece is not None:
            on_piece(index + 1, total)


def score_partition(source: str, index: int, bundle: ModelBundle,
                    top: int) -> tuple[str, pd.DataFrame, Tally]:
    """One partition scored whole, on a Dask worker: its name, table and tally."""
    cohort = read_partition(source, index)
    frames, tally = score_piece(bundle, BundleScorer.of(bundle), cohort, top)
    table = pd.concat(list(frames), ignore_index=True)
    return str(cohort.metadata.get("name", source)), table, tally


def _dask_pieces(request: PredictRequest, bundle: ModelBundle,
                 on_piece: Callable[[int, int], None] | None) -> Iterator[Piece]:
    from training.distributed.cohort import dask_client

    source = str(Path(request.cohort).resolve())
    total = read_manifest(source)["partitions"]
    with dask_client(request.scheduler, request.n_workers) as client:
        shared = client.scatter(bundle, broadcast=True)
        window = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
        pending = [client.submit(score_partition, source, k, shared, request.top, pure=False)
                   for k in range(min(window, total))]
        for index in range(total):
            name, table, tally = pending.pop(0).result()
            following = index + len(pending) + 1
            if following < total:
                pending.append(client.submit(score_partition, source, following, shared,
                                             request.top, pure=False))
            yield name, iter([table]), tally
            if on_piece is not None:
                on_piece(index + 1, total)


def build_summary(registered: RegisteredBundle, request: PredictRequest, cohort_name: str,
                  tally: Tally, seconds: float) -> dict[str, Any]:
    """The ``<out>.summary.json`` object: the model, counts, exclusions with reasons, the
    out-of-domain share, and the shift report against the training patients."""
    bundle = registered.bundle
    scored = max(tally.n_scored, 1)
    reference = bundle.training_moments
    shift = shift_report(reference, tally.moments) if reference is not None else None
    notable = [r["feature"] for r in shift or []
               if abs(r["standardised_difference"] or 0.0) > NOTABLE_DIFFERENCE]
    return {
        "model": {"name": registered.name, "version": registered.version,
                  "alias": registered.alias, "task": bundle.task,
                  "label_definition": bundle.label_definition, "origin": bundle.origin,
                  "risk_score_meaning": bundle.score_meaning,
                  "trained_on": bundle.cohort.get("name"),
                  "trained_on_synthetic_data": bool(bundle.cohort.get("synthetic"))},
        "cohort": {"source": str(request.cohort), "name": cohort_name},
        "output": {"path": str(request.out), "format": output_format(request.out),
                   "columns": output_columns(bundle, request.top),
                   "drivers_per_patient": request.top},
        "counts": {"patients": tally.n_patients, "scored": tally.n_scored,
                   "excluded": sum(tally.exclusions.values()),
                   "with_unprofiled_inputs_averaged": tally.n_unprofiled,
                   "with_escat_tier_i_or_ii": tally.n_actionable},
        "actionability": {
            "table_version": load_table().version,
            "scored_with_tier_i_or_ii": tally.n_actionable,
            "columns": list(ACTIONABILITY_COLUMNS),
            "note": "evidence levels of the ESCAT table (docs/actionability.md), not "
                    "recommendations; cohort calls carry no germline origin"},
        "exclusions": [{"reason": reason, "count": count}
                       for reason, count in tally.exclusions.most_common()],
        "out_of_domain": {
            "count": tally.n_out_of_domain,
            "share": round(tally.n_out_of_domain / scored, 4),
            "reasons": [{"reason": reason, "patients": count}
                        for reason, count in tally.out_of_domain_reasons.most_common()]},
        "inputs_not_in_cohort": sorted(tally.inputs_not_in_cohort),
        "shift": {"reference": "the model's training patients" if shift is not None else
                  "none: this model version was trained before bundles kept the training "
                  "patients' feature moments",
                  "notable_difference": NOTABLE_DIFFERENCE,
                  "features_above_notable": len(notable),
                  "features": shift},
        "engine": request.engine,
        "seconds": round(seconds, 2),
    }
