"""Rejected requests leave no trace of their content in the server's log.

BentoML logs every request it rejects (a pydantic validation error, a 4xx exception) at ERROR
with the whole traceback, and pydantic's messages quote the rejected input (``input_value``),
so a malformed body's patient identifier or clinical value reached the log. This filter turns
each such record into one line: the route, the status and the field paths, never a value or a
body. Server errors (5xx) keep their traceback.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

#: The logger BentoML reports request exceptions on (``log_exception``).
BENTOML_REQUEST_LOGGER = "bentoml._internal.server.http_app"


class RejectedRequestFilter(logging.Filter):
    """Rewrites BentoML's record of a rejected request to ``rejected <route>: <status> (<field
    paths>)`` at WARNING, without the exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        status, fields = _rejection(error)
        if status is None:
            return True
        route = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg = "rejected %s: %d (%s)"
        record.args = (route, status, fields)
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _rejection(error: BaseException | None) -> tuple[int | None, str]:
    """(status, field paths) when ``error`` rejects a request; (None, "") otherwise."""
    if isinstance(error, ValidationError):
        paths = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors(
            include_input=False, include_context=False)})
        return 400, ", ".join(paths)
    code = getattr(getattr(error, "error_code", None), "value", None)
    if isinstance(code, int) and 400 <= code < 500:
        return code, type(error).__name__
    return None, ""


def install() -> None:
    """Add the filter to BentoML's request logger (idempotent)."""
    logger = logging.getLogger(BENTOML_REQUEST_LOGGER)
    if not any(isinstance(f, RejectedRequestFilter) for f in logger.filters):
        logger.addFilter(RejectedRequestFilter())
