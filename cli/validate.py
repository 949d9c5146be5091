"""``mbcrisk validate SOURCE``: load and validate a cohort, print its summary and load report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cli import command_help
from cli.cohort_options import add_cohort_options
from cli.output import output_console, print_json
from features.actionability.cohort import cohort_view
from features.cohorts.cbioportal.suggest import suggest_mapping
from features.cohorts.options import LoadOptions
from features.cohorts.sources import BUILTIN_COHORTS, load_cohort


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the ``validate`` subcommand."""
    parser = commands.add_parser(
        "validate",
        help=command_help("validate"),
        description="Load a cohort and print its summary and load report. Exit 0 when it "
        "loads (possibly with exclusions), 2 when it cannot be used.",
    )
    parser.add_argument(
        "source", help=f"a cBioPortal study folder, or a built-in cohort: "
        f"{', '.join(sorted(BUILTIN_COHORTS))}",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--suggest-mapping", action="store_true",
                        help="print a starting column-mapping TOML for the columns not placed")
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="a config file whose [cohort] section says how the study is read "
                        "(panels, columns, [cohort.lines]: the line-of-therapy rules)")
    add_cohort_options(parser)
    parser.set_defaults(handler=run)


def validation_result(source: str, options: LoadOptions | None = None) -> dict[str, Any]:
    """The cohort summary and load report of ``source`` as one JSON-ready dict."""
    cohort, report = load_cohort(source, options)
    result = cohort.summary()
    report_dict = report.to_dict()
    result.update(
        cohort=cohort.metadata.get("name", source),
        synthetic=cohort.synthetic,
        source=report_dict["source"],
        counts_read=report_dict["counts"],
        excluded=report_dict["excluded"],
        recoded=report_dict["recoded"],
        unknown_columns=report_dict["unknown_columns"],
        not_used=report_dict["not_used"],
        columns_read=report_dict["columns_read"],
        warnings=report_dict["warnings"],
        timelines=report_dict["timelines"],
        unknown_agents=report_dict["unknown_agents"],
        line_rules=report_dict["line_rules"],
        actionability=cohort_view(cohort),
    )
    return result


def run(args: argparse.Namespace) -> int:
    """Print the validation result of ``args.source``; 0 when it loads."""
    from training.config import load_config, with_cohort_options

    config = with_cohort_options(load_config(args.config), args.panels, args.columns)
    options = config.cohort.load_options()
    if args.suggest_mapping:
        print(suggest_mapping(args.source), end="")
        return 0
    result = validation_result(args.source, options)
    if args.json:
        print_json(result)
    else:
        render(result, output_console())
    return 0


def render(result: dict[str, Any], console: Console) -> None:
    """A short summary table, then the report's exclusions, recodings and warnings."""
    title = f"Cohort {result['cohort']}" + (" (SYNTHETIC)" if result["synthetic"] else "")
    summary = Table(title=title, show_header=False)
    for key in ("n_patients", "n_samples", "n_mutations", "n_cna_calls", "n_treatment_lines"):
        summary.add_row(key.removeprefix("n_").replace("_", " "), f"{result[key]:,}")
    console.print(summary)
    endpoints = Table(title="Endpoints (months)")
    for column in ("endpoint", "usable", "events", "status missing", "time missing"):
        endpoints.add_column(column, justify="right")
    for name, counts in result["outcomes"].items():
        endpoints.add_row(name, f"{counts['n_known']:,}", f"{counts['n_events']:,}",
                          f"{counts['n_status_missing']:,}", f"{counts['n_time_missing']:,}")
    console.print(endpoints)
    _render_rows(console, "Excluded", ("table", "reason", "count"), result["excluded"])
    _render_rows(console, "Recoded", ("column", "from", "to", "count"), result["recoded"])
    if result["unknown_columns"]:
        names = ", ".join(f"{c['file']}:{c['column']}" for c in result["unknown_columns"])
        console.print(f"[bold]Columns not understood[/bold]: {names}")
    _render_treatments(console, result)
    _render_actionability(console, result["actionability"])
    for row in result["not_used"]:
        console.print(f"[bold]Not used[/bold] {row['file']}:{row['column']}: {row['reason']}")
    for warning in result["warnings"]:
        console.print(f"[yellow]warning[/yellow]: {warning}")


def _render_treatments(console: Console, result: dict[str, Any]) -> None:
    """Per timeline file what was read and left unread; the line rules' counts; unknown
    agents."""
    for timeline in result["timelines"]:
        read = ", ".join(f"{kind} {count:,}" for kind, count in timeline["read"].items()
                         if count)
        unread = ", ".join(f"{kind} {count:,}" for kind, count in timeline["unread"].items()
                           if count)
        console.print(f"[bold]Timeline[/bold] {timeline['file']}: read {read or 'nothing'}"
                      + (f"; left unread {unread}" if unread else ""))
    if result["line_rules"]:
        _render_rows(console, "Lines of therapy derived from agent rows", ("rule", "count"),
                     [{"rule": k, "count": v} for k, v in result["line_rules"].items()])
    if result["unknown_agents"]:
        _render_rows(console, "Agents not in the drug dictionary (classed 'other')",
                     ("agent", "count"),
                     [{"agent": k, "count": v} for k, v in result["unknown_agents"].items()])


def _render_actionability(console: Console, view: dict[str, Any]) -> None:
    """The share of metastatic patients with a tier I or II finding, or why it is not
    comparable."""
    if view["share"] is None:
        console.print(f"[bold]Actionability[/bold] ({view['table_version']}): {view['note']}")
        return
    console.print(f"[bold]Actionability[/bold] ({view['table_version']}): "
                  f"{view['with_tier_i_or_ii']:,} of {view['metastatic_patients']:,} "
                  f"metastatic patients ({view['share']:.0%}) have an ESCAT tier I or II "
                  f"finding; {view['note']}; {view['tumour_calls_only']}")


def _render_rows(console: Console, title: str, columns: tuple[str, ...],
                 rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column == "count" else "left")
    for row in rows:
        table.add_row(*(str(row[c]) if row[c] is not None else "(missing)" for c in columns))
    console.print(table)
