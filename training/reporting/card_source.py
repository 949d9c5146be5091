"""Everything a model card says, read from MLflow: the model version, its run's params,
metrics, tags and artifacts. Nothing is typed by hand; nothing comes from elsewhere."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion

from models.loading import ModelLoadError, parse_reference

#: The run artifact listing the monotone constraints (training.tracking.run_records).
CONSTRAINTS_FILE = "monotone_constraints.json"
#: The run artifact listing the blend's linear part's functional forms (run_records).
FORMS_FILE = "linear_forms.json"
_JSON = ("cohort_summary.json", "load_report.json", "labels.json", CONSTRAINTS_FILE, FORMS_FILE)
_CSV = ("subgroup_metrics.csv", "missingness_check.csv", "explanations/importance_groups.csv")


@dataclass
class CardSource:
    """A registered model version and its training run, with the artifacts the card uses."""

    version: ModelVersion
    run: Run
    aliases: list[str]
    json: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)

    @property
    def params(self) -> dict[str, str]:
        """Run parameters."""
        return self.run.data.params

    @property
    def metrics(self) -> dict[str, float]:
        """Run metrics (latest values)."""
        return self.run.data.metrics

    @property
    def tags(self) -> dict[str, str]:
        """Run tags."""
        return self.run.data.tags

    @property
    def run_date(self) -> str:
        """The run's start date (UTC, ISO)."""
        return datetime.fromtimestamp(self.run.info.start_time / 1000, UTC).date().isoformat()


def resolve_version(reference: str) -> ModelVersion:
    """The model version of ``NAME``, ``NAME@alias`` or ``NAME/version``."""
    name, alias, version = parse_reference(reference)
    client = MlflowClient()
    try:
        return (client.get_model_version_by_alias(name, alias) if alias
                else client.get_model_version(name, version))
    except mlflow.exceptions.MlflowException as error:
        raise ModelLoadError(f"no registered model version for {reference!r}") from error


def load_card_source(reference: str) -> CardSource:
    """Read the version, its run and the run's card-relevant artifacts."""
    version = resolve_version(reference)
    client = MlflowClient()
    run = client.get_run(version.run_id)
    aliases = list(client.get_registered_model(version.name).aliases)
    aliases = [a for a in aliases if str(client.get_model_version_by_alias(
        version.name, a).version) == str(version.version)]
    source = CardSource(version, run, sorted(aliases))
    with tempfile.TemporaryDirectory(prefix="mbcrisk-card-") as folder:
        local = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id,
                                                         dst_path=folder))
        for name in _JSON:
            if (local / name).is_file():
                source.json[name] = json.loads((local / name).read_text())
        for name in _CSV:
            if (local / name).is_file():
                source.tables[name] = pd.read_csv(local / name)
        for image in sorted([*local.glob("plots/*.png"), *local.glob("explanations/*.png")]):
            source.images[str(image.relative_to(local))] = image.read_bytes()
        model_folder = Path(mlflow.artifacts.download_artifacts(
            f"models:/{version.name}/{version.version}", dst_path=str(Path(folder) / "model")))
        requirements = model_folder / "requirements.txt"
        if requirements.is_file():
            source.requirements = [line.strip() for line in requirements.read_text().splitlines()
                                   if line.strip() and not line.startswith("#")]
    return source
