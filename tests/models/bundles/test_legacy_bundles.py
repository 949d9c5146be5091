"""Bundles pickled by the code of earlier layouts still load and give the same numbers.

A bundle is a pickle naming module paths (``models.risk.RiskModel`` before the second
restructuring, ``models.estimators.risk.RiskModel`` after it). For each earlier layout, the code
of its last commit is taken from git history, a bundle of each task is fitted and pickled by that
code in a separate interpreter, and today's code loads it (through the rename table of
:mod:`models.bundles.storage`) and must reproduce that code's predictions and contributions.
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
import pytest

from features.cohorts.sources import load_synthetic
from features.design import build_design
from features.labels import labels_for_task
from models.bundles.storage import MOVED_MODULES, load_bundle
from models.scoring import predict
from tests.conftest import REPO
from tests.support.design_explanation import explain_design
from tests.support.quick_bundle import TASK_NAMES

N_PATIENTS = 500

_FIT_AND_PICKLE = """
import json, sys
from pathlib import Path
import models, features
assert Path(models.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), models.__file__
{imports}
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

#: Layout -> (the last commit of main in that layout, the folders its script needs, the imports
#: of its fitting helpers).
LAYOUTS = {
    # training/ flat, models/quick.py
    "first": ("aea762e634ca313ef2e1fbe63d2aede798c9590e", ("features", "models"),
              "from features.registry import load_synthetic\n"
              "from models.explain import explain\n"
              "from models.quick import fit_bundle"),
    # features/ holding cohorts and features, models/ flat, the CLI in training/cli/
    "second": ("c7aea6762b742851f78f3d36c8d9685891524911",
               ("features", "models", "tests/__init__.py", "tests/support"),
               "from features.sources import load_synthetic\n"
               "from models.explain import explain\n"
               "from tests.support.quick_bundle import fit_bundle"),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def legacy_bundles(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bundles of both tasks pickled by an earlier layout's code, with its numbers."""
    commit, folders, imports = LAYOUTS[request.param]
    root = tmp_path_factory.mktemp(f"legacy-{request.param}")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, *folders],
                             capture_output=True, check=False)
    assert archive.returncode == 0, (
        f"commit {commit[:12]} is not in this clone's history (a shallow clone?): "
        f"{archive.stderr.decode(errors='replace')}")
    code = root / "code"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(code, filter="data")
    out = root / "bundles"
    env = {**os.environ, "PYTHONPATH": str(code)}
    script = _FIT_AND_PICKLE.format(n=N_PATIENTS, imports=imports)
    result = subprocess.run([sys.executable, "-c", script, str(code), str(out)], env=env,
                            cwd=code, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("task", ["relapse", "resistance"])
def test_a_bundle_pickled_by_the_legacy_code_loads_and_scores_the_same(
        legacy_bundles: Path, task: str) -> None:
    pickled = (legacy_bundles / task / "bundle.pkl").read_bytes()
    assert any(old.encode() in pickled for old in MOVED_MODULES)  # the rename table is needed
    bundle = load_bundle(legacy_bundles / task / "bundle.pkl")
    expected = json.loads((legacy_bundles / task / "numbers.json").read_text())
    cohort, _ = load_synthetic(N_PATIENTS)
    X = build_design(cohort, labels_for_task(cohort, TASK_NAMES[task]).time_origin)
    risk = predict(bundle, X)["risk_score"].to_numpy()
    contributions = explain_design(bundle, X).contributions
    # predict now runs the one pass (models/scoring.py): the calibrated probability comes
    # from the booster's float32 margin, equal to the legacy pipeline's within float32 rounding
    np.testing.assert_allclose(risk, expected["risk_score"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(contributions.to_numpy(), np.array(expected["contributions"]),
                               rtol=0, atol=1e-9)


def test_every_moved_module_has_a_home_and_left_its_old_one() -> None:
    import importlib
    import importlib.util

    for old, new in MOVED_MODULES.items():
        assert importlib.import_module(new).__name__ == new
        assert importlib.util.find_spec(old) is None, f"{old} still exists beside {new}"
