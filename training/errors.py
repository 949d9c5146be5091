"""Errors of the training package (kept free of heavy imports, so the CLI can catch them)."""


class TrackingError(RuntimeError):
    """The tracking store cannot be used (unreachable, locked, misconfigured)."""
