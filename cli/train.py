"""``mbcrisk train`` and ``mbcrisk evaluate``: cross-validated training with a progress bar and a
summary table (model versus baselines)."""

from __future__ import annotations

import argparse
import sys

from cli import command_help
from cli.common import add_task_arguments, run_training, summary_table
from cli.output import output_console, print_json
from training.config import TASKS
from training.evaluation.cross_validation import PRIMARY_METRIC


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``train`` and ``evaluate``."""
    for name, register in (("train", True), ("evaluate", False)):
        text = command_help(name)
        parser = commands.add_parser(name, help=text, description=text)
        add_task_arguments(parser)
        parser.add_argument("--task", choices=TASKS,
                            help="default: the config file's task, else relapse")
        parser.add_argument("--therapy", help="therapy class for --task resistance (default: "
                            "the config file's, else endocrine)")
        parser.add_argument("--endpoint", help="relapse endpoint name (default: the cohort's "
                            "relapse-type endpoint, e.g. rfs)")
        parser.add_argument("--engine", choices=("local", "dask"),
                            help="local: one process (default); dask: a Dask cluster with "
                            "xgboost.dask, from a partitioned Parquet cohort (relapse only; "
                            "docs/distributed.md)")
        parser.add_argument("--scheduler", metavar="ADDRESS",
                            help="with --engine dask: the scheduler of an existing cluster "
                            "(e.g. tcp://10.0.0.5:8786); default: a LocalCluster")
        parser.add_argument("--workers", type=int, default=2,
                            help="with --engine dask and no --scheduler: LocalCluster worker "
                            "processes (default 2)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.set_defaults(handler=run, register=register)


def run(args: argparse.Namespace) -> int:
    """``train`` / ``evaluate``."""
    console = output_console()
    task, result = run_training(args, args.task, console)
    if args.json:
        print_json(result.as_json())
        return 0
    primary = PRIMARY_METRIC[result.evaluation.kind]
    console.print(summary_table(
        result, f"{task} on {args.cohort}: {result.n_patients} patients, "
                f"{result.n_events} events (ranked by {primary})"))
    console.print(f"run {result.run_id}" + (
        f"; registered {result.model_name} version {result.model_version} as challenger"
        if result.model_name else ""))
    sys.stdout.flush()
    return 0
