"""Bundles pickled before the packages were reorganised still load and give the same numbers.

A bundle is a pickle naming module paths (``models.risk.RiskModel``, ``features.pipeline...``).
The code of the last commit before the reorganisation is taken from git history, a bundle of
each task is fitted and pickled by that code in a separate interpreter, and today's code loads
it and must reproduce that code's predictions and contributions.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.design import build_design
from features.labels import labels_for_task
from features.sources import load_synthetic
from models.bundle import ModelBundle
from models.explain import explain
from tests.conftest import REPO
from tests.support.quick_bundle import TASK_NAMES

#: The last commit of main before the layout changed (``training/`` flat, ``models/quick.py``).
LEGACY_COMMIT = "aea762e634ca313ef2e1fbe63d2aede798c9590e"
N_PATIENTS = 500

_LEGACY_SCRIPT = """
import json, sys
from pathlib import Path
import models, features
assert Path(models.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), models.__file__
from features.registry import load_synthetic
from models.explain import explain
from models.quick import fit_bundle
out = Path(sys.argv[2])
cohort, _ = load_synthetic({n})
for task in ("relapse", "resistance"):
    bundle, X, _ = fit_bundle(cohort, task, n_estimators=20)
    bundle.save(out / task)
    prediction = bundle.predict(X)
    numbers = {{"risk_score": prediction["risk_score"].tolist(),
               "contributions": explain(bundle, X).contributions.to_numpy().tolist()}}
    (out / task / "numbers.json").write_text(json.dumps(numbers))
"""


@pytest.fixture(scope="module")
def legacy_bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bundles of both tasks pickled by the legacy commit's code, with its numbers."""
    root = tmp_path_factory.mktemp("legacy")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", LEGACY_COMMIT, "features",
                              "models"], capture_output=True, check=False)
    assert archive.returncode == 0, (
        f"commit {LEGACY_COMMIT[:12]} is not in this clone's history (a shallow clone?): "
        f"{archive.stderr.decode(errors='replace')}")
    code = root / "code"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(code, filter="data")
    out = root / "bundles"
    env = {**os.environ, "PYTHONPATH": str(code)}
    result = subprocess.run([sys.executable, "-c", _LEGACY_SCRIPT.format(n=N_PATIENTS),
                             str(code), str(out)], env=env, cwd=code, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("task", ["relapse", "resistance"])
def test_a_bundle_pickled_by_the_legacy_code_loads_and_scores_the_same(
        legacy_bundles: Path, task: str) -> None:
    bundle = ModelBundle.load(legacy_bundles / task / "bundle.pkl")
    expected = json.loads((legacy_bundles / task / "numbers.json").read_text())
    cohort, _ = load_synthetic(N_PATIENTS)
    X = build_design(cohort, labels_for_task(cohort, TASK_NAMES[task]).time_origin)
    risk = bundle.predict(X)["risk_score"].to_numpy()
    contributions = explain(bundle, X).contributions
    assert isinstance(contributions, pd.DataFrame)
    # predict now runs the one pass (models/scoring.py): the calibrated probability comes
    # from the booster's float32 margin, equal to the legacy pipeline's within float32 rounding
    np.testing.assert_allclose(risk, expected["risk_score"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(contributions.to_numpy(), np.array(expected["contributions"]),
                               rtol=0, atol=1e-9)
