"""``mbcrisk explain``: explanations of a registered model on a cohort, or for one patient."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from features.design import build_design, protein_changes
from features.labels import labels_for_task
from features.registry import load_cohort
from models.explain import check_additivity, explain, top_contributions, top_groups
from models.loading import load_registered_bundle
from training.explain_plots import write_cohort_views, write_waterfall
from training.tracking import connect

TOP = 8


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``explain``."""
    parser = commands.add_parser(
        "explain", help="explain a registered model's predictions on a cohort or one patient")
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
    registered = load_registered_bundle(args.model)
    bundle = registered.bundle
    cohort, _ = load_cohort(args.cohort)
    origin = labels_for_task(cohort, bundle.task).time_origin
    X = build_design(cohort, origin)
    absent = [c for c in bundle.input_features if c not in X.columns]
    explanation = explain(bundle, X)
    gap = check_additivity(explanation)
    note = " (SYNTHETIC data)" if cohort.synthetic else ""
    model = {"name": registered.name, "version": registered.version,
             "alias": registered.alias, "run_id": registered.run_id}
    if args.patient is not None:
        if args.patient not in X.index:
            raise ValueError(f"patient {args.patient!r} is not among the {len(X)} patients of "
                             f"task {bundle.task} in this cohort")
        row = X.index.get_loc(args.patient)
        details = protein_changes(cohort, origin).get(args.patient, {})
        result = {"model": model, "patient_id": args.patient, "scale": explanation.scale,
                  "base_value": float(explanation.base_value[row]),
                  "margin": float(explanation.margin[row]),
                  "prediction": bundle.predict(X.iloc[[row]]).iloc[0].to_dict(),
                  "groups": top_groups(explanation, row, TOP, details),
                  "features": top_contributions(explanation, row, TOP, details),
                  "additivity_gap": gap, "inputs_not_in_cohort": len(absent)}
        write_waterfall(explanation, row, args.out / f"waterfall_{_safe(args.patient)}.png",
                        note)
    else:
        write_cohort_views(explanation, args.out, note)
        result = {"model": model, "n_patients": len(X), "scale": explanation.scale,
                  "importance_groups": explanation.importance("group").round(6).to_dict(),
                  "importance_features": explanation.importance("feature").head(30)
                  .round(6).to_dict(), "additivity_gap": gap,
                  "inputs_not_in_cohort": len(absent), "files": str(args.out)}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _render(result, Console())
    return 0


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)


def _render(result: dict, console: Console) -> None:
    model = result["model"]
    console.print(f"{model['name']} version {model['version']} ({result['scale']})")
    if "groups" in result:
        table = Table("group", "value", "contribution", "effect")
        for record in result["groups"]:
            change = record.get("relapse_free_change_points", {})
            effect = ", ".join(f"{h}: {v:+.1f} pts" for h, v in change.items())
            table.add_row(record["group"], record["value_shown"],
                          f"{record['contribution']:+.3f}", effect)
        console.print(table)
        for record in result["groups"]:
            console.print(f"- {record['sentence']}")
    else:
        table = Table("group", "mean |contribution|")
        for group, value in list(result["importance_groups"].items())[:15]:
            table.add_row(group, f"{value:.4f}")
        console.print(table)
        console.print(f"plots and tables in {result['files']}")
    if result["inputs_not_in_cohort"]:
        console.print(f"[yellow]warning[/yellow]: {result['inputs_not_in_cohort']} model inputs "
                      "are absent from this cohort and taken as unknown")
