"""``mbcrisk main``: the main job of MLproject's ``main`` entry point and ``make run``: train
relapse, progression on a line (where the cohort dates its lines) and endocrine resistance,
promote each past the gate, say where everything is."""

from __future__ import annotations

import argparse

from cli import command_help
from cli.common import add_task_arguments, report, run_training, summary_table
from cli.output import output_console
from cli.servability import unservable_inputs, unservable_refusal
from features.labels import TaskNotApplicable
from training.config import TASKS, load_config
from training.reporting.publish import publish_card
from training.tracking.registry import promote
from training.tracking.store import tracking_uri


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``main``."""
    parser = commands.add_parser(
        "main", help=command_help("main"))
    add_task_arguments(parser)
    parser.set_defaults(handler=run, register=True, therapy="endocrine", endpoint=None)


def run(args: argparse.Namespace) -> int:
    """Train, promote and point at the MLflow UI, runs and models."""
    console = output_console()
    config = load_config(args.config)
    for task in TASKS:
        try:
            _, result = run_training(args, task, console)
        except TaskNotApplicable as reason:
            console.print(f"{task}: not trained on {args.cohort}: {reason}\n")
            continue
        console.print(summary_table(result, f"{task} on {args.cohort}: {result.n_patients} "
                                            f"patients, {result.n_events} events"))
        unservable = unservable_inputs(result.model_name, result.model_version)
        decision = promote(result.model_name, config.gate.margin, config.gate.min_subgroup_size,
                           blockers=[unservable_refusal(result.model_version, unservable)]
                           if unservable else None)
        report(result.model_name, decision, console)
        publish_card(f"{result.model_name}/{result.model_version}")  # aliases now final
        console.print(f"run: {result.run_id}\nmodel: models:/{result.model_name}/"
                      f"{result.model_version} (challenger"
                      f"{', champion' if decision.promote else ''})\n")
    console.print(f"MLflow store: {tracking_uri()}\nMLflow UI: .venv/bin/mlflow ui "
                  f"--backend-store-uri {tracking_uri()}  (then open http://127.0.0.1:5000)")
    return 0
