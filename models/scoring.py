"""One pass of a bundle over encoded rows: preprocessing once, the booster's margin once, its
contributions once; risk, survival probabilities, calibrated probabilities, risk groups and the
explanation all follow from those arrays.

The rows are a bundle's input columns (from :class:`features.encoder.ProfileEncoder`). The
fitted feature selection of a tree pipeline is a column subset, applied here as an index; the
numbers equal :meth:`ModelBundle.predict` and :func:`models.explain.explain` on the same rows
(``tests/serving`` checks responses against the design path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.special import expit

from models.aft import AFTRiskModel
from models.bundle import RISK_GROUPS, ModelBundle
from models.explain import Explanation


@dataclass(frozen=True)
class BundleScorer:
    """A bundle made ready for rows: which input columns its model sees, and its booster."""

    bundle: ModelBundle
    selected: np.ndarray  # positions of the model's features among the input columns
    features: list[str]
    groups: dict[str, str]  # feature -> group
    booster: xgb.Booster

    @classmethod
    def of(cls, bundle: ModelBundle) -> BundleScorer:
        """Precompute, once per loaded bundle, what every request needs."""
        features = bundle.model_features
        position = {name: k for k, name in enumerate(bundle.input_features)}
        return cls(bundle, np.array([position[f] for f in features], dtype=int), features,
                   bundle.feature_groups, bundle.pipeline[-1].booster_)

    def score(self, rows: np.ndarray, explain: bool = True) -> Scores:
        """Margins, contributions and predictions of the input ``rows`` (n x inputs), with
        the unknown-is-unknown rule (:mod:`models.unprofiled`) when the bundle has a reference
        set: a patient's unknown gene-level inputs are averaged over it. ``explain=False``
        skips the contributions (``Scores.contributions`` is then None)."""
        model = self.bundle.pipeline[-1]
        X = np.ascontiguousarray(rows[:, self.selected], dtype=float)
        reference = self.bundle.unprofiled
        if reference is not None:
            scored, owner, averaged = reference.expand(X)
        else:
            scored, owner, averaged = X, np.arange(len(X)), None
        # The columns are the model's features in its order by construction (``selected``), so
        # the booster's per-call name check is skipped. Explained: one TreeSHAP pass, and the
        # margin is its contributions' sum (bias included), so base + contributions equals the
        # risk score exactly (the booster's own float32 margin differs by under 1e-6); not
        # explained: the margin alone, without building a DMatrix (ModelBundle.predict's).
        # The DMatrix is built with the model's own thread count (1 as trained). xgboost's
        # default, every core, took 245 us against 83 us for a 24 x 120 matrix on the 2-core
        # machine, and 4.5-5 ms against 72 us while its cores were busy (the benchmark's floor
        # builds its matrices the same way).
        if explain:
            contributions = _mean_by(owner, model.blend(self.booster.predict(
                xgb.DMatrix(scored, missing=np.nan, nthread=model.n_jobs), pred_contribs=True,
                validate_features=False).astype(float), scored))
            margin = contributions.sum(axis=1)
        else:
            contributions = None
            margin = _mean_by(owner, model.blend(self.booster.inplace_predict(
                scored, predict_type="margin", missing=np.nan,
                validate_features=False).astype(float), scored))
        if isinstance(model, AFTRiskModel):  # its risk score is minus the margin
            margin = -margin
            contributions = None if contributions is None else -contributions
        if self.bundle.kind == "survival":
            score = margin
            horizons = np.asarray(self.bundle.horizons_months, dtype=float)
            survival = model.baseline_.survival(margin, horizons)
        elif model.calibration in ("sigmoid", "isotonic"):  # a calibrator of the probability
            calibrator = model.calibrated_.calibrated_classifiers_[0].calibrators[0]
            score = np.asarray(calibrator.predict(expit(margin)), dtype=float)
            survival = None
        else:  # another calibration: the model's own (averaged), one more booster call
            frame = pd.DataFrame(scored, columns=self.features)
            score = _mean_by(owner, np.asarray(model.predict_proba(frame)[:, 1], dtype=float))
            survival = None
        low, high = self.bundle.risk_group_cutpoints
        groups = np.where(score >= high, RISK_GROUPS[2],
                          np.where(score >= low, RISK_GROUPS[1], RISK_GROUPS[0]))
        return Scores(self, X, margin, contributions, score, survival, groups, averaged)


def _mean_by(owner: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The mean of ``values`` (rows, in blocks of consecutive equal ``owner``, owners
    0..k-1 in order) per owner."""
    if len(owner) == 0 or len(owner) == owner[-1] + 1:  # one row per owner: nothing to average
        return values
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    counts = np.diff(np.r_[starts, len(owner)])
    sums = np.add.reduceat(values, starts, axis=0)
    return sums / (counts if values.ndim == 1 else counts[:, None])


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

    def explanation(self) -> Explanation:
        """The :class:`Explanation` of these rows, built from the arrays."""
        bundle = self.scorer.bundle
        return Explanation(
            contribution_matrix=self.contributions[:, :-1],
            base_value=self.contributions[:, -1].copy(), value_matrix=self.features,
            features=self.scorer.features, groups=self.scorer.groups,
            scale=bundle.explainer.get("scale", ""), bundle=bundle,
            index=pd.RangeIndex(len(self.margin)), averaged=self.averaged)
