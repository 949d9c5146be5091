"""Concurrent requests scored together by BentoML's adaptive batching.

One explained patient costs ~2 ms of Python around ~1 ms of booster work; scoring the waiting
requests as one batch pays that fixed cost once, which more than doubles throughput at 16
concurrent clients on 2 cores (``benchmarks/serving_service.py``). The batching is BentoML's own
dispatcher (``CorkDispatcher``, what ``@bentoml.api(batchable=True)`` uses): it learns how long
a batch takes and waits only while waiting pays, so an idle service answers at once. It is used
in process because a batchable endpoint must answer with a bare list, and mbcrisk's responses
are objects (``{"predictions": ..., "model": ...}``).

Each request stays whole (the batch size counts requests); the batch is scored as one list of
patients and cut back into one response per request. When the merged batch fails (one request
carries a profile the cohort rules refuse), every request of it is scored alone, so only that
request gets the error. Results equal scoring each request alone (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from bentoml._internal.marshal.dispatcher import CorkDispatcher
from bentoml.exceptions import ServiceUnavailable

from serving.inference import Predictor
from serving.schemas import ExplainResponse, PatientProfile, PredictResponse

Response = TypeVar("Response", PredictResponse, ExplainResponse)

#: Requests merged into one batch at most.
MAX_REQUESTS_PER_BATCH = 32


def _overloaded() -> None:
    raise ServiceUnavailable("the service is overloaded: a request waited longer than its "
                             "latency limit")


class BatchedPredictor:
    """:class:`Predictor` behind one adaptive-batching dispatcher per endpoint (async)."""

    def __init__(self, predictor: Predictor, max_latency_s: float) -> None:
        self.predictor = predictor
        self.batch_sizes: list[int] = []  # requests per scored batch, for tests and benchmarks
        self.dispatchers = {kind: CorkDispatcher(
            max_latency_in_ms=int(max_latency_s * 1000), max_batch_size=MAX_REQUESTS_PER_BATCH,
            fallback=_overloaded, get_batch_size=lambda _: 1) for kind in ("predict", "explain")}
        self._predict = self.dispatchers["predict"](self._batch(predictor.predict))
        self._explain = self.dispatchers["explain"](self._batch(predictor.explain))

    async def predict(self, profiles: list[PatientProfile]) -> PredictResponse:
        """:meth:`Predictor.predict`, possibly scored together with other requests."""
        return await self._predict(list(profiles))

    async def explain(self, profiles: list[PatientProfile]) -> ExplainResponse:
        """:meth:`Predictor.explain`, possibly scored together with other requests."""
        return await self._explain(list(profiles))

    def _batch(self, score: Callable[[list[PatientProfile]], Response],
               ) -> Callable[[Sequence[list[PatientProfile]]], list[Response | Exception]]:
        """The dispatcher's callback (run in a worker thread): one response, or the exception
        to raise, per request of the batch."""

        def scored(requests: Sequence[list[PatientProfile]]) -> list[Response | Exception]:
            self.batch_sizes.append(len(requests))
            try:
                merged = score([p for profiles in requests for p in profiles])
            except Exception:  # noqa: BLE001 - each request alone, so only the bad one fails
                if len(requests) == 1:
                    raise
                return [_alone(score, profiles) for profiles in requests]
            except BaseException as stop:  # not an Exception: never let it reach the loop
                raise RuntimeError(f"scoring stopped by {type(stop).__name__}") from None
            out, start = [], 0
            for profiles in requests:
                end = start + len(profiles)
                out.append(merged.model_copy(
                    update={"predictions": merged.predictions[start:end]}))
                start = end
            return out

        return scored


def _alone(score: Callable[[list[PatientProfile]], Response],
           profiles: list[PatientProfile]) -> Response | Exception:
    try:
        return score(profiles)
    except Exception as error:  # noqa: BLE001 - handed to the request it belongs to
        return error
    except BaseException as stop:  # noqa: BLE001 - as in the merged call
        return RuntimeError(f"scoring stopped by {type(stop).__name__}")
