"""``mbcrisk card``: write a registered model version's card and log it to the version's run."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import command_help
from training.reporting.publish import CARD_ARTIFACT_DIR, publish_card
from training.tracking.store import connect


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``card``."""
    parser = commands.add_parser(
        "card", help=command_help("card"))
    parser.add_argument("--model", required=True,
                        help="NAME (champion), NAME@alias or NAME/version")
    parser.add_argument("--out", type=Path, help="folder for model_card.md and .html "
                        "(default: only logged to the run)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write and log the card."""
    connect()
    out, run_id = publish_card(args.model, args.out)
    where = f" and written to {out}" if out else ""
    print(f"model card logged to run {run_id} under {CARD_ARTIFACT_DIR}/{where}")
    return 0
