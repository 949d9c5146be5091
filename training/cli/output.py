"""Output for people and for scripts: a progress bar on a terminal and plain lines otherwise,
and a console whose tables never cut a model or metric name."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from training.cli import stop_if_requested

#: Width of the output when it is not a terminal (a file or a pipe has no width to respect).
FILE_WIDTH = 240


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
