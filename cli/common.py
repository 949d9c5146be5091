"""What several commands share: the task arguments, training with a progress bar, and the
tables of results and gate decisions."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cli.cohort_options import add_cohort_options
from cli.output import name_column, steps
from features.cohorts.sources import BUILTIN_COHORTS
from training.config import TrainConfig, load_config, with_cohort_options
from training.tracking.registry import GateDecision
from training.train import TrainResult, train

SUMMARY_METRICS = {
    "survival": ("harrell_c", "uno_c", "mean_td_auc", "ibs"),
    "binary": ("auroc", "auprc", "brier", "cal_slope", "cal_intercept"),
}


def summary_metrics(result: TrainResult) -> tuple[str, ...]:
    """The table's metrics: :data:`SUMMARY_METRICS`, and for a survival model the calibration
    slope at its longest served horizon."""
    evaluation = result.evaluation
    if evaluation.kind != "survival" or not evaluation.horizons_months:
        return SUMMARY_METRICS[evaluation.kind]
    return (*SUMMARY_METRICS["survival"], f"cal_slope_{max(evaluation.horizons_months):g}")


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``train``, ``evaluate`` and ``main``."""
    parser.add_argument("--cohort", default="synthetic",
                        help=f"study folder or built-in cohort ({', '.join(BUILTIN_COHORTS)}); "
                        "default synthetic")
    parser.add_argument("--config", type=Path, help="TOML file of settings (see docs/config.md)")
    add_cohort_options(parser)


def training_config(args: argparse.Namespace, task: str | None) -> TrainConfig:
    """The config file (``--config``; defaults where silent) with what the command line sets
    in its place: ``task`` and, when given, ``--therapy``, ``--endpoint``, ``--engine``,
    ``--panels`` and ``--columns``."""
    config = load_config(args.config, task=task, therapy=getattr(args, "therapy", None),
                         endpoint=getattr(args, "endpoint", None),
                         engine=getattr(args, "engine", None))
    return with_cohort_options(config, args.panels, args.columns)


def run_training(args: argparse.Namespace, task: str | None, console: Console,
                 ) -> tuple[str, TrainResult]:
    """Train one task (``task``, else the config file's, else relapse) with a progress bar on
    stderr; the task's name (``resistance_endocrine``...) and the result."""
    config = training_config(args, task)
    if getattr(args, "scheduler", None) and config.engine != "dask":
        raise ValueError("--scheduler needs --engine dask")
    with steps(f"{config.task_name} folds") as folds:
        result = train(args.cohort, config, register=args.register,
                       on_start=folds.start, on_fold=lambda fold: folds.advance(),
                       scheduler=getattr(args, "scheduler", None),
                       n_workers=getattr(args, "workers", 2))
    return config.task_name, result


def summary_table(result: TrainResult, title: str) -> Table:
    """Model versus baselines: mean ± half-width of the 95% interval of the main metrics, and
    the run's notes (events per candidate feature) under it."""
    caption = "\n".join(["mean ± half-width of the corrected 95% interval", *result.notes])
    table = Table(title=title, caption=caption)
    name_column(table, "model", cells=result.evaluation.summary)
    metrics = summary_metrics(result)
    for metric in metrics:
        name_column(table, metric, justify="right")
    for model, stats in result.evaluation.summary.items():
        cells = []
        for metric in metrics:
            stat = stats.get(metric)
            half = (stat.ci_high - stat.ci_low) / 2 if stat is not None else 0.0
            cells.append("" if stat is None else f"{stat.mean:.3f} ±{half:.3f}")
        table.add_row(model, *cells)
    return table


def report(name: str, decision: GateDecision, console: Console) -> None:
    """Print the decision, its reasons and the comparisons."""
    verdict = "PROMOTED" if decision.promote else "NOT promoted"
    console.print(f"{name}: {verdict}")
    for reason in decision.reasons:
        console.print(f"  - {reason}")
    if decision.comparisons:
        table = Table()
        name_column(table, "scope", cells=[c["scope"] for c in decision.comparisons])
        for column in ("n", "challenger", "champion", "passed"):
            name_column(table, column)
        for c in decision.comparisons:
            table.add_row(c["scope"], "" if c["n"] is None else str(c["n"]),
                          f"{c['challenger']:.4f}", f"{c['champion']:.4f}", str(c["passed"]))
        console.print(table)
