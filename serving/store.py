"""The served models: champions imported from the MLflow registry into the BentoML model store
(labelled with name, version and run id), verified against the hash recorded at registration."""

from __future__ import annotations

import shutil
from pathlib import Path

import bentoml
import mlflow

from models.bundles.run_artifacts import read_run_artifact
from models.loading import ModelLoadError, load_registered_bundle, load_verified_bundle
from serving.inference import LoadedModel
from serving.schemas import ModelInfo
from serving.settings import SERVED_ALIAS, SERVED_MODELS

MLFLOW_FOLDER = "mlflow_model"


def import_champions() -> dict[str, bentoml.Model]:
    """Import every served model's champion into the BentoML store; ModelLoadError when one
    has no champion or fails its integrity check."""
    imported = {}
    for task, name in SERVED_MODELS.items():
        registered = load_registered_bundle(f"{name}@{SERVED_ALIAS}")  # verifies the hash
        labels = {"mlflow_name": name, "mlflow_version": registered.version,
                  "mlflow_alias": SERVED_ALIAS, "run_id": registered.run_id, "task": task}
        built = bentoml.mlflow.import_model(
            name, f"models:/{name}/{registered.version}", labels=labels,
            metadata={"bundle_sha256": registered.sha256,
                      "model_card_markdown": _card(registered.run_id)})
        imported[task] = bentoml.models.get(built.tag)
        _remove_build_folder(built, imported[task])
    return imported


def _remove_build_folder(built: bentoml.Model, stored: bentoml.Model) -> None:
    """Remove the temporary folder BentoML built the model in before copying it to the store.
    BentoML removes it only at interpreter exit, which ``mbcrisk serve`` never reaches (it
    execs the server): each start would leave a copy of every model in the temp directory."""
    if Path(built.path).resolve() != Path(stored.path).resolve():
        shutil.rmtree(built.path, ignore_errors=True)


def _card(run_id: str) -> str:
    """The model card logged in the run (``model_card/model_card.md``)."""
    try:
        return read_run_artifact(run_id, "model_card/model_card.md")
    except mlflow.exceptions.MlflowException as error:
        raise ModelLoadError(f"run {run_id} has no model card; run `mbcrisk card`") from error


def latest_champion(name: str) -> bentoml.Model:
    candidates = [m for m in bentoml.models.list(name)
                  if m.info.labels.get("mlflow_alias") == SERVED_ALIAS]
    if not candidates:
        raise ModelLoadError(f"no imported champion of {name} in the BentoML model store; "
                             "start the service with `mbcrisk serve`")
    return max(candidates, key=lambda m: m.info.creation_time)


def load_served_models() -> dict[str, LoadedModel]:
    """The imported champions, each bundle verified (hash and additivity) before use."""
    loaded = {}
    for task, name in SERVED_MODELS.items():
        model = latest_champion(name)
        bundle = load_verified_bundle(Path(model.path_of(MLFLOW_FOLDER)),
                                      model.info.metadata.get("bundle_sha256"),
                                      f"{name} ({model.tag})")
        labels = model.info.labels
        loaded[task] = LoadedModel(bundle, ModelInfo(
            name=name, version=labels["mlflow_version"], alias=labels["mlflow_alias"],
            run_id=labels["run_id"],
            trained_on_synthetic_data=bool(bundle.cohort.get("synthetic"))),
            model.info.metadata.get("model_card_markdown"))
    return loaded
