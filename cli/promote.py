"""``mbcrisk promote NAME``: move the champion alias to the challenger past the gate."""

from __future__ import annotations

import argparse

from cli import command_help
from cli.common import report
from cli.output import output_console
from cli.servability import unservable_inputs, unservable_refusal
from training.config import load_config
from training.reporting.publish import publish_card
from training.tracking.registry import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    promote,
    rollback,
)
from training.tracking.store import connect


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``promote``."""
    parser = commands.add_parser(
        "promote", help=command_help("promote"),
        description="Exit 0 when promoted, 3 when not, 2 for an unknown model or no "
        "challenger. Promote the challenger when it is not worse than the champion, overall "
        "and in every subgroup of enough patients, by at most a margin: on the same evaluation "
        "when both were trained on one cohort; on the challenger's cohort and folds (the "
        "champion scored as trained) when the challenger was trained on another.")
    parser.add_argument("name", help="registered model, e.g. mbcrisk-relapse")
    parser.add_argument("--margin", type=float, help="allowed shortfall (default from config)")
    parser.add_argument("--config", help="TOML settings (gate section)")
    parser.add_argument("--accept-new-cohort", action="store_true",
                        help="promote a challenger trained on another cohort even if the "
                        "new-cohort comparison refuses it (needs --reason; both recorded in "
                        "the registry and the model card)")
    parser.add_argument("--accept-unservable", action="store_true",
                        help="promote a challenger whose top inputs the API cannot supply "
                        "(needs --reason; recorded)")
    parser.add_argument("--reason", help="why the override is accepted")
    parser.add_argument("--rollback", action="store_true",
                        help="give the champion alias back to the version the current "
                        "champion was promoted over (recorded on both)")
    parser.set_defaults(handler=run)


#: Exit code when the challenger was not promoted (the gate refused it, or it is already the
#: champion); 0 means promoted, 2 bad input (unknown model, no challenger).
EXIT_NOT_PROMOTED = 3


def run(args: argparse.Namespace) -> int:
    """Exit 0 when promoted (or rolled back), 3 when not (the output says why), 2 on bad
    input."""
    config = load_config(args.config)
    margin = config.gate.margin if args.margin is None else args.margin
    overriding = args.accept_new_cohort or args.accept_unservable
    if args.reason is not None and not overriding:
        raise ValueError("--reason goes with --accept-new-cohort or --accept-unservable")
    if overriding and not (args.reason or "").strip():
        flag = "--accept-new-cohort" if args.accept_new_cohort else "--accept-unservable"
        raise ValueError(f"{flag} needs --reason TEXT (it is recorded)")
    connect()
    console = output_console()
    if args.rollback:
        restored, retired = rollback(args.name)
        console.print(f"{args.name}: champion is version {restored} again (version {retired} "
                      "rolled back)")
        publish_card(f"{args.name}@champion")
        return 0
    recorded, blockers = {}, []
    challenger = alias_version(args.name, CHALLENGER)
    if challenger is not None and challenger != alias_version(args.name, CHAMPION):
        unservable = unservable_inputs(args.name, challenger)
        if unservable and not args.accept_unservable:
            blockers.append(unservable_refusal(challenger, unservable))
        elif unservable:
            recorded = {"mbcrisk.accepted_unservable": ", ".join(unservable),
                        "mbcrisk.accepted_unservable_reason": args.reason.strip()}
    decision = promote(args.name, margin, config.gate.min_subgroup_size,
                       accept_new_cohort=args.reason if args.accept_new_cohort else None,
                       recorded=recorded, blockers=blockers)
    report(args.name, decision, console)
    if decision.promote:  # the card shows the aliases and how the version was promoted
        publish_card(f"{args.name}@champion")
    return 0 if decision.promote else EXIT_NOT_PROMOTED
