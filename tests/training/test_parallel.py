"""Fits in worker processes: results in call order, and the caller's warning filters apply."""

from __future__ import annotations

import operator
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import psutil
import pytest

from training.parallel import in_workers


def test_results_come_back_in_the_order_of_the_calls() -> None:
    calls = [(k, 10) for k in range(12)]
    assert list(in_workers(operator.mul, calls, 2)) == [10 * k for k in range(12)]
    assert list(in_workers(operator.mul, calls, 1)) == [10 * k for k in range(12)]


def test_a_warning_in_a_worker_follows_the_callers_filters() -> None:
    """Under the test suite's "error" filter, a warning a fit raises in a worker fails the
    run as it would in this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="in a worker"):
            list(in_workers(warnings.warn, [("in a worker",), ("in a worker",)], 2))


@pytest.mark.long  # a training killed in a subprocess (~6 s): `make test-long` (CI)
def test_workers_end_with_a_killed_parent(tmp_path: Path) -> None:
    """A training killed with SIGKILL (which it cannot catch) leaves no worker behind holding
    its memory. The kill comes once both workers are running a task, so their set-up ran."""
    script = ("import os, sys, time\nfrom training.parallel import in_workers\n"
              "def mark_and_sleep(folder):\n"
              "    open(os.path.join(folder, str(os.getpid())), 'w').close()\n"
              "    time.sleep(120)\n"
              "list(in_workers(mark_and_sleep, [(sys.argv[1],)] * 4, 2))\n")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    try:
        watched = psutil.Process(parent.pid)
        deadline = time.monotonic() + 120
        while len(list(tmp_path.iterdir())) < 2:
            assert parent.poll() is None, "the script ended before its workers started"
            assert time.monotonic() < deadline, "the workers never started their tasks"
            time.sleep(0.1)
        workers = _loky_workers(watched)
        assert {str(worker.pid) for worker in workers} >= {p.name for p in tmp_path.iterdir()}
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, f"{len(alive)} workers outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _loky_workers(process: psutil.Process) -> list[psutil.Process]:
    """The loky worker processes among ``process``'s descendants."""
    workers = []
    for child in process.children(recursive=True):
        try:
            if any("LokyProcess" in part for part in child.cmdline()):
                workers.append(child)
        except psutil.NoSuchProcess:
            continue
    return workers
