"""The Bento is the artefact: ``bentoml build`` makes one of the service, its code, the lock
and exactly the served models, and ``bentoml serve <tag>`` runs it, away from the source tree,
answering an early and a metastatic patient and an mCODE Bundle (``make test-long``: the build
and the start take a minute or two)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from serving.settings import KEEP_ALIVE_S, SERVED_MODELS
from tests.conftest import REPO
from tests.serving.conftest import EXAMPLE, auth, running_server
from tests.support.mcode_bundles import metastatic_bundle

pytestmark = [pytest.mark.slow, pytest.mark.long]
BENTOML = str(Path(sys.executable).with_name("bentoml"))


def test_a_built_bento_serves_the_champions(served: dict, tmp_path: Path) -> None:
    built = subprocess.run([BENTOML, "build", str(REPO), "--output", "tag"], env=served["env"],
                           cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    tag = re.search(r"__tag__:(\S+)", built.stdout).group(1)
    listed = subprocess.run([BENTOML, "get", tag, "-o", "json"], env=served["env"],
                            capture_output=True, text=True, timeout=120, check=True)
    models = {m["tag"].split(":")[0] for m in json.loads(listed.stdout)["models"]}
    assert models == set(SERVED_MODELS.values())
    early = {k: v for k, v in EXAMPLE.items() if k not in (
        "months_since_diagnosis", "metastatic_sites", "current_therapy", "prior_therapies")}
    early.update(setting="early", stage=2)
    # from an empty folder: the Bento's own code and models, not the source tree's
    # as docs/serving.md serves it: the keep-alive of `mbcrisk serve`
    serve = [BENTOML, "serve", tag, "--timeout-keep-alive", str(KEEP_ALIVE_S)]
    with running_server(served, tmp_path / "bento.log", command=serve, cwd=tmp_path) as server:
        explained = httpx.post(f"{server.base}/explain", json={"patients": [early, EXAMPLE]},
                               headers=auth(served), timeout=60)
        bundle = httpx.post(f"{server.base}/fhir/explain",
                            content=json.dumps(metastatic_bundle()[0]), timeout=60,
                            headers={**auth(served), "Content-Type": "application/fhir+json"})
    assert explained.status_code == 200, explained.text
    answers = explained.json()["predictions"]
    assert [(a["endpoint"], a["status"]) for a in answers] == [("relapse", "answered"),
                                                              ("progression", "answered")]
    assert bundle.status_code == 200, bundle.text
    kinds = [e["resource"]["resourceType"] for e in bundle.json()["entry"]]
    assert kinds.count("RiskAssessment") >= 1
