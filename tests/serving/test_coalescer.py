"""Concurrent requests merged into one batch give each request exactly its own answer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from serving.coalescer import Coalescer
from serving.inference import Predictor
from serving.schemas import PatientProfile
from tests.serving.conftest import EXAMPLE

pytestmark = pytest.mark.slow


class GatedPredictor(Predictor):
    """The real predictor, whose first call waits for a gate (so later requests queue up) and
    which fails for a patient called ``poison``."""

    def __init__(self, predictor: Predictor) -> None:
        super().__init__(predictor.models)
        self.entered, self.gate = threading.Event(), threading.Event()
        self.calls: list[int] = []

    def _score(self, profiles: list[PatientProfile]) -> dict:
        self.calls.append(len(profiles))
        self.entered.set()
        self.gate.wait(timeout=30)
        if any(p.patient_id == "poison" for p in profiles):
            raise ValueError("poisoned request")
        if any(p.patient_id == "interrupt" for p in profiles):
            raise KeyboardInterrupt
        return super()._score(profiles)


@pytest.fixture(scope="module")
def predictor(served: dict) -> Predictor:
    from serving.store import load_served_models

    return Predictor(load_served_models())


def _profiles(k: int) -> list[PatientProfile]:
    return [PatientProfile(**{**EXAMPLE, "patient_id": f"p{k}-{j}", "age_years": 40 + 7 * k + j})
            for j in range(1 + k % 2)]


def _wait_for_queue(coalescer: Coalescer, size: int) -> None:
    deadline = time.monotonic() + 30
    while coalescer._queue.qsize() < size:
        assert time.monotonic() < deadline, "requests never queued"
        time.sleep(0.01)


def test_queued_requests_are_merged_and_each_gets_its_own_answer(predictor: Predictor) -> None:
    gated = GatedPredictor(predictor)
    coalescer = Coalescer(gated, max_patients=5)
    requests = {k: _profiles(k) for k in range(5)}  # 1, 2, 1, 2, 1 patients
    with ThreadPoolExecutor(len(requests)) as pool:
        first = pool.submit(coalescer.explain, requests[0])
        assert gated.entered.wait(timeout=30)
        rest = {}
        for k in range(1, 5):  # one at a time, so the queue's order is known
            rest[k] = pool.submit(coalescer.explain, requests[k])
            _wait_for_queue(coalescer, k)
        gated.gate.set()
        answers = {0: first.result(timeout=60)} | {k: f.result(timeout=60)
                                                    for k, f in rest.items()}
    # the first alone; then requests 1-3 (5 patients, the limit); then request 4
    assert gated.calls == [1, 5, 1]
    for k, profiles in requests.items():
        alone = predictor.explain(profiles)
        assert answers[k].model_dump() == alone.model_dump()


def test_a_failing_request_does_not_fail_the_others_merged_with_it(
        predictor: Predictor) -> None:
    gated = GatedPredictor(predictor)
    coalescer = Coalescer(gated, max_patients=10)
    poison = [PatientProfile(**{**EXAMPLE, "patient_id": "poison"})]
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(coalescer.predict, _profiles(0))
        assert gated.entered.wait(timeout=30)
        bad = pool.submit(coalescer.predict, poison)
        _wait_for_queue(coalescer, 1)
        good = pool.submit(coalescer.predict, _profiles(1))
        _wait_for_queue(coalescer, 2)
        gated.gate.set()
        assert first.result(timeout=60).predictions[0].patient_id == "p0-0"
        with pytest.raises(ValueError, match="poisoned"):
            bad.result(timeout=60)
        assert [p.patient_id for p in good.result(timeout=60).predictions] == ["p1-0", "p1-1"]
    # the first alone; poison and good merged (that batch failed); then each alone
    assert gated.calls == [1, 3, 1, 2]


def test_the_scoring_thread_survives_any_exception_and_requests_time_out(
        predictor: Predictor) -> None:
    gated = GatedPredictor(predictor)
    gated.gate.set()
    coalescer = Coalescer(gated, max_patients=10)
    interrupt = [PatientProfile(**{**EXAMPLE, "patient_id": "interrupt"})]
    with pytest.raises(RuntimeError, match="KeyboardInterrupt"):
        coalescer.predict(interrupt)
    assert coalescer.predict(_profiles(0)).predictions[0].patient_id == "p0-0"
    stuck = GatedPredictor(predictor)  # its gate stays shut until the end
    slow = Coalescer(stuck, max_patients=10, timeout_s=0.5)
    with ThreadPoolExecutor(1) as pool:
        scoring = pool.submit(slow.predict, _profiles(0))
        assert stuck.entered.wait(timeout=30)
        with pytest.raises(TimeoutError, match="0.5 s"):
            slow.predict(_profiles(1))  # waits in the queue, then gives up
        with pytest.raises(TimeoutError):
            scoring.result(timeout=30)  # its request gave up too, while being scored
    stuck.gate.set()
    # The short deadline was for the stuck requests only: the next one must not depend on how
    # fast this machine scores a patient.
    slow.timeout_s = 300.0
    answered = slow.predict(_profiles(2))  # the thread goes on; the abandoned job is skipped
    assert answered.predictions[0].patient_id == "p2-0"
    assert stuck.calls == [1, 1]
