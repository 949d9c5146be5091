"""Whether a challenger's main inputs are ones the API can supply: a model that leans on an
input no request field gives (an ER level in fmol/mg, a PAM50 subtype, an integrative cluster)
would answer every API patient as if it were unknown, alike whatever her profile. Inputs the
unknown-is-unknown rule averages when a profile cannot give them (the primary-to-metastasis
changes) are answered soundly, and pass (:func:`serving.profile.servable`)."""

from __future__ import annotations

import io

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from models.bundles.run_artifacts import read_run_artifact
from models.explanation.wording import feature_name
from serving.profile import servable

#: The top inputs: those carrying this share of the mean absolute contribution on the
#: training patients (largest first), at most :data:`TOP_INPUTS` of them.
TOP_SHARE = 0.8
TOP_INPUTS = 10
IMPORTANCE_ARTIFACT = "explanations/importance_features.csv"


def top_inputs(name: str, version: str) -> list[str]:
    """The version's top inputs by its training run's importance (ValueError without one)."""
    run_id = MlflowClient().get_model_version(name, version).run_id
    try:
        table = pd.read_csv(io.StringIO(read_run_artifact(run_id, IMPORTANCE_ARTIFACT)))
    except MlflowException as error:
        raise ValueError(f"{name} version {version}: its run has no {IMPORTANCE_ARTIFACT}, so "
                         "whether the API can supply its inputs cannot be checked") from error
    table = table.sort_values("mean_abs_contribution", ascending=False)
    total = float(table["mean_abs_contribution"].sum())
    shares = table["mean_abs_contribution"].cumsum() / total if total > 0 else table[
        "mean_abs_contribution"] * 0 + 1
    cut = int((shares < TOP_SHARE).sum()) + 1
    return table["feature"].astype(str).tolist()[:min(cut, TOP_INPUTS)]


def unservable_inputs(name: str, version: str) -> list[str]:
    """The version's top inputs the API cannot supply, by their names for people."""
    return [feature_name(f) for f in top_inputs(name, version) if not servable(f)]


def unservable_refusal(version: str, unservable: list[str]) -> str:
    """Why a version whose top inputs the API cannot supply is not promoted."""
    return (f"version {version}'s top inputs include some the API cannot supply: "
            f"{', '.join(unservable)}; served, it would answer every patient as if they were "
            "unknown. To promote it all the same: mbcrisk promote NAME --accept-unservable "
            "--reason TEXT")
