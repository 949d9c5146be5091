"""Serving settings, read from the environment when the service starts (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

#: Registered models the service serves, by task.
SERVED_MODELS = {"relapse": "mbcrisk-relapse", "progression": "mbcrisk-progression",
                 "resistance_endocrine": "mbcrisk-resistance-endocrine"}
SERVED_ALIAS = "champion"
#: Seconds a kept-alive connection may idle before the server closes it. Longer than client
#: pools keep idle connections (httpx 5 s; proxies such as nginx 60 s), so the client closes
#: first: with uvicorn's default of 5 s, a client reusing a connection the server was closing
#: got a reset instead of an answer (the likely cause of a few resets in 20,000 requests at
#: 32 clients).
KEEP_ALIVE_S = 75


@dataclass(frozen=True)
class Settings:
    """Where state lives and the request limits."""

    state_dir: Path
    max_batch: int
    max_body_bytes: int
    public_url: str | None = None
    state_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """``MBCRISK_STATE_DIR`` (default ./serving-state), ``MBCRISK_MAX_BATCH`` (patients per
        request, default 100), ``MBCRISK_MAX_BODY_BYTES`` (default 1 MiB) and
        ``MBCRISK_PUBLIC_URL``, the base URL clients reach the service at (default none: the
        answers then carry no links), and ``MBCRISK_STATE_URL``, the SQLAlchemy URL of the
        keys and audit database (default a SQLite file in the state directory)."""
        return cls(Path(os.environ.get("MBCRISK_STATE_DIR", "serving-state")).resolve(),
                   int(os.environ.get("MBCRISK_MAX_BATCH", "100")),
                   int(os.environ.get("MBCRISK_MAX_BODY_BYTES", str(1024 * 1024))),
                   public_base_url(os.environ.get("MBCRISK_PUBLIC_URL") or None),
                   os.environ.get("MBCRISK_STATE_URL") or None)

    @property
    def store_url(self) -> str:
        """The keys and audit database (:mod:`serving.state`): ``MBCRISK_STATE_URL``, else
        ``state.db`` in the state directory."""
        return self.state_url or f"sqlite:///{self.state_dir / 'state.db'}"

    @property
    def served_file(self) -> Path:
        """``{name: version}`` of the models the running service loaded."""
        return self.state_dir / "served_models.json"

    @property
    def bentoml_home(self) -> Path:
        """BentoML's model store for this service."""
        return self.state_dir / "bentoml"


def public_base_url(value: str | None) -> str | None:
    """``value`` (``MBCRISK_PUBLIC_URL``) without its trailing slash, checked: an absolute
    http(s) URL with no query or fragment; ValueError naming the variable otherwise."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or (
            parts.fragment):
        raise ValueError("MBCRISK_PUBLIC_URL must be an absolute http(s) URL without a query "
                         "or fragment, e.g. https://mbcrisk.example.org")
    return value.rstrip("/")
