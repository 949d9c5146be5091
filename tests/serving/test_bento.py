"""The Bento is the artefact: ``bentoml build`` makes one of the service, its code, the lock
and exactly the served models, and ``bentoml serve <tag>`` runs it, away from the source tree,
answering an early and a metastatic patient and an mCODE Bundle (``make test-long``: the build
and the start take a minute or two).

The Bento is built from a copy of the source whose FHIR CapabilityStatement carries a marker
the source tree lacks: the served statement carrying it proves the code ran from the Bento, not
from the editable install of the source tree that the test's environment also holds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from serving.settings import KEEP_ALIVE_S, SERVED_MODELS
from tests.conftest import REPO
from tests.serving.conftest import EXAMPLE, auth, running_server
from tests.support.mcode_bundles import metastatic_bundle

pytestmark = [pytest.mark.slow, pytest.mark.long]
BENTOML = str(Path(sys.executable).with_name("bentoml"))


#: Where the marker goes: the text of the CapabilityStatement's implementation description.
MARKED_FILE = "serving/fhir/capability.py"
MARKED_TEXT = '"mbcrisk: relapse, progression'


def _marked_copy(target: Path, marker: str) -> None:
    """The repository's tracked files (what ``bentoml build`` may include, whatever
    bentofile.yaml lists) copied to ``target``, the CapabilityStatement's description starting
    with ``marker``."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, tracked):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    marked = target / MARKED_FILE
    text = marked.read_text()
    assert text.count(MARKED_TEXT) == 1
    marked.write_text(text.replace(MARKED_TEXT, f'"{marker} mbcrisk: relapse, progression'))


def test_a_built_bento_serves_the_champions(served: dict, tmp_path: Path) -> None:
    marker = f"built-{uuid.uuid4().hex[:12]}"
    source = tmp_path / "source"
    source.mkdir()
    _marked_copy(source, marker)
    built = subprocess.run([BENTOML, "build", str(source), "--output", "tag"],
                           env=served["env"], cwd=source, capture_output=True, text=True,
                           timeout=600, check=False)
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
    (tmp_path / "empty").mkdir()
    with running_server(served, tmp_path / "bento.log", command=serve,
                        cwd=tmp_path / "empty") as server:
        statement = httpx.get(f"{server.base}/fhir/metadata", timeout=60)
        explained = httpx.post(f"{server.base}/explain", json={"patients": [early, EXAMPLE]},
                               headers=auth(served), timeout=60)
        bundle = httpx.post(f"{server.base}/fhir/explain",
                            content=json.dumps(metastatic_bundle()[0]), timeout=60,
                            headers={**auth(served), "Content-Type": "application/fhir+json"})
    assert statement.status_code == 200, statement.text
    assert statement.json()["implementation"]["description"].startswith(marker)  # the Bento's
    assert explained.status_code == 200, explained.text
    answers = explained.json()["predictions"]
    assert [(a["endpoint"], a["status"]) for a in answers] == [("relapse", "answered"),
                                                              ("progression", "answered")]
    assert bundle.status_code == 200, bundle.text
    kinds = [e["resource"]["resourceType"] for e in bundle.json()["entry"]]
    assert kinds.count("RiskAssessment") >= 1
