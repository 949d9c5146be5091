"""Concurrent requests scored in one batch (serving/batching.py): each request gets exactly
its own answer, a failing request fails alone, the batcher survives any exception, and a small
batch is scored on the event loop, a large one in a worker thread.

No assertion depends on how fast this machine scores: requests are held at a gate until the
queue holds what the test needs (waiting for a condition, never for a deadline to pass)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from serving.batching import INLINE_PATIENTS, BatchedPredictor
from serving.inference import Predictor
from serving.schemas import PatientProfile
from tests.serving.conftest import EXAMPLE

pytestmark = pytest.mark.slow

#: Requests sent before each scenario (the batcher has no warm-up: they check that a
#: sequential client is answered alone, one batch per request).
WARM_UP = 12


class GatedPredictor(Predictor):
    """The real predictor, held at a gate while ``gate`` is clear, which fails for a patient
    called ``poison`` and stops with KeyboardInterrupt for one called ``interrupt``."""

    def __init__(self, predictor: Predictor) -> None:
        super().__init__(predictor.models)
        self.entered, self.gate = threading.Event(), threading.Event()
        self.gate.set()
        self.calls: list[int] = []
        self.threads: list[int] = []  # the thread each call ran in

    def _score(self, profiles: list[PatientProfile], explain: bool) -> dict:
        self.calls.append(len(profiles))
        self.threads.append(threading.get_ident())
        self.entered.set()
        if not self.gate.is_set():  # held: never on the event loop, which opens the gate
            assert threading.get_ident() != threading.main_thread().ident
            assert self.gate.wait(timeout=60), "the gate was never opened"
        if any(p.patient_id == "poison" for p in profiles):
            raise ValueError("poisoned request")
        if any(p.patient_id == "interrupt" for p in profiles):
            raise KeyboardInterrupt
        return super()._score(profiles, explain)


@pytest.fixture(scope="module")
def predictor(served: dict) -> Predictor:
    from serving.store import load_served_models

    return Predictor(load_served_models())


def _profiles(k: int) -> list[PatientProfile]:
    return [PatientProfile(**{**EXAMPLE, "patient_id": f"p{k}-{j}",
                               "age_years": 40 + 3 * (k % 12) + j}) for j in range(1 + k % 2)]


def _large() -> list[PatientProfile]:
    """One request too large to be scored on the event loop: it goes to a worker thread,
    where the gate can hold it while other requests queue."""
    return [PatientProfile(**{**EXAMPLE, "patient_id": f"large-{j}"})
            for j in range(INLINE_PATIENTS + 1)]


async def _queued(batched: BatchedPredictor, kind: str, size: int) -> None:
    """Return once ``size`` requests wait in the batcher's queue (60 s at most)."""
    deadline = time.monotonic() + 60
    while len(batched.batchers[kind].queue) < size:
        assert time.monotonic() < deadline, "requests never queued"
        await asyncio.sleep(0.005)


async def _entered(gated: GatedPredictor) -> None:
    deadline = time.monotonic() + 60
    while not gated.entered.is_set():
        assert time.monotonic() < deadline, "scoring never started"
        await asyncio.sleep(0.005)


async def _warmed(gated: GatedPredictor) -> BatchedPredictor:
    batched = BatchedPredictor(gated)
    for k in range(WARM_UP):
        await batched.explain(_profiles(k))
        await batched.predict(_profiles(k))
    assert list(batched.batch_sizes) == [1] * 2 * WARM_UP  # an idle service answers each at once
    gated.calls.clear()
    gated.threads.clear()
    batched.batch_sizes.clear()
    return batched


def test_queued_requests_are_merged_and_each_gets_its_own_answer(predictor: Predictor) -> None:
    gated = GatedPredictor(predictor)
    requests = {0: _large()} | {k: _profiles(k) for k in range(1, 5)}  # 33, 2, 1, 2, 1

    async def scenario() -> dict:
        batched = await _warmed(gated)
        gated.gate.clear()
        gated.entered.clear()
        first = asyncio.ensure_future(batched.explain(requests[0]))
        await _entered(gated)  # request 0 is being scored, held at the gate
        rest = {k: asyncio.ensure_future(batched.explain(requests[k])) for k in range(1, 5)}
        await _queued(batched, "explain", 4)
        gated.gate.set()
        answers = {0: await first} | {k: await f for k, f in rest.items()}
        assert list(batched.batch_sizes) == [1, 4]
        return answers

    answers = asyncio.run(scenario())
    # the first alone (in a worker thread), then requests 1-4 (6 patients) at once, on the
    # event loop
    assert gated.calls == [INLINE_PATIENTS + 1, 6]
    assert gated.threads[0] != threading.main_thread().ident
    assert gated.threads[1] == threading.main_thread().ident
    for k, profiles in requests.items():
        assert answers[k].model_dump() == predictor.explain(profiles).model_dump()


def test_a_failing_request_does_not_fail_the_others_merged_with_it(
        predictor: Predictor) -> None:
    gated = GatedPredictor(predictor)
    poison = [PatientProfile(**{**EXAMPLE, "patient_id": "poison"})]

    async def scenario() -> None:
        batched = await _warmed(gated)
        gated.gate.clear()
        gated.entered.clear()
        first = asyncio.ensure_future(batched.predict(_large()))
        await _entered(gated)
        bad = asyncio.ensure_future(batched.predict(poison))
        await _queued(batched, "predict", 1)
        good = asyncio.ensure_future(batched.predict(_profiles(1)))
        await _queued(batched, "predict", 2)
        gated.gate.set()
        assert (await first).predictions[0].patient_id == "large-0"
        with pytest.raises(ValueError, match="poisoned"):
            await bad
        assert [p.patient_id for p in (await good).predictions] == ["p1-0", "p1-1"]

    asyncio.run(scenario())
    # the first alone; poison and good merged (that batch failed); then each alone
    assert gated.calls == [INLINE_PATIENTS + 1, 3, 1, 2]


def test_the_batcher_survives_any_exception(predictor: Predictor) -> None:
    gated = GatedPredictor(predictor)
    interrupt = [PatientProfile(**{**EXAMPLE, "patient_id": "interrupt"})]

    async def scenario() -> None:
        batched = await _warmed(gated)
        with pytest.raises(RuntimeError, match="KeyboardInterrupt"):  # alone
            await batched.predict(interrupt)
        # merged with another request (queued behind one held at the gate): a stop is not an
        # error of one request, so every request of its batch gets it, none is retried alone
        gated.gate.clear()
        gated.entered.clear()
        first = asyncio.ensure_future(batched.predict(_large()))
        await _entered(gated)
        merged = [asyncio.ensure_future(batched.predict(interrupt)),
                  asyncio.ensure_future(batched.predict(_profiles(1)))]
        await _queued(batched, "predict", 2)
        gated.gate.set()
        assert len((await first).predictions) == INLINE_PATIENTS + 1
        outcomes = await asyncio.gather(*merged, return_exceptions=True)
        assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError], outcomes
        assert all("KeyboardInterrupt" in str(o) for o in outcomes)
        answer = await batched.predict(_profiles(0))  # and the batcher still answers
        assert answer.predictions[0].patient_id == "p0-0"

    asyncio.run(scenario())
    assert gated.calls == [1, INLINE_PATIENTS + 1, 3, 1]


def test_batch_sizes_keep_only_the_latest(predictor: Predictor,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-running service keeps a bounded record of its batches, the latest last."""
    monkeypatch.setattr("serving.batching.BATCH_SIZES_KEPT", 3)
    batched = BatchedPredictor(predictor)

    async def sequential() -> None:
        for k in range(5):
            await batched.predict(_profiles(k))

    asyncio.run(sequential())
    assert list(batched.batch_sizes) == [1, 1, 1]
    assert batched.batch_sizes.maxlen == 3
