"""The ``mbcrisk`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

#: Subcommand -> the module that defines it and its one-line help. Only the module of the
#: command being run is imported, so a light command (validate, ``--help``, ``--version``) does
#: not pay for pandas, mlflow, bentoml or shap.
COMMANDS = {
    "validate": ("cli.validate",
                 "load and validate a cohort; report what was read, excluded and recoded"),
    "synth": ("cli.synth",
              "generate the SYNTHETIC cohort and write it as a cBioPortal study folder"),
    "train": ("cli.train",
              "evaluate the model against baselines by repeated CV, refit on all patients, "
              "log to MLflow and register the new version as challenger"),
    "evaluate": ("cli.train",
                 "cross-validated evaluation only (logged to MLflow, not registered)"),
    "promote": ("cli.promote",
                "move 'champion' to the 'challenger' if it passes the gate"),
    "main": ("cli.main_job",
             "train relapse, progression and endocrine resistance, promote past the gate, "
             "print where results are"),
    "tune": ("cli.tune",
             "nested CV tuning of the boosted model (how the defaults were chosen)"),
    "explain": ("cli.explain",
                "explain a registered model's predictions on a cohort or one patient"),
    "predict": ("cli.predict",
                "score a whole cohort with a registered model to a file, with a shift report"),
    "card": ("cli.card",
             "write the model card (Markdown and self-contained HTML) of a version"),
    "serve": ("cli.serve", "import the champions into BentoML and serve the API"),
    "keys": ("cli.serve", "API keys: create (shown once), revoke, list"),
}


def command_help(name: str) -> str:
    """The one-line help of subcommand ``name`` (one definition, for ``mbcrisk --help`` and
    the command's own parser)."""
    return COMMANDS[name][1]


def version() -> str:
    """The installed mbcrisk version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("mbcrisk")
    except PackageNotFoundError:
        return "unknown (not installed)"


#: Exit code for input that cannot be used (a CohortError); argparse uses 2 for usage errors too.
EXIT_BAD_INPUT = 2

#: Exit code of a command whose output pipe closed (128 + SIGPIPE, as the shell reports it).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE

Command = Callable[[argparse.Namespace], int]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: with the command named first in ``argv`` registered by its module
    (only that module is imported); without one (``--help``), every command listed by name
    and help alone, importing nothing."""
    parser = argparse.ArgumentParser(
        prog="mbcrisk",
        description="Explained relapse-risk and treatment-resistance models for breast cancer.",
    )
    parser.add_argument("--version", action="version", version=f"mbcrisk {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    first = next((a for a in (argv or []) if not a.startswith("-")), None)
    if first not in COMMANDS:
        for name in COMMANDS:
            commands.add_parser(name, help=command_help(name))
        return parser
    module = importlib.import_module(COMMANDS[first][0])
    (getattr(module, "add_parsers", None) or module.add_parser)(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code (2 with the error on stderr for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    from features.cohorts.errors import CohortError  # after parsing: --help imports nothing heavy
    from models.bundles.errors import ModelLoadError
    from training.errors import TrackingError

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
        # a parent that blocked SIGTERM (some thread pools and servers do) passes the block on
        # to the processes it starts: unblocked, so a stop request is always heard
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
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


#: SIGTERMs received. Python ignores an exception a signal handler raises while a finaliser or
#: weakref callback runs (it prints "Exception ignored in ..."), so the request is also kept
#: here and raised again at the next progress step (:func:`stop_if_requested`).
_STOP_REQUESTS: list[int] = []


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like an error, so an open MLflow run ends as FAILED, not unfinished."""
    _STOP_REQUESTS.append(signum)
    raise SystemExit(128 + signum)


def stop_if_requested() -> None:
    """Raise the SystemExit of a SIGTERM whose first raise was swallowed; long commands call
    it at every step of their progress."""
    if _STOP_REQUESTS:
        raise SystemExit(128 + _STOP_REQUESTS[0])


if __name__ == "__main__":
    sys.exit(main())
