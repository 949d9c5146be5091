"""``mbcrisk promote NAME``: move the champion alias to the challenger past the gate."""

from __future__ import annotations

import argparse

from rich.console import Console

from training.cli.common import report
from training.config import load_config
from training.tracking.registry import CHALLENGER, CHAMPION, promote
from training.tracking.store import connect


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


def run(args: argparse.Namespace) -> int:
    """Exit 0 whether or not the gate passed (the output says which); 2 on bad input."""
    config = load_config(args.config)
    margin = config.gate.margin if args.margin is None else args.margin
    connect()
    decision = promote(args.name, margin, config.gate.min_subgroup_size)
    report(args.name, decision, Console())
    return 0
