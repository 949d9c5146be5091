"""Predictions and explanations for API requests, from the loaded champion bundles.

Everything here is plain Python over pydantic models, so the BentoML service, the tests and the
benchmarks share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.bundle import ModelBundle
from models.explain import explain, top_contributions, top_groups
from serving.profile import build_request_cohort, design_for, profile_warnings
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
    """Answers ``predict`` and ``explain`` with the relapse and resistance champions."""

    def __init__(self, models: dict[str, LoadedModel]) -> None:
        if RELAPSE not in models:
            raise ValueError("the relapse model is required")
        self.models = models

    @property
    def model_info(self) -> dict[str, ModelInfo]:
        """Name, version, alias and run of every model, by task."""
        return {task: m.info for task, m in self.models.items()}

    def _designs(self, profiles: list[PatientProfile]) -> dict[str, pd.DataFrame]:
        cohort = build_request_cohort(profiles)
        return {task: design_for(m.bundle, cohort, profiles) for task, m in self.models.items()}

    def _predictions(self, profiles: list[PatientProfile],
                     designs: dict[str, pd.DataFrame]) -> list[dict]:
        relapse = self.models[RELAPSE].bundle
        out = relapse.predict(designs[RELAPSE])
        domain = _domain(relapse, designs[RELAPSE])
        bundles = {t: m.bundle for t, m in self.models.items()}
        resistance = {task: (m.bundle.predict(designs[task]), _domain(m.bundle, designs[task]))
                      for task, m in self.models.items() if task != RELAPSE}
        rows = []
        for i, profile in enumerate(profiles):
            horizons = {f"{h:g}": float(out.iloc[i][f"relapse_free_{h:g}m"])
                        for h in relapse.horizons_months}
            rows.append({
                "patient_id": profile.patient_id,
                "risk_score": float(out.iloc[i]["risk_score"]),
                "risk_score_meaning": relapse.score_meaning,
                "risk_group": str(out.iloc[i]["risk_group"]),
                "relapse_free_probability": horizons,
                "resistance": {
                    task.removeprefix("resistance_"): Resistance(
                        probability=float(frame.iloc[i]["probability"]),
                        risk_group=str(frame.iloc[i]["risk_group"]),
                        label_definition=self.models[task].bundle.label_definition,
                        applicability=reasons[i])
                    for task, (frame, reasons) in resistance.items()},
                "applicability": domain[i],
                "warnings": profile_warnings(profile, bundles),
                "model": self.model_info,
            })
        return rows

    def predict(self, profiles: list[PatientProfile]) -> PredictResponse:
        """Risk, survival probabilities and resistance for every patient."""
        rows = self._predictions(profiles, self._designs(profiles))
        return PredictResponse(predictions=[Prediction(**r) for r in rows],
                               model=self.model_info)

    def explain(self, profiles: list[PatientProfile]) -> ExplainResponse:
        """Predictions plus grouped and per-feature explanations of every model."""
        designs = self._designs(profiles)
        rows = self._predictions(profiles, designs)
        explanations = {task: explain(m.bundle, designs[task])
                        for task, m in self.models.items()}
        details = [_details(p) for p in profiles]
        for i, row in enumerate(rows):
            row["explanations"] = {
                task: ModelExplanation(
                    scale=e.scale, base_value=float(e.base_value[i]),
                    groups=top_groups(e, i, TOP, details[i]),
                    features=top_contributions(e, i, TOP, details[i]))
                for task, e in explanations.items()}
        return ExplainResponse(predictions=[ExplainedPrediction(**r) for r in rows],
                               model=self.model_info)


def _domain(bundle: ModelBundle, X: pd.DataFrame) -> list[Applicability]:
    if bundle.applicability is None:
        return [Applicability(in_domain=True, reasons=[]) for _ in range(len(X))]
    reasons = bundle.applicability.check(bundle.input_frame(X))
    return [Applicability(in_domain=not r, reasons=r) for r in reasons]


def _details(profile: PatientProfile) -> dict[str, str]:
    changes: dict[str, list[str]] = {}
    for a in profile.alterations:
        if a.kind == "mutation" and a.protein_change:
            changes.setdefault(a.gene, []).append(a.protein_change.removeprefix("p."))
    return {gene: ", ".join(sorted(set(v))) for gene, v in changes.items()}
