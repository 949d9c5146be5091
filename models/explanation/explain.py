"""Explanations: exact TreeSHAP contributions of every feature to a patient's margin.

The contributions come from the one scoring path (:mod:`models.scoring`): the bundle's fitted
feature selection, then its booster's exact TreeSHAP (per-leaf tables equal to xgboost's
``pred_contribs``, :mod:`models.explanation.tree_shap`, with the unknown-is-unknown rule), so
what is explained is what is predicted. This module holds the
Explanation and puts it in words.
The margin is the relapse model's risk score (its ``risk_scale``: log relative hazard for the
Cox model, minus log relapse-free time for the AFT model) or the log odds before calibration
(resistance); ``base + sum(contributions) = margin`` exactly (checked to 1e-5).

Why not ``shap.TreeExplainer``: on shap 0.51 the explainer's ``expected_value`` read before the
first ``shap_values`` call is wrong for xgboost Cox models, and each call pays a fixed cost of
its own; the bias term is taken from xgboost's ``pred_contribs`` (``tests/models`` checks them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from features.pipeline import TREATMENT_GROUP, is_treatment
from models.bundles.bundle import ModelBundle
from models.domain.unprofiled import REFERENCE_SIZE, evolution_inputs
from models.explanation.wording import direction, sentence, value_shown

ADDITIVITY_TOLERANCE = 1e-5


class AdditivityError(ValueError):
    """Contributions do not add up to the model's margin."""


@dataclass
class Explanation:
    """Per patient (rows) contributions to the margin, per feature and per feature group.

    Held as arrays (patients x ``features``): ``contribution_matrix`` (positive raises the
    risk), ``value_matrix`` (the patients' model-input values, NaN = unknown, for wording);
    ``base_value`` per patient; ``groups`` maps each feature to its group; ``index`` names the
    patients. The DataFrame views (:attr:`contributions`, :attr:`values`, :attr:`grouped`) are
    built on first use, so one patient's answer never pays for them.
    """

    contribution_matrix: np.ndarray
    base_value: np.ndarray
    value_matrix: np.ndarray
    features: list[str]
    groups: dict[str, str]
    scale: str
    bundle: ModelBundle
    index: pd.Index
    #: patients x features: True where the unknown-is-unknown rule averaged the input (its
    #: contribution is the average; :func:`unprofiled_summary`, never a driver). None: none.
    averaged: np.ndarray | None = None
    #: each feature's group in feature order, when the caller has it at hand (a scorer
    #: computes it once per model); empty: read from ``groups``
    feature_groups: tuple[str, ...] = ()

    def known(self, row: int) -> np.ndarray:
        """Which features of patient ``row`` are the patient's own (not averaged)."""
        if self.averaged is None:
            return np.ones(len(self.features), dtype=bool)
        return ~self.averaged[row]

    @property
    def margin(self) -> np.ndarray:
        """base + sum of contributions: the model's margin for each patient."""
        return self.base_value + self.contribution_matrix.sum(axis=1)

    @cached_property
    def contributions(self) -> pd.DataFrame:
        """Contributions as a table (patients x features)."""
        return pd.DataFrame(self.contribution_matrix, index=self.index, columns=self.features)

    @cached_property
    def values(self) -> pd.DataFrame:
        """The model-input values as a table (patients x features; NaN = unknown)."""
        return pd.DataFrame(self.value_matrix, index=self.index, columns=self.features)

    @cached_property
    def _layout(self) -> _GroupLayout:
        return _group_layout(self.feature_groups or tuple(self.groups[n] for n in self.features))

    @property
    def group_names(self) -> list[str]:
        """The feature groups, sorted."""
        return list(self._layout.names)

    @property
    def membership(self) -> np.ndarray:
        """features x groups: 1 where the feature belongs to the group (read-only)."""
        return self._layout.membership

    @cached_property
    def group_matrix(self) -> np.ndarray:
        """Contributions summed per feature group (patients x :attr:`group_names`)."""
        return self.contribution_matrix @ self.membership

    @property
    def grouped(self) -> pd.DataFrame:
        """:attr:`group_matrix` as a table."""
        return pd.DataFrame(self.group_matrix, index=self.index, columns=self.group_names)

    def importance(self, by: str = "feature") -> pd.Series:
        """Mean absolute contribution per feature (``by="feature"``) or group, largest first."""
        table = self.contributions if by == "feature" else self.grouped
        return table.abs().mean().sort_values(ascending=False)

    def group_survival_effect(self, rows: np.ndarray, groups: np.ndarray,
                              horizons_months: tuple[float, ...] | None = None) -> np.ndarray:
        """Survival models: for patients ``rows`` and group positions ``groups`` (same length),
        the change in S(t) in percentage points that the group causes at each horizon:
        S(t | margin) - S(t | margin - group contribution). Negative means the group lowers
        the chance of staying event-free. Shape: len(rows) x horizons."""
        return self.survival_change(rows, self.group_matrix[rows, groups], horizons_months)

    def survival_change(self, rows: np.ndarray, contributions: np.ndarray,
                        horizons_months: tuple[float, ...] | None = None) -> np.ndarray:
        """Survival models: S(t | margin) - S(t | margin - contribution) in percentage points,
        for patients ``rows`` and the ``contributions`` (same length) of what is removed."""
        if self.bundle.kind != "survival":
            raise ValueError("survival effects exist only for survival models")
        horizons = np.asarray(horizons_months or self.bundle.horizons_months, dtype=float)
        baseline = self.bundle.pipeline[-1].baseline_
        margin = self.margin[rows]
        both = baseline.survival(np.concatenate([margin, margin - contributions]), horizons)
        return 100.0 * (both[:len(margin)] - both[len(margin):])

    def survival_effect(self, horizons_months: tuple[float, ...] | None = None) -> pd.DataFrame:
        """:meth:`group_survival_effect` for every patient and group, in long format (rows:
        patient and group; columns: horizons in months)."""
        n_patients, n_groups = self.group_matrix.shape
        rows = np.repeat(np.arange(n_patients), n_groups)
        groups = np.tile(np.arange(n_groups), n_patients)
        effect = self.group_survival_effect(rows, groups, horizons_months)
        horizons = horizons_months or self.bundle.horizons_months
        index = pd.MultiIndex.from_product([self.index, self.group_names],
                                           names=[self.index.name, "group"])
        return pd.DataFrame(effect, index=index,
                            columns=pd.Index([f"{h:g}" for h in horizons],
                                             name="horizon_months"))


@dataclass(frozen=True)
class _GroupLayout:
    """Which group each feature of a model belongs to, as arrays."""

    names: tuple[str, ...]  # the groups, sorted
    membership: np.ndarray  # features x groups, 1 where the feature is in the group
    position: np.ndarray  # per feature, its group's position in ``names``
    order: np.ndarray  # the features sorted by group, in feature order within a group
    starts: np.ndarray  # per group, where its features begin in ``order``
    sorted_group: np.ndarray  # per place in ``order``, its feature's group


@lru_cache(maxsize=32)
def _group_layout(feature_groups: tuple[str, ...]) -> _GroupLayout:
    """The layout of features whose groups are ``feature_groups`` (in feature order); cached,
    as every explanation of one model shares it (a model's answers build one per request)."""
    names = tuple(sorted(set(feature_groups)))
    index = {g: k for k, g in enumerate(names)}
    position = np.array([index[g] for g in feature_groups], dtype=int)
    membership = np.zeros((len(feature_groups), len(names)))
    membership[np.arange(len(feature_groups)), position] = 1.0
    order = np.argsort(position, kind="stable")
    sorted_group = position[order]
    starts = np.searchsorted(sorted_group, np.arange(len(names)))
    for array in (membership, position, order, starts, sorted_group):
        array.flags.writeable = False
    return _GroupLayout(names, membership, position, order, starts, sorted_group)


def check_additivity(explanation: Explanation, margin: np.ndarray) -> float:
    """Largest |base + sum(contributions) - margin| against ``margin``, the margin computed
    without TreeSHAP; raises AdditivityError above 1e-5."""
    gap = float(np.max(np.abs(explanation.margin - np.asarray(margin, dtype=float)),
                       initial=0.0))
    if gap > ADDITIVITY_TOLERANCE:
        raise AdditivityError(f"contributions miss the margin by {gap:.2e} "
                              f"(tolerance {ADDITIVITY_TOLERANCE})")
    return gap


def _largest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest |values|, largest first (ties in feature order)."""
    return np.argsort(-np.abs(values), kind="stable")[:k]


def top_contributions(explanation: Explanation, row: int, k: int = 5,
                      details: dict[str, str] | None = None) -> list[dict[str, object]]:
    """The ``k`` largest contributions of patient ``row`` as readable records:
    ``{feature, group, value_shown, contribution, direction, sentence}``."""
    contributions = explanation.contribution_matrix[row]
    own = np.flatnonzero(explanation.known(row))
    records = []
    for j in own[_largest(contributions[own], k)]:
        feature = explanation.features[j]
        shown = value_shown(feature, float(explanation.value_matrix[row, j]), details)
        value = float(contributions[j])
        treatment = is_treatment(feature)
        records.append({"feature": feature, "group": explanation.groups[feature],
                        "value_shown": shown, "contribution": round(value, 6),
                        "direction": direction(value), "treatment": treatment,
                        "sentence": sentence(shown, value, treatment)})
    return records


def select_drivers(explanation: Explanation, rows: np.ndarray,
                   k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drivers of patients ``rows``, for all of them at once: their ``k`` feature groups
    with the largest |summed contribution of the patient's own features| (inputs the
    unknown-is-unknown rule averaged are not the patient's), largest first, ties in group
    order. Returns three ``len(rows) x k`` arrays: the groups' positions in
    :attr:`Explanation.group_names` (-1 where the patient has fewer groups), their summed
    contributions, and each group's leading feature (largest |contribution|, first in feature
    order on ties; a position in :attr:`Explanation.features`)."""
    layout = explanation._layout
    rows = np.asarray(rows, dtype=int)[:, None]
    # the patients' contributions with the features sorted by group: each group a run
    own = explanation.contribution_matrix[rows, layout.order]
    strength = np.abs(own)
    strength[np.isnan(strength)] = -0.5  # a NaN contribution leads last
    if explanation.averaged is None:
        available = np.ones((len(rows), len(layout.names)), dtype=bool)
    else:
        known = ~explanation.averaged[rows, layout.order]
        own = np.where(known, own, 0.0)
        strength = np.where(known, strength, -1.0)  # an averaged input never leads
        available = np.logical_or.reduceat(known, layout.starts, axis=1)  # an own feature
    grouped = np.add.reduceat(own, layout.starts, axis=1)
    top = np.argsort(np.where(available, -np.abs(grouped), np.inf), axis=1,
                     kind="stable")[:, :k]
    patient = np.arange(len(rows))[:, None]  # indexes each patient's own row
    shown = available[patient, top]
    # each group's leader: the first place of its run (feature order) at the run's peak
    peak = np.maximum.reduceat(strength, layout.starts, axis=1)
    places = np.where(strength == peak[:, layout.sorted_group], np.arange(own.shape[1]),
                      own.shape[1])
    first = np.minimum.reduceat(places, layout.starts, axis=1)
    leaders = layout.order[first[patient, top]]
    return (np.where(shown, top, -1), np.where(shown, grouped[patient, top], 0.0),
            np.where(shown, leaders, 0))


def driver_record(explanation: Explanation, row: int, group: int, lead: int, value: float,
                  details: dict[str, str] | None = None) -> dict[str, object]:
    """One driver in words: ``{group, value_shown, contribution, direction, treatment,
    sentence}``, worded by the group's leading feature (positions from :func:`select_drivers`);
    a treatment group is worded as a marker of the clinical decision."""
    name = explanation.group_names[group]
    shown = value_shown(explanation.features[lead], float(explanation.value_matrix[row, lead]),
                        details)
    if shown in ("not profiled", "unknown"):
        shown = f"{name} {shown}"
    treatment = name == TREATMENT_GROUP
    return {"group": name, "value_shown": shown, "contribution": round(float(value), 6),
            "direction": direction(value), "treatment": treatment,
            "sentence": sentence(shown, value, treatment)}


def top_groups(explanation: Explanation, row: int, k: int = 5,
               details: dict[str, str] | None = None) -> list[dict[str, object]]:
    """The ``k`` drivers of patient ``row`` (:func:`select_drivers`) as :func:`driver_record`
    records, with (survival models) the group's effect on S(t) in percentage points."""
    order, values, lead = (a[0] for a in select_drivers(explanation, np.array([row]), k))
    shown = order >= 0
    order, values, lead = order[shown], values[shown], lead[shown]
    effects = (explanation.survival_change(np.full(len(order), row), values).tolist()
               if explanation.bundle.kind == "survival" else None)
    horizons = _horizon_labels(explanation.bundle.horizons_months)
    records = []
    for rank, (g, value, j) in enumerate(zip(order.tolist(), values.tolist(), lead.tolist(),
                                             strict=True)):
        record = driver_record(explanation, row, g, j, value, details)
        if effects is not None:
            record["event_free_change_points"] = {
                h: round(v, 3) for h, v in zip(horizons, effects[rank], strict=True)}
        records.append(record)
    return records


@lru_cache(maxsize=32)
def _horizon_labels(horizons_months: tuple[float, ...]) -> tuple[str, ...]:
    """``"3m"``, ``"6m"`` ...: the keys of a driver's effect at each horizon."""
    return tuple(f"{h:g}m" for h in horizons_months)


def unprofiled_summary(explanation: Explanation, row: int) -> dict[str, object] | None:
    """The inputs the unknown-is-unknown rule averaged for patient ``row``, as one record
    (``{inputs, contribution, sentence}``), or None when it averaged none. Never a driver: the
    contribution is what the unprofiled genes add on average over the reference patients."""
    if explanation.averaged is None or not explanation.averaged[row].any():
        return None
    mask = explanation.averaged[row]
    value = float(explanation.contribution_matrix[row, mask].sum())
    evolution = int(mask[evolution_inputs(tuple(explanation.features))].sum())
    genes = int(mask.sum()) - evolution
    unknown = [f"{genes} genomic inputs not profiled"] if genes else []
    if evolution:
        unknown.append(f"{evolution} primary-to-metastasis changes unknown (no profiled "
                       "primary and metastasis pair)")
    advice = "; list the genes the panel covered in profiled_genes" if genes else ""
    return {"inputs": genes + evolution, "contribution": round(value, 6),
            "sentence": (f"{' and '.join(unknown)}: averaged over {REFERENCE_SIZE} training "
                         f"patients profiled for them (together they "
                         f"{_PLURAL[direction(value)]} the predicted risk on average){advice}")}


_PLURAL = {"raises": "raise", "lowers": "lower", "does not change": "do not change"}
