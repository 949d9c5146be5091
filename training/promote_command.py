"""``mbcrisk promote NAME``: move the champion alias to the challenger past the gate."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from training.config import load_config
from training.registry import CHALLENGER, CHAMPION, GateDecision, promote
from training.tracking import connect


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``promote``."""
    parser = commands.add_parser(
        "promote", help=f"move '{CHAMPION}' to the '{CHALLENGER}' if it passes the gate",
        description="Promote the challenger when it is not worse than the champion on the same "
        "evaluation, overall and in every subgroup of enough patients, by at most a margin.")
    parser.add_argument("name", help="registered model, e.g. mbcrisk-relapse")
    parser.add_argument("--margin", type=float, help="allowed shortfall (default from config)")
    parser.add_argument("--config", help="TOML settings (gate section)")
    parser.set_defaults(handler=run)


def report(name: str, decision: GateDecision, console: Console) -> None:
    """Print the decision, its reasons and the comparisons."""
    verdict = "PROMOTED" if decision.promote else "NOT promoted"
    console.print(f"{name}: {verdict}")
    for reason in decision.reasons:
        console.print(f"  - {reason}")
    if decision.comparisons:
        table = Table("scope", "n", "challenger", "champion", "passed")
        for c in decision.comparisons:
            table.add_row(c["scope"], "" if c["n"] is None else str(c["n"]),
                          f"{c['challenger']:.4f}", f"{c['champion']:.4f}", str(c["passed"]))
        console.print(table)


def run(args: argparse.Namespace) -> int:
    """Exit 0 whether or not the gate passed (the output says which); 2 on bad input."""
    config = load_config(args.config)
    margin = config.gate.margin if args.margin is None else args.margin
    connect()
    decision = promote(args.name, margin, config.gate.min_subgroup_size)
    report(args.name, decision, Console())
    return 0
