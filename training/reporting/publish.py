"""Publishing a registered version's model card: rendered from its run, logged back to it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlflow import MlflowClient

from training.reporting.card.render import write_card
from training.reporting.card_source import load_card_source
from training.reporting.version_description import version_description

#: Where the card lives among the run's artifacts.
CARD_ARTIFACT_DIR = "model_card"


def publish_card(reference: str, out: Path | None = None) -> tuple[Path | None, str]:
    """Render the card of ``reference``, log it under the version's run (``model_card/``),
    summarise it in the version's registry description with a link to it and, with ``out``,
    also write it there. Returns the folder written and the run id."""
    source = load_card_source(reference)
    run_id = source.run.info.run_id
    with tempfile.TemporaryDirectory(prefix="mbcrisk-card-") as folder:
        md_path, html_path, _ = write_card(source, Path(folder))
        client = MlflowClient()
        client.log_artifact(run_id, str(md_path), CARD_ARTIFACT_DIR)
        client.log_artifact(run_id, str(html_path), CARD_ARTIFACT_DIR)
        card_uri = f"runs:/{run_id}/{CARD_ARTIFACT_DIR}/{md_path.name}"
        client.update_model_version(source.version.name, source.version.version,
                                    description=version_description(source, card_uri))
        if out is not None:
            write_card(source, out)
    return out, run_id
