"""Predictions and explanations for API requests, from the loaded champion bundles.

Everything here is plain Python over pydantic models, so the BentoML service, the tests and the
benchmarks share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.bundle import ModelBundle
from models.explain import top_contributions, top_groups, unprofiled_summary
from models.scoring import BundleScorer, Scores
from serving.profile import (
    input_labels,
    missing_input_warnings,
    model_genes,
    profile_warnings,
    synthetic_training_warnings,
)
from serving.schemas import (
    Applicability,
    ExplainedPrediction,
    ExplainResponse,
    ModelExplanation,
    ModelInfo,
    PatientProfile,
    Prediction,
    PredictResponse,
    Resistance,
)

RELAPSE = "relapse"
TOP = 5


@dataclass(frozen=True)
class LoadedModel:
    """A bundle and the registry facts about it."""

    bundle: ModelBundle
    info: ModelInfo
    card_markdown: str | None = None


class Predictor:
    """Answers ``predict`` and ``explain`` with the relapse and resistance champions: each
    profile encoded straight into each model's row (:mod:`features.encoder`), then one pass per
    model (:mod:`models.scoring`)."""

    def __init__(self, models: dict[str, LoadedModel]) -> None:
        if RELAPSE not in models:
            raise ValueError("the relapse model is required")
        self.models = models
        self.encoders = {task: m.bundle.encoder for task, m in models.items()}
        self.scorers = {task: BundleScorer.of(m.bundle) for task, m in models.items()}
        bundles = {task: m.bundle for task, m in models.items()}
        self.used_genes = set().union(*(model_genes(b) for b in bundles.values()))
        self.synthetic_warnings = synthetic_training_warnings(bundles)
        self.input_labels = {task: input_labels(s.features) for task, s in self.scorers.items()}

    @property
    def model_info(self) -> dict[str, ModelInfo]:
        """Name, version, alias and run of every model, by task."""
        return {task: m.info for task, m in self.models.items()}

    def _score(self, profiles: list[PatientProfile]) -> dict[str, tuple[Scores, list]]:
        """Per task: the one pass over the profiles' rows, and their applicability."""
        out = {}
        for task, model in self.models.items():
            rows = self.encoders[task].encode(profiles)
            out[task] = (self.scorers[task].score(rows), _domain(model.bundle, rows))
        return out

    def _predictions(self, profiles: list[PatientProfile],
                     scored: dict[str, tuple[Scores, list]]) -> list[dict]:
        relapse = self.models[RELAPSE].bundle
        relapse_scores, domain = scored[RELAPSE]
        unknown = {task: np.isnan(scores.features) for task, (scores, _) in scored.items()}
        rows = []
        for i, profile in enumerate(profiles):
            missing = {task: [self.input_labels[task][j] for j in np.flatnonzero(mask[i])]
                       for task, mask in unknown.items()}
            horizons = {f"{h:g}": float(relapse_scores.survival[i, k])
                        for k, h in enumerate(relapse.horizons_months)}
            rows.append({
                "patient_id": profile.patient_id,
                "risk_score": float(relapse_scores.score[i]),
                "risk_score_meaning": relapse.score_meaning,
                "risk_group": str(relapse_scores.risk_group[i]),
                "relapse_free_probability": horizons,
                "resistance": {
                    task.removeprefix("resistance_"): Resistance(
                        probability=float(scores.score[i]),
                        risk_group=str(scores.risk_group[i]),
                        label_definition=self.models[task].bundle.label_definition,
                        applicability=reasons[i])
                    for task, (scores, reasons) in scored.items() if task != RELAPSE},
                "applicability": domain[i],
                "warnings": [*profile_warnings(profile, self.used_genes),
                             *missing_input_warnings(missing), *self.synthetic_warnings],
                "model": self.model_info,
            })
        return rows

    def predict(self, profiles: list[PatientProfile]) -> PredictResponse:
        """Risk, survival probabilities and resistance for every patient."""
        rows = self._predictions(profiles, self._score(profiles))
        return PredictResponse(predictions=[Prediction(**r) for r in rows],
                               model=self.model_info)

    def explain(self, profiles: list[PatientProfile]) -> ExplainResponse:
        """Predictions plus grouped and per-feature explanations of every model."""
        scored = self._score(profiles)
        rows = self._predictions(profiles, scored)
        explanations = {task: scores.explanation() for task, (scores, _) in scored.items()}
        details = [_details(p) for p in profiles]
        for i, row in enumerate(rows):
            row["explanations"] = {
                task: ModelExplanation(
                    scale=e.scale, base_value=float(e.base_value[i]),
                    groups=top_groups(e, i, TOP, details[i]),
                    features=top_contributions(e, i, TOP, details[i]),
                    unprofiled=unprofiled_summary(e, i))
                for task, e in explanations.items()}
        return ExplainResponse(predictions=[ExplainedPrediction(**r) for r in rows],
                               model=self.model_info)


def _domain(bundle: ModelBundle, rows: np.ndarray) -> list[Applicability]:
    if bundle.applicability is None:
        return [Applicability(in_domain=True, reasons=[]) for _ in range(len(rows))]
    reasons = bundle.applicability.check_rows(rows, bundle.input_features)
    return [Applicability(in_domain=not r, reasons=r) for r in reasons]


def _details(profile: PatientProfile) -> dict[str, str]:
    changes: dict[str, list[str]] = {}
    for a in profile.alterations:
        if a.kind == "mutation" and a.protein_change:
            changes.setdefault(a.gene, []).append(a.protein_change.removeprefix("p."))
    return {gene: ", ".join(sorted(set(v))) for gene, v in changes.items()}
