"""The one scoring path: one pass of a bundle over encoded rows (preprocessing once, the
booster's margin once, its contributions once); risk, survival probabilities, calibrated
probabilities, risk groups and the explanation all follow from those arrays. The API, batch
prediction, ``mbcrisk explain``, the training run's explanations and the load check all score
through it.

The rows are a bundle's input columns (from :class:`features.encoder.ProfileEncoder` or a
cohort's design). The fitted feature selection of a tree pipeline is a column subset, applied
here as an index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import expit

from models.bundles.bundle import RISK_GROUPS, ModelBundle
from models.estimators.aft import AFTRiskModel
from models.estimators.calibration_map import CalibrationMap
from models.explanation.averaged_booster import AveragedBooster, StackedBooster
from models.explanation.explain import Explanation, check_additivity


@dataclass(frozen=True)
class BundleScorer:
    """A bundle made ready for rows: which input columns its model sees, and its booster
    compiled with the unknown-is-unknown rule (:mod:`models.explanation.averaged_booster`)."""

    bundle: ModelBundle
    selected: np.ndarray  # positions of the model's features among the input columns
    features: list[str]
    groups: dict[str, str]  # feature -> group
    feature_groups: tuple[str, ...]  # each feature's group, in feature order
    averaging: AveragedBooster
    calibration: CalibrationMap | None  # binary models: booster probability -> calibrated

    @classmethod
    def of(cls, bundle: ModelBundle) -> BundleScorer:
        """Precompute, once per loaded bundle, what every request needs."""
        features = bundle.model_features
        position = {name: k for k, name in enumerate(bundle.input_features)}
        model = bundle.pipeline[-1]
        averaging = AveragedBooster.compile(model.booster_, features, bundle.unprofiled,
                                            model.n_jobs)
        calibration = None if bundle.kind == "survival" else CalibrationMap.of(
            model.calibrator_)
        groups = bundle.feature_groups
        return cls(bundle, np.array([position[f] for f in features], dtype=int), features,
                   groups, tuple(groups[f] for f in features), averaging, calibration)

    @cached_property
    def stacked(self) -> StackedBooster:
        """The averaged booster alone, for its contributions (its TreeSHAP tables compiled
        on first use: scoring without explanations never needs them)."""
        return StackedBooster.join([self.averaging])

    def score(self, rows: np.ndarray, explain: bool = True) -> Scores:
        """Margins, contributions and predictions of the input ``rows`` (n x inputs), with
        the unknown-is-unknown rule (:mod:`models.domain.unprofiled`) when the bundle has a
        reference set: a patient's unknown gene-level inputs are averaged over it. ``explain=False``
        skips the contributions (``Scores.contributions`` is then None)."""
        return JointScorer((self,)).score([rows], explain)[0]

    def _model_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The model's own rows of the input ``rows``, and the cells the rule averages."""
        X = np.ascontiguousarray(rows[:, self.selected], dtype=float)
        reference = self.bundle.unprofiled
        return X, None if reference is None else reference.averaged_cells(X)

    def _scores(self, X: np.ndarray, averaged: np.ndarray | None,
                booster_contributions: np.ndarray | None) -> Scores:
        """The scores of model rows ``X`` from the averaged booster's contributions (None: not
        explained, the margin is computed here)."""
        model = self.bundle.pipeline[-1]
        # Explained: one TreeSHAP pass, and the margin is its contributions' sum (bias
        # included), so base + contributions equals the risk score exactly (the booster's own
        # float32 margin differs by under 1e-6); not explained: the margin alone. A blended
        # model adds its linear part, on clinical inputs the rule never averages.
        if booster_contributions is not None:
            contributions = model.blend(booster_contributions, X)
            margin = contributions.sum(axis=1)
        else:
            contributions = None
            margin = model.blend(self.averaging.margin(X, averaged), X)
        if isinstance(model, AFTRiskModel):  # its risk score is minus the margin
            margin = -margin
            contributions = None if contributions is None else -contributions
        if self.bundle.kind == "survival":
            score = margin
            horizons = np.asarray(self.bundle.horizons_months, dtype=float)
            survival = model.baseline_.survival(margin, horizons)
        else:  # the calibrator of the probability, sigmoid or isotonic
            score = self.calibration(expit(margin))
            survival = None
        low, high = self.bundle.risk_group_cutpoints
        groups = np.where(score >= high, RISK_GROUPS[2],
                          np.where(score >= low, RISK_GROUPS[1], RISK_GROUPS[0]))
        return Scores(self, X, margin, contributions, score, survival, groups, averaged)


@dataclass(frozen=True)
class JointScorer:
    """Models answered together for the same patients (the API's models of one setting): each
    scored as :meth:`BundleScorer.score` would, their contributions from one pass of their
    stacked boosters (:class:`models.explanation.averaged_booster.StackedBooster`)."""

    scorers: tuple[BundleScorer, ...]

    @classmethod
    def of(cls, scorers: Sequence[BundleScorer]) -> JointScorer:
        """The scorers answered together, their boosters stacked and checked now (once per
        set of models, not on the first request)."""
        joint = cls(tuple(scorers))
        _ = joint.stacked
        return joint

    @cached_property
    def stacked(self) -> StackedBooster:
        """The scorers' boosters stacked (one scorer: its own), compiled on first use."""
        if len(self.scorers) == 1:
            return self.scorers[0].stacked
        return StackedBooster.join([s.averaging for s in self.scorers])

    def score(self, rows: Sequence[np.ndarray], explain: bool = True) -> list[Scores]:
        """Per scorer, :meth:`BundleScorer.score` of its input rows (``rows[k]`` for scorer
        ``k``, the same patients in each)."""
        prepared = [scorer._model_rows(r) for scorer, r in zip(self.scorers, rows, strict=True)]
        contributions = (self.stacked.contributions(prepared) if explain
                         else [None] * len(prepared))
        return [scorer._scores(X, averaged, c) for scorer, (X, averaged), c
                in zip(self.scorers, prepared, contributions, strict=True)]


@dataclass(frozen=True)
class Scores:
    """What one pass over a batch of rows produced."""

    scorer: BundleScorer
    features: np.ndarray  # the model's own input rows
    margin: np.ndarray
    contributions: np.ndarray | None  # n x (features + 1), bias last; None: not explained
    score: np.ndarray  # risk score (survival) or calibrated probability (binary)
    survival: np.ndarray | None  # n x horizons: probability of no relapse by each horizon
    risk_group: np.ndarray
    averaged: np.ndarray | None = None  # n x features: unknown inputs the rule averaged

    def frame(self, index: pd.Index) -> pd.DataFrame:
        """Per patient (rows labelled ``index``): ``risk_score``, the survival columns
        (probability of no event by h months) or ``probability``, and ``risk_group``."""
        bundle = self.scorer.bundle
        out = pd.DataFrame({"risk_score": self.score}, index=index)
        if bundle.kind == "survival":
            for k, column in enumerate(bundle.survival_columns):
                out[column] = self.survival[:, k]
        else:
            out["probability"] = self.score
        out["risk_group"] = self.risk_group
        return out

    def explanation(self) -> Explanation:
        """The :class:`Explanation` of these rows, built from the arrays."""
        bundle = self.scorer.bundle
        return Explanation(
            contribution_matrix=self.contributions[:, :-1],
            base_value=self.contributions[:, -1].copy(), value_matrix=self.features,
            features=self.scorer.features, groups=self.scorer.groups,
            scale=bundle.explainer.get("scale", ""), bundle=bundle,
            index=pd.RangeIndex(len(self.margin)), averaged=self.averaged,
            feature_groups=self.scorer.feature_groups)


def explain_rows(bundle: ModelBundle, X: pd.DataFrame,
                 ) -> tuple[Scores, Explanation, float]:
    """The answer the API gives for the design rows ``X``: scores and their explanation
    (exact contributions with the unknown-is-unknown rule), and the largest gap between base
    + contributions and the margin the same path computes without TreeSHAP
    (:func:`models.explanation.explain.check_additivity`; AdditivityError above its tolerance)."""
    scorer = BundleScorer.of(bundle)
    rows = bundle.input_frame(X).to_numpy(dtype=float)
    scores = scorer.score(rows)
    explanation = scores.explanation()
    return scores, explanation, check_additivity(explanation,
                                                 scorer.score(rows, explain=False).margin)


def predict(bundle: ModelBundle, X: pd.DataFrame) -> pd.DataFrame:
    """Per patient of the design rows ``X`` (rows labelled as in ``X``): ``risk_score``,
    ``risk_group`` and, for survival models, the survival columns (probability of no event by
    h months); for resistance, ``probability``. Unknown gene-level inputs follow the
    unknown-is-unknown rule (:mod:`models.domain.unprofiled`)."""
    return BundleScorer.of(bundle).score(bundle.input_frame(X).to_numpy(dtype=float),
                                         explain=False).frame(X.index)
