"""The ``mbcrisk`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from features.errors import CohortError
from models.errors import ModelLoadError
from training.errors import TrackingError

#: Subcommand -> the module that defines it. Only the module of the command being run is
#: imported, so a light command (validate) does not pay for mlflow, bentoml or shap.
COMMANDS = {
    "validate": "training.cli.validate",
    "synth": "training.cli.synth",
    "train": "training.cli.train",
    "evaluate": "training.cli.train",
    "promote": "training.cli.promote",
    "main": "training.cli.main",
    "tune": "training.cli.tune",
    "explain": "training.cli.explain",
    "card": "training.cli.card",
    "serve": "training.cli.serve",
    "keys": "training.cli.serve",
}

#: Exit code for input that cannot be used (a CohortError); argparse uses 2 for usage errors too.
EXIT_BAD_INPUT = 2

#: Exit code of a command whose output pipe closed (128 + SIGPIPE, as the shell reports it).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE

Command = Callable[[argparse.Namespace], int]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: of the command named first in ``argv`` when there is one (only
    its module is imported), else of every command (for ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="mbcrisk",
        description="Explained relapse-risk and treatment-resistance models for breast cancer.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    first = next((a for a in (argv or []) if not a.startswith("-")), None)
    names = [first] if first in COMMANDS else list(COMMANDS)
    registered: set[str] = set()
    for name in names:
        module_name = COMMANDS[name]
        if module_name in registered:
            continue
        registered.add(module_name)
        module = importlib.import_module(module_name)
        (getattr(module, "add_parsers", None) or module.add_parser)(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code (2 with the error on stderr for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    handler: Command = args.handler
    try:
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except (CohortError, TrackingError, ModelLoadError, ValueError) as error:
        print(f"mbcrisk {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (``mbcrisk validate ... | head``): stop quietly, as a command
        # ended by SIGPIPE does; what remains buffered goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like an error, so an open MLflow run ends as FAILED, not unfinished."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
