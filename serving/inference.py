"""Predictions and explanations for API requests, from the loaded champion bundles.

Everything here is plain Python over pydantic models, so the BentoML service, the tests and the
benchmarks share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.bundles.bundle import ModelBundle
from models.domain.answerable import RulesCheck, Verdict, answer_rules
from models.domain.applicability import DomainCheck
from models.explanation.explain import top_contributions, top_groups, unprofiled_summary
from models.scoring import BundleScorer, JointScorer, Scores
from serving.actionability import actionability
from serving.profile import (
    beyond_label_notes,
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
PROGRESSION = "progression"
#: The time-to-event model of each setting.
ENDPOINT_TASK = {"early": RELAPSE, "metastatic": PROGRESSION}
TOP = 5


@dataclass(frozen=True)
class LoadedModel:
    """A bundle and the registry facts about it."""

    bundle: ModelBundle
    info: ModelInfo
    card_markdown: str | None = None


def serves_setting(bundle: ModelBundle) -> str:
    """The setting whose question a model answers: ``early`` for a model predicting from
    diagnosis (relapse, the endocrine-resistance proxy), ``metastatic`` for one predicting from
    the start of a metastatic line (progression, resistance on dated lines)."""
    return "early" if bundle.origin == "diagnosis" else "metastatic"


def not_applicable_reason(task: str, bundle: ModelBundle, setting: str) -> str:
    """Why model ``task`` does not answer a patient of ``setting``, for people."""
    if task == RELAPSE:
        return ("the patient has metastatic disease: relapse from diagnosis no longer applies; "
                "progression on the current line is answered instead")
    if task == PROGRESSION:
        return ("the patient is in the early setting: progression on a metastatic line does "
                "not apply; relapse from diagnosis is answered instead")
    return (f"this model predicts from the {bundle.origin} ({serves_setting(bundle)} "
            f"setting); the patient is in the {setting} setting")


class Predictor:
    """Answers ``predict`` and ``explain`` with the champions, each for the patients whose
    setting its question fits (:func:`serves_setting`): the relapse model for the early setting,
    the progression model for the metastatic setting, each resistance model for its own. Each
    profile is encoded straight into each answering model's row (:mod:`features.encoder`),
    then one pass per setting: the contributions of all its models from one TreeSHAP pass of
    their stacked boosters (:class:`models.scoring.JointScorer`)."""

    def __init__(self, models: dict[str, LoadedModel]) -> None:
        for task in ENDPOINT_TASK.values():
            if task not in models:
                raise ValueError(f"the {task} model is required (make run trains it)")
        self.models = models
        self.settings = {task: serves_setting(m.bundle) for task, m in models.items()}
        self.encoders = {task: m.bundle.encoder for task, m in models.items()}
        self.scorers = {task: BundleScorer.of(m.bundle) for task, m in models.items()}
        # the models of one setting answer the same patients: one TreeSHAP pass for them all
        by_setting: dict[str, list[str]] = {}
        for task, setting in self.settings.items():
            by_setting.setdefault(setting, []).append(task)
        self.joint = {setting: (tuple(tasks), JointScorer.of([self.scorers[t] for t in tasks]))
                      for setting, tasks in by_setting.items()}
        bundles = {task: m.bundle for task, m in models.items()}
        self.used_genes = set().union(*(model_genes(b) for b in bundles.values()))
        self.synthetic_warnings = synthetic_training_warnings(bundles)
        self.input_labels = {task: input_labels(s.features) for task, s in self.scorers.items()}
        # the answerability rules and the applicability domain of each model, with the
        # positions of their inputs among the model's columns looked up once
        self.rules = {task: RulesCheck.of(answer_rules(task, m.bundle.origin == "diagnosis",
                                                       m.bundle.learned_features),
                                          m.bundle.input_features)
                      for task, m in models.items()}
        self.domains = {task: None if m.bundle.applicability is None else
                        m.bundle.applicability.compiled(m.bundle.input_features)
                        for task, m in models.items()}

    @property
    def model_info(self) -> dict[str, ModelInfo]:
        """Name, version, alias and run of every model, by task."""
        return {task: m.info for task, m in self.models.items()}

    def _score(self, profiles: list[PatientProfile], explain: bool) -> dict[str, _Answered]:
        """Per task: the one pass over the rows of the profiles whose setting it serves (with
        the contributions when ``explain``, every model of the setting in one TreeSHAP pass),
        and which of them it may answer (:mod:`models.domain.answerable`)."""
        out = {}
        for setting, (tasks, joint) in self.joint.items():
            answered = [i for i, p in enumerate(profiles) if p.setting == setting]
            if not answered:
                continue
            chosen = [profiles[i] for i in answered]
            computed: dict[tuple, list[dict[str, float]]] = {}  # shared by the setting's models
            rows = [self.encoders[task].encode(chosen, computed) for task in tasks]
            position = {i: k for k, i in enumerate(answered)}
            for task, task_rows, scores in zip(tasks, rows, joint.score(rows, explain),
                                               strict=True):
                out[task] = _Answered(position, scores, _domain(self.domains[task], task_rows),
                                      self.rules[task].judge(task_rows))
        return out

    def _predictions(self, profiles: list[PatientProfile],
                     scored: dict[str, _Answered]) -> list[dict]:
        unknown = {task: np.isnan(answer.scores.features) for task, answer in scored.items()}
        rows = []
        for i, profile in enumerate(profiles):
            served = [task for task, answer in scored.items() if i in answer.position]
            tasks = [task for task in served if scored[task].answers(i)]
            missing = {task: [self.input_labels[task][j] for j in
                              np.flatnonzero(unknown[task][scored[task].position[i]])]
                       for task in tasks}
            endpoint = ENDPOINT_TASK[profile.setting]
            bundle = self.models[endpoint].bundle
            row = {
                "patient_id": profile.patient_id,
                "setting": profile.setting,
                "endpoint": endpoint,
                "status": "answered" if endpoint in tasks else "insufficient_data",
                "label_definition": bundle.label_definition,
                "risk_score": None, "risk_score_meaning": bundle.score_meaning,
                "risk_group": None, "event_free_probability": {}, "applicability": None,
                "resistance": {
                    task.removeprefix("resistance_"): self._resistance(task, scored[task], i,
                                                                       profile)
                    for task in tasks if task.startswith("resistance_")},
                "insufficient_data": {task: scored[task].verdict.missing[
                    scored[task].position[i]] for task in served
                    if scored[task].verdict.missing[scored[task].position[i]]},
                "not_applicable": {
                    **{task: not_applicable_reason(task, m.bundle, profile.setting)
                       for task, m in self.models.items() if task not in served},
                    **{task: reason for task in served
                       if (reason := scored[task].verdict.not_applicable[
                           scored[task].position[i]]) is not None}},
                "warnings": [*profile_warnings(profile, self.used_genes),
                             *missing_input_warnings(missing), *self.synthetic_warnings],
                "actionability": actionability(profile),
                "model": self.model_info,
            }
            if endpoint in tasks:
                answer, k = scored[endpoint], scored[endpoint].position[i]
                row.update(
                    risk_score=float(answer.scores.score[k]),
                    risk_group=str(answer.scores.risk_group[k]),
                    event_free_probability={f"{h:g}": float(answer.scores.survival[k, j])
                                            for j, h in enumerate(bundle.horizons_months)},
                    applicability=answer.domain[k])
            rows.append(row)
        return rows

    def _resistance(self, task: str, answer: _Answered, i: int,
                    profile: PatientProfile) -> Resistance:
        k = answer.position[i]
        bundle = self.models[task].bundle
        return Resistance(probability=float(answer.scores.score[k]),
                          risk_group=str(answer.scores.risk_group[k]),
                          label_definition=bundle.label_definition,
                          applicability=answer.domain[k],
                          notes=beyond_label_notes(task, bundle.origin == "diagnosis", profile))

    def predict(self, profiles: list[PatientProfile]) -> PredictResponse:
        """The answers that fit each patient's setting, and what does not apply."""
        rows = self._predictions(profiles, self._score(profiles, explain=False))
        return PredictResponse(predictions=[Prediction(**r) for r in rows],
                               model=self.model_info)

    def explain(self, profiles: list[PatientProfile]) -> ExplainResponse:
        """Predictions plus grouped and per-feature explanations of every answering model."""
        scored = self._score(profiles, explain=True)
        rows = self._predictions(profiles, scored)
        explanations = {task: answer.scores.explanation() for task, answer in scored.items()}
        details = [_details(p) for p in profiles]
        for i, row in enumerate(rows):
            row["explanations"] = {
                task: ModelExplanation(
                    scale=e.scale, base_value=float(e.base_value[k]),
                    groups=top_groups(e, k, TOP, details[i]),
                    features=top_contributions(e, k, TOP, details[i]),
                    unprofiled=unprofiled_summary(e, k))
                for task, e in explanations.items()
                if scored[task].answers(i) and (k := scored[task].position[i]) is not None}
        return ExplainResponse(predictions=[ExplainedPrediction(**r) for r in rows],
                               model=self.model_info)


@dataclass(frozen=True)
class _Answered:
    """One model's pass over the profiles it answers: ``position`` maps a profile's index in
    the request to its row in ``scores`` and ``domain``."""

    position: dict[int, int]
    scores: Scores
    domain: list[Applicability]
    verdict: Verdict

    def answers(self, i: int) -> bool:
        """True when profile ``i`` was scored and the model may answer it."""
        k = self.position.get(i)
        return k is not None and self.verdict.answers(k)


def _domain(check: DomainCheck | None, rows: np.ndarray) -> list[Applicability]:
    if check is None:
        return [Applicability(in_domain=True, reasons=[]) for _ in range(len(rows))]
    reasons = check.check(rows)
    return [Applicability(in_domain=not r, reasons=r) for r in reasons]


def _details(profile: PatientProfile) -> dict[str, str]:
    changes: dict[str, list[str]] = {}
    for a in profile.alterations:
        if a.kind == "mutation" and a.protein_change:
            changes.setdefault(a.gene, []).append(a.protein_change.removeprefix("p."))
    return {gene: ", ".join(sorted(set(v))) for gene, v in changes.items()}
