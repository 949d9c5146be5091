"""Errors of the models package (kept free of heavy imports, so the CLI can catch them)."""


class ModelLoadError(RuntimeError):
    """A registered model that cannot be used (absent, or failing an integrity check)."""
