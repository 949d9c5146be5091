"""Rejected requests leave no trace of their content in the server's log.

BentoML logs every request it rejects (a pydantic validation error, a 4xx exception) at ERROR
with the whole traceback, and pydantic's messages quote the rejected input (``input_value``),
so a malformed body's patient identifier or clinical value reached the log. Every log record
carrying such an exception is rewritten, as it is made, to one line: the route, the status and
the field paths, never a value or a body. Server errors (5xx) keep their traceback.

The rewrite is a log record factory (``logging.setLogRecordFactory``, the standard library's
public hook): it sees each record wherever it is logged, so it needs no logger name of
BentoML's (whose request logger is private) and holds for every handler, the test suite's
included.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError


def rewritten(record: logging.LogRecord) -> logging.LogRecord:
    """``record``, rewritten to ``rejected <route>: <status> (<field paths>)`` at WARNING and
    without its exception when that exception rejects a request; unchanged otherwise."""
    error = record.exc_info[1] if record.exc_info else None
    status, fields = _rejection(error)
    if status is None:
        return record
    route = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
    record.msg = "rejected %s: %d (%s)"
    record.args = (route, status, fields)
    record.exc_info = None
    record.exc_text = None
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    return record


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


class _PrivateRecords:
    """A record factory wrapping the one in place (marked, so it is installed once)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return rewritten(self.inner(*args, **kwargs))


def install() -> None:
    """Rewrite rejected requests' records from now on, in this process (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _PrivateRecords):
        logging.setLogRecordFactory(_PrivateRecords(factory))
