"""``mbcrisk predict``: score a whole cohort with a registered model, to a file, with a shift
report beside it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cli import command_help
from cli.cohort_options import add_cohort_options
from cli.output import name_column, output_console, print_json, steps
from features.cohorts.options import LoadOptions
from training.batch.predict import DEFAULT_TOP, PredictRequest, predict_cohort
from training.tracking.store import connect

#: Features of the shift report printed (the summary file has all of them).
SHOWN_SHIFTS = 10


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``predict``."""
    parser = commands.add_parser(
        "predict", help=command_help("predict"),
        description="One row per patient of the model's task: risk score and its meaning, "
        "risk group, horizon probabilities (relapse, progression) or probability (resistance), the "
        "applicability flag and reasons, and with --explain the top drivers. Beside the "
        "output, <out>.summary.json: counts, exclusions with reasons, the out-of-domain "
        "share and the shift of every feature against the training patients. Exit 2 for "
        "bad input, with nothing written.")
    parser.add_argument("--model", required=True,
                        help="NAME (champion), NAME@alias or NAME/version")
    parser.add_argument("--cohort", required=True,
                        help="study folder, partitioned Parquet cohort or built-in cohort")
    parser.add_argument("--out", type=Path, required=True,
                        help="output table: .parquet or .csv (by extension)")
    parser.add_argument("--explain", action="store_true",
                        help=f"add each patient's top drivers (default {DEFAULT_TOP})")
    parser.add_argument("--top", type=int, help="drivers per patient with --explain")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--log", action="store_true",
                        help="log the summary and counts to MLflow (experiment "
                        "mbcrisk-predict, or the run `mlflow run` opened)")
    parser.add_argument("--engine", choices=("local", "dask"), default="local",
                        help="dask: score Parquet partitions on a Dask cluster")
    parser.add_argument("--scheduler", help="with --engine dask: a scheduler address "
                        "(default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2,
                        help="LocalCluster worker processes (default 2)")
    add_cohort_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Score, write, report; exit 0, or 2 on bad input (ValueError and friends, via main)."""
    if args.top is not None and not args.explain:
        raise ValueError("--top goes with --explain")
    top = (DEFAULT_TOP if args.top is None else args.top) if args.explain else 0
    request = PredictRequest(args.model, args.cohort, args.out, top, args.engine,
                             args.scheduler, args.workers,
                             LoadOptions(args.panels, args.columns))
    connect()
    with steps("cohort pieces scored") as progress:
        started = False

        def on_piece(done: int, total: int) -> None:
            nonlocal started
            if not started:
                progress.start(total)
                started = True
            progress.advance()

        summary = predict_cohort(request, on_piece)
    if args.log:
        log_summary(summary, request)
    if args.json:
        print_json(summary)
    else:
        render(summary, output_console())
    return 0


def log_summary(summary: dict[str, Any], request: PredictRequest) -> None:
    """The summary as an MLflow run of experiment ``mbcrisk-predict`` (or nested under the
    run ``mlflow run`` opened): model and cohort as params, counts as metrics, the summary
    file as an artifact."""
    import mlflow

    from training.tracking.run_records import enter_project_run

    enter_project_run("predict")
    model = summary["model"]
    with mlflow.start_run(run_name=f"predict {model['name']} on {summary['cohort']['name']}",
                          nested=mlflow.active_run() is not None):
        mlflow.log_params({"model": model["name"], "model_version": model["version"],
                           "cohort": summary["cohort"]["source"],
                           "drivers_per_patient": summary["output"]["drivers_per_patient"],
                           "engine": summary["engine"]})
        counts = summary["counts"]
        mlflow.log_metrics({"patients": counts["patients"], "scored": counts["scored"],
                            "excluded": counts["excluded"],
                            "out_of_domain_share": summary["out_of_domain"]["share"],
                            "features_above_notable_shift":
                                summary["shift"]["features_above_notable"]})
        mlflow.log_artifact(str(request.summary_path))


def render(summary: dict[str, Any], console: Console) -> None:
    """Counts, exclusions, the out-of-domain share and the most shifted features."""
    model, counts = summary["model"], summary["counts"]
    console.print(f"{model['name']} version {model['version']} ({model['task']}) on "
                  f"{summary['cohort']['name']}: {counts['scored']:,} of {counts['patients']:,}"
                  f" patients scored to {summary['output']['path']}")
    if model["trained_on_synthetic_data"]:
        console.print("[yellow]note[/yellow]: this model was trained on SYNTHETIC data")
    for exclusion in summary["exclusions"]:
        console.print(f"  excluded {exclusion['count']:,}: {exclusion['reason']}")
    domain = summary["out_of_domain"]
    console.print(f"out of the model's applicability domain: {domain['count']:,} "
                  f"({domain['share']:.1%})")
    for reason in domain["reasons"][:5]:
        console.print(f"  {reason['patients']:,}: {reason['reason']}")
    features = summary["shift"]["features"]
    if features is None:
        console.print(f"shift report: {summary['shift']['reference']}")
    else:
        table = Table(title="shift against the training patients (most shifted first)")
        shown = features[:SHOWN_SHIFTS]
        name_column(table, "feature", cells=[f["feature"] for f in shown])
        for column in ("kind", "training", "cohort", "std. difference", "missing change"):
            name_column(table, column, justify="right")
        for f in shown:
            table.add_row(f["feature"], f["kind"], _number(f["training_mean"]),
                          _number(f["cohort_mean"]), _number(f["standardised_difference"]),
                          _number(f["missingness_change"]))
        console.print(table)
    console.print(f"summary and full shift report: {summary['output']['path']}.summary.json")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
