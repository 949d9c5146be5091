"""Serving fixtures: champions trained and registered in a real MLflow store, imported into a
real BentoML model store, an API key; all under one temporary state directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from serving.keys import KeyStore
from serving.settings import Settings
from training.config import load_config
from training.registry import promote
from training.train import train

EXAMPLE = {
    "patient_id": "study-0042", "age_years": 61, "menopausal_status": "post",
    "er_status": "positive", "pr_status": "positive", "her2_status": "negative",
    "grade": 2, "tumor_size_mm": 28, "positive_lymph_nodes": 2, "setting": "metastatic",
    "months_since_diagnosis": 40, "metastatic_sites": ["bone", "liver"],
    "current_therapy": "endocrine_cdk46", "prior_therapies": ["endocrine"],
    "sample_type": "metastasis", "tmb": 4.2,
    "alterations": [{"gene": "ESR1", "kind": "mutation", "protein_change": "D538G"}],
    "profiled_genes": ["ESR1", "PIK3CA", "TP53", "NF1", "ERBB2"],
}


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Environment of a ready service: trained champions imported, one key created."""
    root = tmp_path_factory.mktemp("serving")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
           "MBCRISK_STATE_DIR": str(root / "state"), "BENTOML_HOME": str(root / "bentoml"),
           "BENTOML_DO_NOT_TRACK": "true", "MBCRISK_MAX_BATCH": "5",
           "MBCRISK_MAX_BODY_BYTES": "200000"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.chdir(root)
        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        quick = root / "quick.toml"
        quick.write_text("[cv]\nn_splits = 3\nn_repeats = 1\n")
        for task in ("relapse", "resistance"):
            result = train("synthetic", load_config(quick, task=task))
            promote(result.model_name, 0.01, 50)
        from serving.store import import_champions

        import_champions()
        key = KeyStore(Settings.from_env().keys_db).create("test-app")
        yield {"env": {**os.environ, **env}, "key": key, "root": Path(root)}
