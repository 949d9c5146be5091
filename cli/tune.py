"""``mbcrisk tune``: the nested tuning procedure behind the models' defaults."""

from __future__ import annotations

import argparse

from rich.table import Table

from cli import command_help
from cli.cohort_options import add_cohort_options
from cli.output import name_column, output_console, print_json, steps
from features.cohorts.sources import load_cohort
from features.design import build_design
from features.labels import labels_for_task
from training.config import TASKS, load_config, with_cohort_options
from training.parallel import check_n_jobs
from training.tuning import candidates, nested_tuning


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``tune``."""
    parser = commands.add_parser(
        "tune", help=command_help("tune"))
    parser.add_argument("--cohort", default="synthetic")
    parser.add_argument("--task", choices=TASKS, default="relapse")
    parser.add_argument("--therapy", default="endocrine")
    parser.add_argument("--outer", type=int, default=5, help="outer folds (default 5)")
    parser.add_argument("--inner", type=int, default=3, help="inner folds (default 3)")
    parser.add_argument("--jobs", type=int, default=-1,
                        help="fits at once, in worker processes (default -1: one per core)")
    parser.add_argument("--json", action="store_true")
    add_cohort_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Tune, then print the outer-fold table and the most chosen candidate."""
    check_n_jobs(args.jobs, "--jobs")
    config = with_cohort_options(load_config(None, task=args.task, therapy=args.therapy),
                                 args.panels, args.columns)
    cohort, _ = load_cohort(args.cohort, config.cohort.load_options())
    labels = labels_for_task(cohort, config.task_name)
    X = build_design(cohort, labels.time_origin)
    total = args.outer * args.inner * len(candidates(labels.kind))
    with steps("tuning fits", total) as fits:
        result = nested_tuning(X, labels, args.outer, args.inner, on_step=fits.advance,
                               n_jobs=args.jobs)
    if args.json:
        print_json({"folds": result.folds.to_dict("records"),
                    "most_chosen": result.most_chosen})
        return 0
    table = Table(title=f"nested tuning: {labels.task} on {args.cohort}")
    for column in result.folds.columns:
        name_column(table, column, justify="right")
    for row in result.folds.itertuples(index=False):
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    console = output_console()
    console.print(table)
    console.print(f"outer score mean {result.folds['outer_score'].mean():.4f}; most chosen: "
                  f"{result.most_chosen}")
    return 0
