"""``mbcrisk synth``: write the synthetic cohort as a cBioPortal study folder, or as Parquet
partitions generated one at a time (for cohorts larger than memory)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cli import command_help, stop_if_requested
from features.cohorts.cbioportal.dialect_writer import DIALECTS, write_study_dialect
from features.cohorts.synthetic import build_synthetic_cohort
from features.cohorts.synthetic.partitioned import write_synthetic_partitions


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``synth`` subcommand."""
    parser = commands.add_parser(
        "synth",
        help=command_help("synth"),
        description="Generate the synthetic metastatic breast cancer cohort (documented "
        "generative model, planted effects) and write it where `mbcrisk validate` and "
        "`mbcrisk train` read real studies.",
    )
    parser.add_argument("--n", type=int, default=5000, help="patients (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="study folder to write")
    parser.add_argument("--format", choices=("cbioportal", "parquet"), default="cbioportal",
                        help="cbioportal: a study folder (default); parquet: partitions of "
                             "--partition-size patients, generated one at a time")
    parser.add_argument("--dialect", choices=DIALECTS, default="cbioportal",
                        help="with the cbioportal format: write the conventions of another "
                        "kind of study (docs/cohorts.md); default: cBioPortal's standard")
    parser.add_argument("--partition-size", type=int, default=100_000,
                        help="patients per Parquet partition (default 100000)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate, write, and say how long each took."""
    if args.n < 1:
        raise SystemExit("mbcrisk synth: error: --n must be at least 1")
    if args.format == "parquet":
        return _run_parquet(args)
    started = time.perf_counter()
    cohort = build_synthetic_cohort(args.n, args.seed)
    generated = time.perf_counter()
    write_study_dialect(cohort, args.out, args.dialect)
    written = time.perf_counter()
    print(f"SYNTHETIC cohort: {len(cohort.patients):,} patients, {len(cohort.samples):,} samples, "
          f"{len(cohort.mutations):,} mutations, {len(cohort.treatments):,} treatment lines")
    print(f"generated in {generated - started:.2f} s, written to {args.out} in "
          f"{written - generated:.2f} s")
    return 0


def _run_parquet(args: argparse.Namespace) -> int:
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        stop_if_requested()  # a SIGTERM whose first raise was swallowed stops it here
        print(f"partition {done}/{total} written ({time.perf_counter() - started:.1f} s)",
              flush=True)

    partitions = write_synthetic_partitions(args.n, args.seed, args.out, args.partition_size,
                                            progress)
    print(f"SYNTHETIC cohort: {args.n:,} patients in {partitions} Parquet partitions at "
          f"{args.out} ({time.perf_counter() - started:.1f} s)")
    return 0
