"""``mbcrisk train`` and ``mbcrisk evaluate``: cross-validated training with a progress bar and a
summary table (model versus baselines)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from features.registry import BUILTIN_COHORTS
from training.config import load_config
from training.evaluation import PRIMARY_METRIC
from training.train import TrainResult, train

SUMMARY_METRICS = {
    "survival": ("harrell_c", "uno_c", "mean_td_auc", "ibs", "cal_slope_60"),
    "binary": ("auroc", "auprc", "brier", "cal_slope", "cal_intercept"),
}


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``train``, ``evaluate`` and ``main``."""
    parser.add_argument("--cohort", default="synthetic",
                        help=f"study folder or built-in cohort ({', '.join(BUILTIN_COHORTS)}); "
                        "default synthetic")
    parser.add_argument("--config", type=Path, help="TOML file of settings (see docs/config.md)")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``train`` and ``evaluate``."""
    for name, register, text in (
        ("train", True, "evaluate the model against baselines by repeated CV, refit on all "
                        "patients, log to MLflow and register the new version as challenger"),
        ("evaluate", False, "cross-validated evaluation only (logged to MLflow, not registered)"),
    ):
        parser = commands.add_parser(name, help=text, description=text)
        add_task_arguments(parser)
        parser.add_argument("--task", choices=("relapse", "resistance"), default="relapse")
        parser.add_argument("--therapy", default="endocrine",
                            help="therapy class for --task resistance (default endocrine)")
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


def run_training(args: argparse.Namespace, task: str, console: Console) -> TrainResult:
    """Train one task with a progress bar on stderr."""
    config = load_config(args.config, task=task, therapy=getattr(args, "therapy", None),
                         endpoint=getattr(args, "endpoint", None),
                         engine=getattr(args, "engine", None))
    if getattr(args, "scheduler", None) and config.engine != "dask":
        raise ValueError("--scheduler needs --engine dask")
    progress = Progress(TextColumn(f"{config.task_name} folds"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    with progress:
        bar = progress.add_task("folds", total=None)
        result = train(args.cohort, config, register=args.register,
                       on_start=lambda total: progress.update(bar, total=total),
                       on_fold=lambda fold: progress.advance(bar),
                       scheduler=getattr(args, "scheduler", None),
                       n_workers=getattr(args, "workers", 2))
    return result


def summary_table(result: TrainResult, title: str) -> Table:
    """Model versus baselines: mean ± half-width of the 95% interval of the main metrics."""
    kind = result.evaluation.kind
    table = Table(title=title, caption="mean ± half-width of the corrected 95% interval")
    table.add_column("model")
    for metric in SUMMARY_METRICS[kind]:
        table.add_column(metric, justify="right")
    for model, stats in result.evaluation.summary.items():
        cells = []
        for metric in SUMMARY_METRICS[kind]:
            stat = stats.get(metric)
            half = (stat.ci_high - stat.ci_low) / 2 if stat is not None else 0.0
            cells.append("" if stat is None else f"{stat.mean:.3f} ±{half:.3f}")
        table.add_row(model, *cells)
    return table


def run(args: argparse.Namespace) -> int:
    """``train`` / ``evaluate``."""
    console = Console()
    result = run_training(args, args.task, console)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return 0
    primary = PRIMARY_METRIC[result.evaluation.kind]
    console.print(summary_table(
        result, f"{args.task} on {args.cohort}: {result.n_patients} patients, "
                f"{result.n_events} events (ranked by {primary})"))
    console.print(f"run {result.run_id}" + (
        f"; registered {result.model_name} version {result.model_version} as challenger"
        if result.model_name else ""))
    sys.stdout.flush()
    return 0
