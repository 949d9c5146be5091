"""The ``mbcrisk`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from features.errors import CohortError
from models.loading import ModelLoadError
from training import (
    card_command,
    explain_command,
    main_command,
    promote_command,
    serve_command,
    synth_command,
    train_command,
    tune_command,
    validate_command,
)
from training.tracking import TrackingError

#: Exit code for input that cannot be used (a CohortError); argparse uses 2 for usage errors too.
EXIT_BAD_INPUT = 2

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mbcrisk",
        description="Explained relapse-risk and treatment-resistance models for breast cancer.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate_command.add_parser(commands)
    synth_command.add_parser(commands)
    train_command.add_parsers(commands)
    promote_command.add_parser(commands)
    main_command.add_parser(commands)
    tune_command.add_parser(commands)
    explain_command.add_parser(commands)
    card_command.add_parser(commands)
    serve_command.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code (2 with the error on stderr for bad input)."""
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except (CohortError, TrackingError, ModelLoadError, ValueError) as error:
        print(f"mbcrisk {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
