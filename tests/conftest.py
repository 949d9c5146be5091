"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Fixtures shared across test folders: quick models and the Predictor over them.
pytest_plugins = ["tests.support.quick_models", "tests.support.tracking_store"]


def shared_data_dir() -> Path:
    """The shared real-data folder: ``MBCRISK_DATA_DIR``, else ``shared/data`` beside the repo."""
    configured = os.environ.get("MBCRISK_DATA_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def metabric_dir() -> Path:
    """The real METABRIC study folder. In CI its absence fails the test; elsewhere it skips,
    saying how to provide it."""
    folder = shared_data_dir() / "brca_metabric"
    if not (folder / "data_clinical_patient.txt").is_file():
        message = f"METABRIC study not found at {folder}; set MBCRISK_DATA_DIR"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture
def python_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python's temporary directory (``tempfile.gettempdir()``) moved to a fresh empty folder
    for one test, so the test can check what the code under test leaves there."""
    folder = tmp_path / "tempdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
