"""Independent model fits run side by side in worker processes.

Cross-validation and nested tuning fit many pipelines that share nothing but their inputs.
Each fit mostly holds the Python interpreter (pandas steps, scikit-learn checks, small xgboost
boosters), so threads gain nothing; worker processes do. Results come back in the order the
calls were given, whatever the number of workers. scikit-learn's ``Parallel`` is used because
it hands the caller's warning filters and scikit-learn settings to the workers (a warning a fit
raises is an error under the tests' filters in a worker as in this process). Each worker holds
its own copy of the inputs: memory grows with the number of workers. On Linux a worker ends
when the thread that started it ends, even in a process killed with SIGKILL (no orphan holds
its memory); the callers here run on the main thread, which ends only with the process.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed

Result = TypeVar("Result")


def check_n_jobs(n_jobs: object, name: str) -> None:
    """Raise a ValueError naming the setting ``name`` unless ``n_jobs`` is a usable number
    of workers: -1 (one per core) or a count of at least 1."""
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"{name}: {n_jobs!r} is not a number of workers; "
                         "-1 (one per core) or a count of at least 1")


#: prctl's option that sends a signal to this process when its parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _end_with_parent(parent: int) -> None:
    """In a new worker: have Linux send it SIGKILL when its parent ``parent`` ends; end now if
    the parent has already gone (the worker was adopted before it could ask)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:
        os._exit(1)


def in_workers(function: Callable[..., Result], calls: Sequence[tuple[Any, ...]],
               n_jobs: int) -> Iterator[Result]:
    """``function(*arguments)`` for each tuple of ``calls``, yielded in the order of ``calls``
    as each completes: ``n_jobs`` at a time in worker processes (-1: one per core), never more
    workers than calls; one worker runs them one after the other in this process.
    ``function`` must be a module-level function (workers import it)."""
    workers = min(effective_n_jobs(n_jobs), max(len(calls), 1))
    return Parallel(n_jobs=workers, prefer="processes", return_as="generator",
                    initializer=_end_with_parent, initargs=(os.getpid(),))(
        delayed(function)(*arguments) for arguments in calls)
