"""Loading a registered ModelBundle by ``NAME``, ``NAME@alias`` or ``NAME/version``, verified:
the file's SHA-256 must equal the one recorded at registration, and the served scorer's
explanations must add up on the logged input example."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from models.bundles.bundle import ModelBundle
from models.bundles.errors import ModelLoadError
from models.bundles.run_artifacts import downloaded_model_version
from models.bundles.storage import BUNDLE_FILE, file_sha256, load_bundle
from models.scoring import explain_rows

DEFAULT_ALIAS = "champion"


@dataclass(frozen=True)
class RegisteredBundle:
    """A verified bundle and where it came from."""

    bundle: ModelBundle
    name: str
    version: str
    alias: str | None
    run_id: str
    sha256: str


def parse_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``(name, alias, version)`` of ``NAME``, ``NAME@alias`` or ``NAME/version``; a bare name
    means the champion."""
    if "@" in reference:
        name, alias = reference.split("@", 1)
        return name, alias, None
    if "/" in reference:
        name, version = reference.rsplit("/", 1)
        return name, None, version
    return reference, DEFAULT_ALIAS, None


def load_registered_bundle(reference: str) -> RegisteredBundle:
    """Download, verify and unpickle the bundle of a registered model version."""
    name, alias, version = parse_reference(reference)
    client = MlflowClient()
    try:
        found = (client.get_model_version_by_alias(name, alias) if alias
                 else client.get_model_version(name, version))
    except MlflowException as error:
        wanted = f"alias '{alias}'" if alias else f"version {version}"
        raise ModelLoadError(f"no registered model {name} with {wanted}") from error
    expected = found.tags.get("mbcrisk.bundle_sha256")
    if not expected:
        raise ModelLoadError(f"{name} version {found.version} has no recorded bundle hash")
    with downloaded_model_version(name, str(found.version)) as folder:
        bundle = load_verified_bundle(folder, expected, f"{name} version {found.version}")
    return RegisteredBundle(bundle, name, str(found.version), alias, found.run_id, expected)


def load_verified_bundle(folder: Path, expected_sha256: str | None, label: str) -> ModelBundle:
    """The bundle of an MLflow model folder (``artifacts/bundle.pkl``), verified: its SHA-256
    must equal ``expected_sha256`` (recorded at registration), and its explanations on the
    scoring path (:func:`models.scoring.explain_rows`, the model alone) must add up on the logged
    input example, which every registered model has (its absence is an error, not a skipped
    check); the API's stack of several models is checked when it is built
    (:meth:`models.explanation.averaged_booster.StackedBooster.join`). ``label`` names the
    model in errors. The one loader of a deployable bundle: the CLI, the service and the
    benchmarks go through it."""
    path = Path(folder) / "artifacts" / BUNDLE_FILE
    if not path.is_file():
        raise ModelLoadError(f"{label}: {BUNDLE_FILE} missing")
    actual = file_sha256(path)
    if not expected_sha256 or actual != expected_sha256:
        recorded = f"the {expected_sha256[:12]}..." if expected_sha256 else "no hash"
        raise ModelLoadError(f"{label}: the bundle fails its integrity check (SHA-256 "
                             f"{actual[:12]}... differs from {recorded} recorded at "
                             "registration)")
    bundle = load_bundle(path, expected_sha256)
    example = Path(folder) / "input_example.json"
    if not example.is_file():
        raise ModelLoadError(f"{label}: input_example.json missing, so its explanations cannot "
                             "be checked")
    explain_rows(bundle, _read_example(example))  # AdditivityError if they do not add up
    return bundle


def _read_example(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text())
    return pd.DataFrame(data["data"], columns=data["columns"])
