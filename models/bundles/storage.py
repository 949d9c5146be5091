"""A ModelBundle as a file: pickled (protocol 5) to ``bundle.pkl``, read back only when its
SHA-256 matches the one recorded at registration, through an unpickler that knows where the
classes of older bundles moved (:data:`MOVED_MODULES`)."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

from models.bundles.bundle import ModelBundle

BUNDLE_FILE = "bundle.pkl"

#: Where the modules named inside older pickles live now: a bundle pickled before the second
#: restructuring (features split into cohorts and feature building, models grouped by job)
#: names e.g. ``models.risk.RiskModel``. Only modules whose classes a bundle can hold are
#: listed (estimators, the applicability domain, moments, the unprofiled reference, the
#: bundle, and the cohort modules whose values a fitted pipeline may keep).
MOVED_MODULES: dict[str, str] = {
    **{f"models.{name}": f"models.estimators.{name}" for name in (
        "aft", "boosting", "breslow", "constraints", "cox", "factory", "linear_part",
        "recalibration", "resistance", "risk", "survival_target")},
    **{f"models.{name}": f"models.domain.{name}" for name in (
        "applicability", "moments", "unprofiled")},
    "models.bundle": "models.bundles.bundle",
    "models.explain": "models.explanation.explain",
    "models.averaged_booster": "models.explanation.averaged_booster",
    "models.wording": "models.explanation.wording",
    **{f"features.{name}": f"features.cohorts.{name}" for name in (
        "coding", "cohort", "derived", "errors", "gbsg2", "options", "parquet", "report",
        "schema", "sources", "staging", "tabular", "units", "validation", "variants", "vocab")},
}


class BundleUnpickler(pickle.Unpickler):
    """Unpickles a bundle, reading moved module paths through :data:`MOVED_MODULES`."""

    def find_class(self, module: str, name: str) -> Any:
        """The class ``module.name``, at its new home if its module moved."""
        return super().find_class(MOVED_MODULES.get(module, module), name)


def save_bundle(bundle: ModelBundle, folder: str | Path) -> Path:
    """Pickle ``bundle`` to ``folder/bundle.pkl``; returns the path."""
    path = Path(folder) / BUNDLE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(bundle, protocol=5))
    return path


def load_bundle(path: str | Path, expected_sha256: str | None = None) -> ModelBundle:
    """Unpickle a bundle, refusing a file whose SHA-256 differs from ``expected_sha256`` or
    that holds something other than a ModelBundle."""
    data = Path(path).read_bytes()
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ValueError(f"{path}: SHA-256 differs from the one recorded at registration")
    bundle = BundleUnpickler(io.BytesIO(data)).load()  # only files whose hash we recorded
    if not isinstance(bundle, ModelBundle):
        raise ValueError(f"{path}: not an mbcrisk ModelBundle")
    return bundle


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
