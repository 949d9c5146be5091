"""The unknown-is-unknown average (:mod:`models.domain.unprofiled`) compiled into one booster pass.

The rule scores a patient whose gene-level inputs are partly unknown as the mean, over the
reference patients, of the booster on the patient's row with the unknown inputs taking that
reference patient's values, and explains it by the same mean of exact TreeSHAP contributions.
Done literally, that is one pass of every tree per reference patient (24 rows per patient).

A tree's value and its TreeSHAP contributions depend on an input only through the branch taken
at each split, and at a tree's few averaged splits the reference patients mostly take the same
branches (in the synthetic champions, 200 trees x 24 reference patients follow about 420
distinct tree paths, not 4,800). So, once per loaded model, each tree that splits on an
averaged input becomes one copy per distinct pattern of branches the reference patients take at
those splits; the copy's leaf values are scaled by the share of reference patients following
the pattern, and its averaged splits read a *slot* input of their own. A slot holds the
pattern's reference value where the patient's cell is averaged, and the patient's own value
otherwise. One pass of this booster over one widened row per patient gives the mean margin;
TreeSHAP being linear in leaf values, it also gives the mean contributions, once each slot's
contribution is added back to the feature it stands for. Bias included, the result equals the
literal mean up to float32 rounding (``tests/serving/test_unprofiled.py`` checks it by hand).

The models the API answers together (those of one setting) are explained through one
:class:`StackedBooster` of their averaged boosters: their trees side by side, each reading its
own block of a joined row, their TreeSHAP compiled into per-leaf tables
(:mod:`models.explanation.tree_shap`), so a request's contributions are one pass of a few array
operations for every model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xgboost as xgb

from models.domain.unprofiled import UnprofiledReference, averaged_input
from models.explanation.explain import ADDITIVITY_TOLERANCE, AdditivityError
from models.explanation.tree_shap import LEAF, PathTables


@dataclass(frozen=True)
class AveragedBooster:
    """A booster over widened rows whose one pass is the reference average of the model's own.

    ``n_features`` model features come first in a widened row, then the slot inputs;
    ``sources[k]`` is the model feature slot ``k`` stands for (slots are ordered by it) and
    ``values[k]`` the reference value it takes where the patient's cell is averaged. A model
    without a reference set has no slot: the booster is the model's own."""

    booster: xgb.Booster
    n_features: int
    sources: np.ndarray
    values: np.ndarray

    @classmethod
    def compile(cls, booster: xgb.Booster, features: list[str],
                reference: UnprofiledReference | None, n_jobs: int = 1) -> AveragedBooster:
        """The averaged booster of ``booster`` (over ``features``, in order) and the reference
        set; the booster itself when there is none. ``n_jobs``: threads of its predictions."""
        none = np.zeros(0, dtype=int)
        if reference is None:
            return cls(booster, len(features), none, np.zeros(0))
        model = json.loads(booster.save_raw("json"))
        trees = model["learner"]["gradient_booster"]["model"]
        if trees["iteration_indptr"] != list(range(len(trees["trees"]) + 1)):
            raise ValueError("only boosters of one tree per iteration can be averaged")
        averaged = np.array([averaged_input(f) for f in features], dtype=bool)
        copies = [copy for tree in trees["trees"]
                  for copy in _pattern_copies(tree, averaged, reference.values)]
        # slots ordered by the feature they stand for, so contributions fold back by reduceat
        wanted = sorted((feature, n) for n, (_, _, _, used) in enumerate(copies)
                        for feature in used)
        slot = {key: len(features) + k for k, key in enumerate(wanted)}
        compiled = _with_trees(model, [_rewired(tree, weight, {f: slot[f, n] for f in used})
                                       for n, (tree, weight, _, used) in enumerate(copies)],
                               len(features) + len(wanted), n_jobs)
        sources = np.array([feature for feature, _ in wanted], dtype=int)
        values = np.array([reference.values[copies[n][2], feature] for feature, n in wanted])
        return cls(compiled, len(features), sources, values)

    @property
    def width(self) -> int:
        """Inputs of a widened row: the model's features, then the slots."""
        return self.n_features + len(self.sources)

    @cached_property
    def bias(self) -> float:
        """The bias term of this booster's contributions (on its margin's scale: log relative
        hazard, log odds or minus log time): the same for every row, here a row of unknowns
        (computed once)."""
        empty = xgb.DMatrix(np.full((1, self.width), np.nan), missing=np.nan, nthread=1)
        return float(self.booster.predict(empty, pred_contribs=True,
                                          validate_features=False)[0, -1])

    def widen(self, X: np.ndarray, averaged: np.ndarray | None) -> np.ndarray:
        """Model rows ``X`` (patients x features) and their averaged cells (True where the
        rule replaces the patient's value; None without a reference set) -> widened rows."""
        if not len(self.sources):
            return X
        own = X[:, self.sources]
        slots = np.where(averaged[:, self.sources], self.values, own)
        return np.ascontiguousarray(np.concatenate([X, slots], axis=1))

    def margin(self, X: np.ndarray, averaged: np.ndarray | None) -> np.ndarray:
        """The averaged margin of each patient (float64, the booster's float32 widened)."""
        # the rows are the model's features in its order by construction: no name check
        return self.booster.inplace_predict(self.widen(X, averaged), predict_type="margin",
                                            missing=np.nan, validate_features=False
                                            ).astype(float)

    def fold(self, wide: np.ndarray, bias: float) -> np.ndarray:
        """The contributions of this booster's widened rows (``wide``: patients x widened
        inputs, no bias column) with each slot's added back to the feature it stands for, and
        ``bias`` last: patients x (features + 1)."""
        n = self.n_features
        out = np.empty((len(wide), n + 1))
        out[:, :n] = wide[:, :n]
        out[:, n] = bias
        if len(self.sources):
            starts, folded = self._folding
            out[:, folded] += np.add.reduceat(wide[:, n:], starts, axis=1)
        return out

    @cached_property
    def _folding(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each run of slots of one feature starts, and that feature: how the slots'
        contributions fold back (computed once per model)."""
        starts = np.flatnonzero(np.concatenate(([True], self.sources[1:] != self.sources[:-1])))
        return starts, self.sources[starts]


@dataclass(frozen=True)
class StackedBooster:
    """Averaged boosters side by side, explained together: each part's trees read only its own
    block of a joined row (the part's widened row), and their TreeSHAP is compiled into one set
    of per-leaf tables (:class:`models.explanation.tree_shap.PathTables`), so a request's
    contributions for every model of a setting are one pass of a few array operations (no
    xgboost matrix or call per request).

    A part's block of the contributions is exactly what its own booster gives: no tree of
    another part reads it. The bias term (its intercept plus its trees' expected value, the
    same for every row) is each part's own, taken once from its booster."""

    tables: PathTables
    parts: tuple[AveragedBooster, ...]
    starts: tuple[int, ...]  # where each part's block begins in a joined row
    biases: tuple[float, ...]  # each part's bias, on its margin's scale

    @classmethod
    def join(cls, parts: Sequence[AveragedBooster]) -> StackedBooster:
        """The stacked boosters of ``parts`` (in order; gbtree boosters of one tree per
        iteration). Checked once: on two probe rows, every part's contributions add up to its
        own booster's margin as xgboost computes it (AdditivityError otherwise)."""
        parts = tuple(parts)
        if not parts:
            raise ValueError("a stacked booster needs at least one part")
        starts = tuple(int(s) for s in np.cumsum([0, *(p.width for p in parts[:-1])]))
        models = [json.loads(part.booster.save_raw("json")) for part in parts]
        for model in models:
            _require_one_tree_per_iteration(model)
        trees = [_offset(tree, start) for model, start in zip(models, starts, strict=True)
                 for tree in model["learner"]["gradient_booster"]["model"]["trees"]]
        stacked = cls(PathTables.of_trees(trees, starts[-1] + parts[-1].width), parts, starts,
                      tuple(part.bias for part in parts))
        stacked._check()
        return stacked

    def _check(self) -> None:
        """Each part's contributions through the stack add up to its own booster's margin
        (xgboost's ``inplace_predict``), on a row of varied values and one of unknowns: a block
        read at the wrong place, a wrong bias or wrong leaf values would not (contributions
        given to the wrong feature of a leaf's path would: the tables' tests compare every
        contribution with xgboost's). A NaN fails too."""
        for probe in (lambda w: (np.arange(w) * 37 % 101).astype(float),
                      lambda w: np.full(w, np.nan)):
            rows = [probe(part.width)[None, :] for part in self.parts]
            wide = self.tables.contributions(np.concatenate(rows, axis=1))
            for part, start, bias, row in zip(self.parts, self.starts, self.biases, rows,
                                              strict=True):
                total = wide[0, start:start + part.width].sum() + bias
                own = float(part.booster.inplace_predict(row, predict_type="margin",
                                                         missing=np.nan,
                                                         validate_features=False)[0])
                if not abs(total - own) <= ADDITIVITY_TOLERANCE:
                    raise AdditivityError(f"a stacked part's contributions miss its margin by "
                                          f"{abs(total - own):.2e}")

    def contributions(self, rows: Sequence[tuple[np.ndarray, np.ndarray | None]]
                      ) -> list[np.ndarray]:
        """Per part, the averaged exact TreeSHAP contributions of its model rows and averaged
        cells (``rows[k]`` for part ``k``; the same patients in every part), patients x
        (features + 1), bias last."""
        joined = np.concatenate([part.widen(X, averaged) for part, (X, averaged)
                                 in zip(self.parts, rows, strict=True)], axis=1)
        wide = self.tables.contributions(joined)
        return [part.fold(wide[:, start:start + part.width], bias)
                for part, start, bias in zip(self.parts, self.starts, self.biases, strict=True)]


def _require_one_tree_per_iteration(model: dict) -> None:
    """Only a gbtree booster of one output and one tree per iteration can be stacked (its
    trees are renumbered as such)."""
    booster = model["learner"]["gradient_booster"]
    trees = booster.get("model", {})
    if booster.get("name") != "gbtree" or any(trees["tree_info"]) or (
            trees["iteration_indptr"] != list(range(len(trees["trees"]) + 1))):
        raise ValueError("only gbtree boosters of one output and one tree per iteration can "
                         "be stacked")


def _with_trees(model: dict, trees: list[dict], width: int, n_jobs: int) -> xgb.Booster:
    """The booster of xgboost JSON ``model`` with ``trees`` instead of its own (renumbered,
    one per iteration, over rows of ``width`` unnamed inputs); ``n_jobs``: its threads."""
    for n, tree in enumerate(trees):
        tree["id"] = n
        tree["tree_param"]["num_feature"] = str(width)
    gbtree = model["learner"]["gradient_booster"]["model"]
    gbtree["trees"] = trees
    gbtree["tree_info"] = [0] * len(trees)
    gbtree["iteration_indptr"] = list(range(len(trees) + 1))
    gbtree["gbtree_model_param"]["num_trees"] = str(len(trees))
    learner = model["learner"]
    learner["learner_model_param"]["num_feature"] = str(width)
    learner["feature_names"], learner["feature_types"] = [], []
    booster = xgb.Booster(params={"nthread": n_jobs})
    booster.load_model(bytearray(json.dumps(model).encode()))
    return booster


def _offset(tree: dict, start: int) -> dict:
    """``tree`` (xgboost JSON) reading its inputs ``start`` positions further along the row."""
    if not start:
        return tree
    return {**tree, "tree_param": dict(tree["tree_param"]), "split_indices": [
        f + start if child != LEAF else f
        for f, child in zip(tree["split_indices"], tree["left_children"], strict=True)]}


def _pattern_copies(tree: dict, averaged: np.ndarray, reference: np.ndarray
                    ) -> list[tuple[dict, float, int, list[int]]]:
    """The copies of one tree (xgboost JSON): per distinct pattern of branches the reference
    patients (rows of ``reference``) take at its splits on averaged features, the tree, the
    share of reference patients following it, one of them, and the averaged features split
    on. A tree without such a split is itself, whole."""
    split = np.asarray(tree["split_indices"], dtype=int)
    internal = np.asarray(tree["left_children"], dtype=int) != LEAF
    nodes = np.flatnonzero(internal & averaged[split])
    if not len(nodes):
        return [(tree, 1.0, 0, [])]
    if any(tree["split_type"][k] for k in nodes):
        raise ValueError("categorical splits on averaged inputs cannot be averaged")
    values = reference[:, split[nodes]].astype(np.float32)  # xgboost compares in float32
    threshold = np.asarray(tree["split_conditions"], dtype=np.float32)[nodes]
    default_left = np.asarray(tree["default_left"], dtype=bool)[nodes]
    goes_left = np.where(np.isnan(values), default_left, values < threshold)
    _, first, counts = np.unique(goes_left, axis=0, return_index=True, return_counts=True)
    used = sorted(set(split[nodes].tolist()))
    return [(tree, count / len(reference), int(k), used)
            for k, count in zip(first, counts, strict=True)]


def _rewired(tree: dict, weight: float, slots: dict[int, int]) -> dict:
    """A copy of ``tree`` whose leaf values are scaled by ``weight`` and whose splits on the
    features of ``slots`` read their slot instead."""
    internal = [child != LEAF for child in tree["left_children"]]
    return {**tree, "tree_param": dict(tree["tree_param"]),
            "split_indices": [slots.get(f, f) if inner else f
                              for f, inner in zip(tree["split_indices"], internal, strict=True)],
            "split_conditions": [
                c if inner else c * weight
                for c, inner in zip(tree["split_conditions"], internal, strict=True)],
            "base_weights": [w * weight for w in tree["base_weights"]]}
