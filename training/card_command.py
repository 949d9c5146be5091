"""``mbcrisk card``: write a registered model version's card and log it to the version's run."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mlflow import MlflowClient

from training.card import write_card
from training.card_source import load_card_source
from training.tracking import connect

CARD_ARTIFACT_DIR = "model_card"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``card``."""
    parser = commands.add_parser(
        "card", help="write the model card (Markdown and self-contained HTML) of a version")
    parser.add_argument("--model", required=True,
                        help="NAME (champion), NAME@alias or NAME/version")
    parser.add_argument("--out", type=Path, help="folder for model_card.md and .html "
                        "(default: only logged to the run)")
    parser.set_defaults(handler=run)


def publish_card(reference: str, out: Path | None = None) -> tuple[Path | None, str]:
    """Render the card of ``reference``, log it under the version's run (``model_card/``) and,
    with ``out``, also write it there. Returns the folder written and the run id."""
    source = load_card_source(reference)
    run_id = source.run.info.run_id
    with tempfile.TemporaryDirectory(prefix="mbcrisk-card-") as folder:
        md_path, html_path, _ = write_card(source, Path(folder))
        client = MlflowClient()
        client.log_artifact(run_id, str(md_path), CARD_ARTIFACT_DIR)
        client.log_artifact(run_id, str(html_path), CARD_ARTIFACT_DIR)
        if out is not None:
            write_card(source, out)
    return out, run_id


def run(args: argparse.Namespace) -> int:
    """Write and log the card."""
    connect()
    out, run_id = publish_card(args.model, args.out)
    where = f" and written to {out}" if out else ""
    print(f"model card logged to run {run_id} under {CARD_ARTIFACT_DIR}/{where}")
    return 0
