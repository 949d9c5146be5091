"""``mbcrisk promote NAME``: move the champion alias to the challenger past the gate."""

from __future__ import annotations

import argparse

from training.cli import command_help
from training.cli.common import report
from training.cli.output import output_console
from training.config import load_config
from training.tracking.registry import promote
from training.tracking.store import connect


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``promote``."""
    parser = commands.add_parser(
        "promote", help=command_help("promote"),
        description="Exit 0 when promoted, 3 when not, 2 for an unknown model or no "
        "challenger. Promote the challenger when it is not worse than the champion on the same "
        "evaluation, overall and in every subgroup of enough patients, by at most a margin.")
    parser.add_argument("name", help="registered model, e.g. mbcrisk-relapse")
    parser.add_argument("--margin", type=float, help="allowed shortfall (default from config)")
    parser.add_argument("--config", help="TOML settings (gate section)")
    parser.set_defaults(handler=run)


#: Exit code when the challenger was not promoted (the gate refused it, or it is already the
#: champion); 0 means promoted, 2 bad input (unknown model, no challenger).
EXIT_NOT_PROMOTED = 3


def run(args: argparse.Namespace) -> int:
    """Exit 0 when promoted, 3 when not (the output says why), 2 on bad input."""
    config = load_config(args.config)
    margin = config.gate.margin if args.margin is None else args.margin
    connect()
    decision = promote(args.name, margin, config.gate.min_subgroup_size)
    report(args.name, decision, output_console())
    return 0 if decision.promote else EXIT_NOT_PROMOTED
