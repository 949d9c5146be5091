"""Output for people and for scripts: a progress bar on a terminal and plain lines otherwise,
a console whose tables never cut a model or metric name, and the strict JSON of every
command's ``--json``."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import stop_if_requested

#: Width of the output when it is not a terminal (a file or a pipe has no width to respect).
FILE_WIDTH = 240


def strict_json(value: Any) -> Any:
    """``value`` for strict JSON: numpy numbers and arrays as Python ones, pandas' missing
    markers as null, and every number that is not finite, at any depth, as a string ("inf"
    for ``fit_until_months``, the whole follow-up; "nan" for a metric that could not be
    computed), so scripts reading the output never meet a bare NaN."""
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def _json_default(value: Any) -> str:
    """Paths as text and dates as ISO 8601; any other type JSON does not know is an error,
    never a silent string."""
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable: {value!r}")


def print_json(value: Any) -> None:
    """Print ``value`` as one strict JSON document (:func:`strict_json`)."""
    print(json.dumps(strict_json(value), indent=2, allow_nan=False, default=_json_default))


def output_console() -> Console:
    """The console of a command's results (stdout): the terminal's width on a terminal, a
    width no table needs to cut otherwise."""
    return Console() if sys.stdout.isatty() else Console(width=FILE_WIDTH)


def name_column(table: Table, name: str, cells: Iterable[str] = (),
                **options: object) -> None:
    """Add a column whose header and ``cells`` (names: models, scopes) are never cut."""
    width = max([len(name), *(len(c) for c in cells)])
    table.add_column(name, min_width=width, no_wrap=True, **options)


@dataclass
class Steps:
    """Counts steps of a long job: on a terminal a transient bar on stderr, otherwise one
    plain line per step on stderr (``<label>: 3/25 (12 s)``), so logs show progress."""

    label: str
    total: int | None = None
    done: int = 0
    _bar: object = None
    _progress: Progress | None = None
    _started: float = field(default_factory=time.monotonic)

    def start(self, total: int | None) -> None:
        """Set the number of steps (when known)."""
        self.total = total
        if self._progress is not None:
            self._progress.update(self._bar, total=total)
        else:
            print(f"{self.label}: {total if total is not None else '?'} steps", file=sys.stderr,
                  flush=True)

    def advance(self) -> None:
        """One step done (and a stop request, if one came, honoured here)."""
        stop_if_requested()
        self.done += 1
        if self._progress is not None:
            self._progress.advance(self._bar)
            return
        total = self.total if self.total is not None else "?"
        print(f"{self.label}: {self.done}/{total} ({time.monotonic() - self._started:.0f} s)",
              file=sys.stderr, flush=True)


@contextmanager
def steps(label: str, total: int | None = None) -> Iterator[Steps]:
    """A :class:`Steps` reporter for the duration of the block."""
    counter = Steps(label, total)
    if not sys.stderr.isatty():
        yield counter
        return
    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    with progress:
        counter._progress = progress
        counter._bar = progress.add_task(label, total=total)
        yield counter
