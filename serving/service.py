"""The BentoML service: explained predictions from the registered champions.

Start it with ``mbcrisk serve`` (imports the champions, then runs ``bentoml serve``). Access
logging is off (no request line can carry identifiers, and it costs latency); keys, size and
content type are checked by :class:`serving.gateway.Gateway`, which writes the audit log.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import bentoml
from bentoml.exceptions import InvalidArgument
from fastapi import Request
from fastapi.responses import Response

from features.cohorts.errors import CohortError
from serving import log_privacy
from serving.batching import BatchedPredictor
from serving.fhir import errors as fhir_errors
from serving.fhir import routes as fhir
from serving.fhir.capability import capability_statement
from serving.gateway import Gateway
from serving.inference import Predictor, serves_setting
from serving.schemas import ExplainResponse, PatientList, PredictResponse, ServedTask
from serving.settings import Settings
from serving.state import engine_for
from serving.store import load_served_models

#: Seconds a request may take, waiting for its batch included.
TIMEOUT_S = 60


@bentoml.service(
    name="mbcrisk",
    workers=1,
    threads=4,  # the sync endpoints (card, metadata); scoring runs in batches
    traffic={"timeout": TIMEOUT_S},
    logging={"access": {"enabled": False}},
    metrics={"enabled": False},
    # no OpenTelemetry span per request: mbcrisk exports no traces, and the span cost ~1 ms
    # of the ~8 ms of a one-patient /explain at concurrency 1 on 2 cores; to trace requests,
    # remove this line and configure BentoML's tracing exporter
    tracing={"excluded_urls": ["."]},
)
@bentoml.asgi_app(fhir.app, path="/")
class MBCRiskService:
    """predict, explain, model_card and metadata over the champions of relapse, progression
    and resistance; the same answers as FHIR (``/fhir/...``) and CDS Hooks
    (``/cds-services``)."""

    def __init__(self) -> None:
        log_privacy.install()  # rejected requests: one line, no content
        self.settings = Settings.from_env()
        # the keys and audit database, created or checked now: one a newer mbcrisk wrote (or
        # one out of reach) stops the start, not the first protected request
        engine_for(self.settings.store_url)
        self.models = load_served_models()
        self.predictor = BatchedPredictor(Predictor(self.models))
        self.started = datetime.now(UTC).date().isoformat()
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.settings.served_file.write_text(json.dumps(
            {m.info.name: m.info.version for m in self.models.values()}))
        # what start-up loaded lives as long as the service: out of the collector's sight, a
        # full collection no longer walks it (one took 240 ms, a stalled answer, about every
        # 2,300 one-patient requests; gc.callbacks timing in the served worker, 2026-12-06)
        gc.collect()
        gc.freeze()

    @bentoml.api(route="/predict")
    async def predict(self, patients: PatientList) -> PredictResponse:
        """Per patient, the questions of their setting: early, relapse from diagnosis;
        metastatic, progression on the current line; resistance where its model applies."""
        with _as_bad_request():
            return await self.predictor.predict(patients)

    @bentoml.api(route="/explain")
    async def explain(self, patients: PatientList) -> ExplainResponse:
        """Predictions plus grouped and per-feature explanations, worded."""
        with _as_bad_request():
            return await self.predictor.explain(patients)

    @bentoml.api(route="/model_card")
    def model_card(self, model: ServedTask = "relapse") -> dict:
        """The champion's model card (Markdown) for ``relapse``, ``progression`` or
        ``resistance_endocrine``."""
        loaded = self.models[model]
        return {"model": loaded.info.model_dump(), "markdown": loaded.card_markdown or ""}

    @bentoml.api(route="/metadata")
    def metadata(self) -> dict:
        """Names, versions, aliases, the setting each model answers, training cohort, features
        and horizons of every model."""
        return {task: {
            "model": m.info.model_dump(), "task": m.bundle.task,
            "serves_setting": serves_setting(m.bundle),
            "label_definition": m.bundle.label_definition, "origin": m.bundle.origin,
            "training_cohort": m.bundle.cohort, "horizons_months": list(
                m.bundle.horizons_months), "features": m.bundle.model_features,
            "score_meaning": m.bundle.score_meaning,
        } for task, m in self.models.items()}

    @fhir.app.post("/fhir/predict", **fhir.FHIR_ROUTE)
    async def fhir_predict(self, request: Request) -> Response:
        """An mCODE Bundle in; a Bundle of RiskAssessments (and warnings) out."""
        return await fhir.answer_fhir(self.predictor, request, explain=False)

    @fhir.app.post("/fhir/explain", **fhir.FHIR_ROUTE)
    async def fhir_explain(self, request: Request) -> Response:
        """As ``/fhir/predict``, the structured explanations in extensions (docs/fhir.md)."""
        return await fhir.answer_fhir(self.predictor, request, explain=True)

    @fhir.app.get("/cds-services", **fhir.DISCOVERY_ROUTE)
    def cds_discovery(self) -> Response:
        """CDS Hooks discovery: the patient-view service and its prefetch templates."""
        return fhir.discovery()

    @fhir.app.post("/cds-services/{service_id}", **fhir.CDS_ROUTE)
    async def cds_call(self, service_id: str, request: Request) -> Response:
        """A CDS Hooks patient-view call: cards, one per answering model."""
        return await fhir.answer_hook(self.predictor, request, service_id,
                                      self.settings.public_url)

    @fhir.app.get("/fhir/metadata", **fhir.CAPABILITY_ROUTE)
    def fhir_capabilities(self) -> Response:
        """FHIR's CapabilityStatement: the operations this server offers (public)."""
        return fhir.fhir_response(capability_statement(self.started, self.settings.public_url))

    @fhir.app.get("/model-cards/{model}", **fhir.CARD_ROUTE)
    def model_card_page(self, model: str) -> Response:
        """A served model's card as Markdown, linked from the CDS cards (no patient data)."""
        loaded = self.models.get(model)
        return fhir.model_card(loaded.card_markdown if loaded else None)


@contextmanager
def _as_bad_request() -> Iterator[None]:
    """Profiles that pass the schema but not cohort validation: a 400 naming the problem."""
    try:
        yield
    except CohortError as error:
        raise InvalidArgument(f"patients: {error}") from error


fhir_errors.add_fallback_routes(fhir.app)  # after every route above
MBCRiskService.add_asgi_middleware(Gateway)
