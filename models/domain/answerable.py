"""Whether a model may answer a patient at all, before how well it knows her
(:mod:`models.domain.applicability`): the minimum data each task needs, and the patients its
label describes.

- **Minimum data.** Each task declares the inputs without which its answer would be decided by
  what is missing rather than by the patient (relapse: ER and HER2 status and a stage, or T and N
  categories, or tumour size and positive nodes; progression on a line: the line's therapy;
  resistance: the line's therapy, and ER status for endocrine labels, HER2 status for anti-HER2).
  A patient lacking one gets ``insufficient_data`` for that model, naming the request fields
  (as the API's schema spells them): no score, no group, no probability. An ``equivocal``
  receptor status is not a known one (the design reads it as unknown): a definitive result (for
  HER2, by in-situ hybridisation) is what the model needs.
- **Who the label describes.** A resistance label is defined on one kind of line: endocrine
  resistance on an endocrine-based line of an ER-positive patient, progression on a CDK4/6
  inhibitor line on such a line, anti-HER2 resistance on an anti-HER2 line of a HER2-positive
  patient. Anyone else is ``not_applicable`` for that model, with the reason.

The rules read a model's encoded input rows (NaN = unknown), so the API, FHIR, CDS Hooks and
batch prediction apply the same ones. A need is met only through inputs the model learned from
(a model whose training cohort had no stage is not answered by a stage alone), and an input the
model never learned from is not asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.therapies import RESISTANCE_LABELS, THERAPY_GROUPS

#: How the alternatives of a need are joined in its field text.
OR = ", or "


@dataclass(frozen=True)
class Need:
    """One input a model needs, satisfied when every feature of any one of ``options`` is
    known (not NaN); each option is (its request fields as the API's schema spells them, its
    features)."""

    options: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def field(self) -> str:
        """The request fields that would meet the need: ``stage, or t_category and
        n_category``."""
        return OR.join(dict.fromkeys(text for text, _ in self.options))

    @property
    def alternatives(self) -> tuple[tuple[str, ...], ...]:
        """The feature sets, any one of which meets the need."""
        return tuple(features for _, features in self.options)


@dataclass(frozen=True)
class Scope:
    """Part of a label's population: patients whose ``feature`` is 1. Others are not
    applicable, for ``reason``; a patient whose ``feature`` is unknown lacks request
    ``field`` (whom the label describes cannot be told without it)."""

    feature: str
    field: str
    reason: str


ER_STATUS = Need((("er_status", ("clin__er_positive",)),))
HER2_STATUS = Need((("her2_status", ("clin__her2_positive",)),))
STAGE = Need((("stage", ("clin__stage",)),
              ("t_category and n_category", ("clin__t_category", "clin__n_category")),
              ("tumor_size_mm and positive_lymph_nodes",
               ("clin__tumor_size_mm", "clin__positive_nodes"))))
CURRENT_THERAPY = Need(tuple(("current_therapy", (f"clin__current_{group}",))
                             for group in THERAPY_GROUPS))

_ER_POSITIVE = Scope("clin__er_positive", ER_STATUS.field, "ER-negative: the label describes "
                     "endocrine therapy of ER-positive disease")
_HER2_POSITIVE = Scope("clin__her2_positive", HER2_STATUS.field, "HER2-negative: the label "
                       "describes anti-HER2 therapy of HER2-positive disease")


@dataclass(frozen=True)
class AnswerRules:
    """A model's minimum data and label scope."""

    needs: tuple[Need, ...]
    scopes: tuple[Scope, ...] = ()


def answer_rules(task: str, at_diagnosis: bool, learned: set[str]) -> AnswerRules:
    """The rules of model ``task`` (``relapse``, ``progression``, ``resistance_<therapy>``);
    ``at_diagnosis``: the model predicts from diagnosis (the endocrine-resistance proxy);
    ``learned``: the inputs the model learned from. A need is met only through inputs the
    model learned from, and one it learned none of is not asked for."""
    rules = _declared_rules(task, at_diagnosis)
    needs = []
    for need in rules.needs:
        usable = tuple(option for option in need.options if set(option[1]) <= learned)
        if usable:  # said by the options the model can use
            needs.append(Need(usable))
    return AnswerRules(tuple(needs), rules.scopes)


def _declared_rules(task: str, at_diagnosis: bool) -> AnswerRules:
    if task == "relapse":
        return AnswerRules((ER_STATUS, HER2_STATUS, STAGE))
    if task == "progression":
        return AnswerRules((CURRENT_THERAPY,))
    therapy = task.removeprefix("resistance_")
    receptor = {"anti_her2": (HER2_STATUS, _HER2_POSITIVE)}.get(
        therapy, (ER_STATUS, _ER_POSITIVE) if therapy in ("endocrine", "cdk46", "cdk46_12m")
        else None)
    needs = (receptor[0],) if receptor else ()
    scopes = (receptor[1],) if receptor else ()
    if at_diagnosis or therapy not in RESISTANCE_LABELS:
        return AnswerRules(needs, scopes)
    label = RESISTANCE_LABELS[therapy]
    line = ("clin__with_cdk46_inhibitor" if label.classes == ("endocrine_cdk46",)
            else f"clin__current_{therapy}")
    name = {"anti_her2": "an anti-HER2", "endocrine": "an endocrine",
            "chemotherapy": "a chemotherapy"}.get(therapy, f"a {therapy}")
    kind = ("a line with a CDK4/6 inhibitor" if line == "clin__with_cdk46_inhibitor"
            else f"{name}-based line")
    return AnswerRules((*needs, CURRENT_THERAPY), (*scopes, Scope(
        line, CURRENT_THERAPY.field, f"the current line is not {kind} (current_therapy): the "
                                     f"label describes progression on {kind}")))


@dataclass(frozen=True)
class Verdict:
    """Per row: the request fields missing for the model (empty: enough data), and why the
    model's label does not describe the patient (None: it does)."""

    missing: list[list[str]]
    not_applicable: list[str | None]

    def answers(self, row: int) -> bool:
        """True when the model may answer row ``row``."""
        return not self.missing[row] and self.not_applicable[row] is None


def judge(rules: AnswerRules, rows: np.ndarray, columns: list[str]) -> Verdict:
    """Apply ``rules`` to encoded ``rows`` (n x ``columns``, NaN = unknown). What is missing
    is said before any reason the label does not apply."""
    return RulesCheck.of(rules, columns).judge(rows)


@dataclass(frozen=True)
class RulesCheck:
    """:func:`judge` for one column layout, as arrays: which columns make up each alternative
    of each need (``alternatives``: columns x alternatives, 1 where the alternative needs the
    column; ``sizes``: its number of columns; ``need_of``: alternatives x needs, 1 where the
    alternative meets the need) and the needs' fields; per scope its column, field and reason.
    A need none of whose alternatives the columns hold is dropped."""

    fields: tuple[str, ...]
    alternatives: np.ndarray
    sizes: np.ndarray
    need_of: np.ndarray
    scope_columns: np.ndarray
    scope_fields: tuple[str, ...]
    scope_reasons: tuple[str, ...]

    @classmethod
    def of(cls, rules: AnswerRules, columns: list[str]) -> RulesCheck:
        """``rules`` with the positions of their features in ``columns`` looked up once (a
        served model judges every answer against the same columns)."""
        position = {name: k for k, name in enumerate(columns)}
        needs = []
        for need in rules.needs:
            usable = [tuple(position[f] for f in alt) for alt in need.alternatives
                      if all(f in position for f in alt)]
            if usable:
                needs.append((need.field, usable))
        flat = [alt for _, usable in needs for alt in usable]
        alternatives = np.zeros((len(columns), len(flat)))
        need_of = np.zeros((len(flat), len(needs)))
        k = 0
        for j, (_, usable) in enumerate(needs):
            for alt in usable:
                alternatives[list(alt), k] = 1.0
                need_of[k, j] = 1.0
                k += 1
        scopes = [(position[s.feature], s.field, s.reason) for s in rules.scopes
                  if s.feature in position]
        return cls(tuple(field for field, _ in needs), alternatives,
                   np.array([len(alt) for alt in flat], dtype=float), need_of,
                   np.array([c for c, _, _ in scopes], dtype=int),
                   tuple(f for _, f, _ in scopes), tuple(r for _, _, r in scopes))

    def judge(self, rows: np.ndarray) -> Verdict:
        """The verdict on ``rows`` (NaN = unknown); see :func:`judge`."""
        known = ~np.isnan(rows)
        met = ((known @ self.alternatives) >= self.sizes) @ self.need_of
        scoped = rows[:, self.scope_columns]
        missing: list[list[str]] = [[] for _ in range(len(rows))]
        for i, j in zip(*np.nonzero(met == 0), strict=True):
            _add(missing[i], self.fields[j])
        for i, j in zip(*np.nonzero(np.isnan(scoped)), strict=True):
            _add(missing[i], self.scope_fields[j])
        reasons: list[str | None] = [None] * len(rows)
        for i, j in zip(*np.nonzero(scoped < 0.5), strict=True):  # NaN is not below
            reasons[i] = reasons[i] or self.scope_reasons[j]
        return Verdict(missing, [None if missing[i] else r for i, r in enumerate(reasons)])


def _add(missing: list[str], field: str) -> None:
    if field not in missing:
        missing.append(field)
