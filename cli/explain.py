"""``mbcrisk explain``: explanations of a registered model on a cohort, or for one patient."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cli import command_help
from cli.output import output_console, print_json
from training.reporting.explanations import explain_registered
from training.tracking.store import connect


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``explain``."""
    parser = commands.add_parser(
        "explain", help=command_help("explain"))
    parser.add_argument("--model", required=True,
                        help="NAME (champion), NAME@alias or NAME/version")
    parser.add_argument("--cohort", required=True, help="study folder or built-in cohort")
    parser.add_argument("--patient", help="one patient's identifier (pseudonymous)")
    parser.add_argument("--out", type=Path, default=Path("explanations"),
                        help="folder for PNG and CSV files (default ./explanations)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Explain; exit 2 with a message for an unknown patient or model."""
    connect()
    result = explain_registered(args.model, args.cohort, args.patient, args.out)
    if args.json:
        print_json(result)
    else:
        _render(result, output_console())
    return 0


def _render(result: dict, console: Console) -> None:
    model = result["model"]
    console.print(f"{model['name']} version {model['version']} ({result['scale']})")
    if "groups" in result:
        table = Table("group", "value", "contribution", "effect")
        for record in result["groups"]:
            change = record.get("event_free_change_points", {})
            effect = ", ".join(f"{h}: {v:+.1f} pts" for h, v in change.items())
            table.add_row(record["group"], record["value_shown"],
                          f"{record['contribution']:+.3f}", effect)
        console.print(table)
        for record in result["groups"]:
            console.print(f"- {record['sentence']}")
        if result.get("unprofiled"):
            console.print(f"- {result['unprofiled']['sentence']}")
    else:
        table = Table("group", "mean |contribution|")
        for group, value in list(result["importance_groups"].items())[:15]:
            table.add_row(group, f"{value:.4f}")
        console.print(table)
        console.print(f"plots and tables in {result['files']}")
    if result["inputs_not_in_cohort"]:
        console.print(f"[yellow]warning[/yellow]: {result['inputs_not_in_cohort']} model inputs "
                      "are absent from this cohort and taken as unknown")
