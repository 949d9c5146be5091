"""Fixtures of quick models without MLflow (10 trees, 600 synthetic patients) and the API's
Predictor over them, for tests of the encoder, the scorer and the API's answers (a pytest plugin
registered in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def quick_bundles() -> dict:
    """Quick bundles of every task (10 trees, 600 synthetic patients), no MLflow."""
    from features.cohorts.sources import load_synthetic
    from tests.support.quick_bundle import TASK_NAMES, fit_bundle

    cohort, _ = load_synthetic(600)
    return {task: fit_bundle(cohort, task, n_estimators=10)[0] for task in TASK_NAMES}


@pytest.fixture(scope="module")
def blended_predictor() -> object:
    """The API's Predictor over quick bundles whose survival models are blends
    (``blend_weight`` 0.5) and the quick resistance model."""
    from features.cohorts.sources import load_synthetic
    from serving.inference import LoadedModel, Predictor
    from serving.schemas import ModelInfo
    from tests.support.quick_bundle import TASK_NAMES, fit_bundle

    cohort, _ = load_synthetic(600)
    info = ModelInfo(name="blended", version="1", alias="champion", run_id="none")
    bundles = {task: fit_bundle(cohort, task, n_estimators=10,
                                **({} if task == "resistance" else {"blend_weight": 0.5}))[0]
               for task in TASK_NAMES}
    assert all(b.pipeline[-1].linear_ is not None for t, b in bundles.items()
               if t != "resistance")
    return Predictor({TASK_NAMES[task]: LoadedModel(bundle, info)
                      for task, bundle in bundles.items()})


@pytest.fixture(scope="module")
def quick_predictor(quick_bundles: dict) -> object:
    """The API's Predictor over :func:`quick_bundles`."""
    from serving.inference import LoadedModel, Predictor
    from serving.schemas import ModelInfo
    from tests.support.quick_bundle import TASK_NAMES

    info = ModelInfo(name="quick", version="1", alias="champion", run_id="none")
    return Predictor({TASK_NAMES[task]: LoadedModel(bundle, info)
                      for task, bundle in quick_bundles.items()})
