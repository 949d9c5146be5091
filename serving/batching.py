"""Concurrent requests scored together: requests that arrive while a batch is being scored
wait, and are scored as the next batch.

One explained patient costs ~1.3 ms of Python around ~1 ms of booster work; scoring the waiting
requests as one batch pays that fixed cost once, which more than doubles throughput at 16
concurrent clients on 2 cores (``benchmarks/serving_service.py``). The batching waits for no
timer: an idle service scores a request at once, and a busy one merges what queued meanwhile
(at most ``MAX_REQUESTS_PER_BATCH`` requests). It is mbcrisk's own, in process: BentoML's
public batching (``@bentoml.api(batchable=True)``) answers with a bare list, and mbcrisk's
responses are objects (``{"predictions": ..., "model": ...}``); reaching it through a dependent
service would add a process hop per call.

Each request stays whole; the batch is scored as one list of patients and cut back into one
response per request. A batch of at most ``INLINE_PATIENTS`` patients is scored on the event
loop: a hop to a worker thread and back cost more than such a batch's Python on 2 cores (one
explained patient over HTTP, measured with the audit commit's hop removed at the same time:
112 against 85 requests/s with both hops, and 261 against 184 at 16 clients;
``benchmarks/serving_service.py``, SQLite state); a larger one goes to a worker thread, so the
event loop keeps taking requests while it is scored. When the merged
batch fails (one request carries a profile the cohort rules refuse), every request of it is
scored alone, so only that request gets the error. Results equal scoring each request alone
(tested).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio

from serving.inference import Predictor
from serving.schemas import ExplainResponse, PatientProfile, PredictResponse

Response = TypeVar("Response", PredictResponse, ExplainResponse)
Item = TypeVar("Item")
Result = TypeVar("Result")

#: Requests merged into one batch at most.
MAX_REQUESTS_PER_BATCH = 32
#: Sizes of the latest batches kept (:attr:`BatchedPredictor.batch_sizes`).
BATCH_SIZES_KEPT = 10_000
#: Patients a batch holds at most to be scored on the event loop (~20 ms of work); a larger
#: batch is scored in a worker thread.
INLINE_PATIENTS = 32


class GreedyBatcher(Generic[Item, Result]):
    """Calls ``score`` on the requests that queued while the previous call ran: on the event
    loop when ``inline(batch)``, else in a worker thread; each request awaits its own result,
    or the exception ``score`` gave for it."""

    def __init__(self, score: Callable[[Sequence[Item]], list[Result | Exception]],
                 max_batch: int, inline: Callable[[Sequence[Item]], bool]) -> None:
        self.score = score
        self.max_batch = max_batch
        self.inline = inline
        self.queue: list[tuple[Item, asyncio.Future[Any]]] = []
        self._draining = False
        self._drainer: asyncio.Future[None] | None = None  # kept: the loop holds tasks weakly

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.queue.append((item, future))
        if not self._draining:
            self._draining = True
            self._drainer = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.queue:
                batch = self.queue[:self.max_batch]
                del self.queue[:self.max_batch]
                items = [item for item, _ in batch]
                inline = self.inline(items)
                try:
                    results: list[Any] = (self.score(items) if inline else
                                          await anyio.to_thread.run_sync(self.score, items))
                except BaseException as failure:  # noqa: BLE001 - handed to every request
                    results = [failure] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # the client went away
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                if inline:
                    await asyncio.sleep(0)  # the answers go out before the next batch
        finally:
            self._draining = False


class BatchedPredictor:
    """:class:`Predictor` behind one :class:`GreedyBatcher` per endpoint (async)."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor
        # requests per scored batch, the latest BATCH_SIZES_KEPT (for tests and benchmarks; a
        # list grew by one entry per batch for as long as the service ran)
        self.batch_sizes: deque[int] = deque(maxlen=BATCH_SIZES_KEPT)
        self.batchers = {"predict": GreedyBatcher(self._batch(predictor.predict),
                                                  MAX_REQUESTS_PER_BATCH, _small),
                         "explain": GreedyBatcher(self._batch(predictor.explain),
                                                  MAX_REQUESTS_PER_BATCH, _small)}

    async def predict(self, profiles: list[PatientProfile]) -> PredictResponse:
        """:meth:`Predictor.predict`, possibly scored together with other requests."""
        return await self.batchers["predict"](list(profiles))

    async def explain(self, profiles: list[PatientProfile]) -> ExplainResponse:
        """:meth:`Predictor.explain`, possibly scored together with other requests."""
        return await self.batchers["explain"](list(profiles))

    def _batch(self, score: Callable[[list[PatientProfile]], Response],
               ) -> Callable[[Sequence[list[PatientProfile]]], list[Response | Exception]]:
        """The batcher's scoring call: one response, or the exception to raise, per request
        of the batch."""

        def scored(requests: Sequence[list[PatientProfile]]) -> list[Response | Exception]:
            self.batch_sizes.append(len(requests))
            try:
                merged = score([p for profiles in requests for p in profiles])
            except Exception:  # noqa: BLE001 - each request alone, so only the bad one fails
                if len(requests) == 1:
                    raise
                return [_alone(score, profiles) for profiles in requests]
            except BaseException as stop:  # noqa: BLE001 - not an Exception: never let it
                # reach the event loop
                return [RuntimeError(f"scoring stopped by {type(stop).__name__}")] * len(
                    requests)
            out, start = [], 0
            for profiles in requests:
                end = start + len(profiles)
                out.append(merged.model_copy(
                    update={"predictions": merged.predictions[start:end]}))
                start = end
            return out

        return scored


def _small(requests: Sequence[list[PatientProfile]]) -> bool:
    """True when the batch is small enough to be scored on the event loop."""
    return sum(len(profiles) for profiles in requests) <= INLINE_PATIENTS


def _alone(score: Callable[[list[PatientProfile]], Response],
           profiles: list[PatientProfile]) -> Response | Exception:
    try:
        return score(profiles)
    except Exception as error:  # noqa: BLE001 - handed to the request it belongs to
        return error
    except BaseException as stop:  # noqa: BLE001 - as in the merged call
        return RuntimeError(f"scoring stopped by {type(stop).__name__}")
