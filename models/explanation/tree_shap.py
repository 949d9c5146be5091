"""Exact TreeSHAP of xgboost trees as per-leaf tables: a few array operations per batch.

xgboost's ``pred_contribs`` gives the same values (path-dependent TreeSHAP, Lundberg et al.
2020), but every call builds a ``DMatrix`` and crosses into C++ through a fixed path: for the
one patient of an API request that fixed cost (about 0.3 ms warm, 0.8 ms in the served
worker, for the stacked boosters of a setting) is larger than the trees' own work and was the
largest single part of an explained answer. Here the work is rearranged once per loaded model
(the idea of Fast TreeSHAP v2, Yang 2021), so a request is a handful of numpy operations.

How. A leaf of value ``v`` whose path splits on the distinct features ``U`` (``d`` of them)
contributes, for the patient's row, ``phi_i = v (o_i - z_i) sum_{S subset U - {i}} w(|S|, d)
prod_{k in S} o_k prod_{k not in S, k != i} z_k`` to each ``i`` in ``U`` (Shapley weights
``w(s, d) = s! (d - s - 1)! / d!``), where ``z_k`` is the share of the training cover that
follows the path at ``k``'s splits and ``o_k`` is 1 if the row follows the path at every split
on ``k`` (missing values their split's default branch), else 0. Given the leaf, that depends on
the row only through the pattern of ``o``: the ``2^d`` patterns' values are tabulated at
compile time, and a row's contributions are one table entry per leaf, summed per feature.
Every leaf is padded to the deepest path's ``d`` with features that always follow the path and
leave the cover whole (``o = z = 1``): a null player, which changes no one's Shapley value.

Equal to xgboost's ``pred_contribs`` without its bias column up to float32 rounding
(``tests/models/explanation/test_tree_shap.py`` compares them on varied boosters and rows
with missing values); :class:`models.explanation.averaged_booster.StackedBooster` also checks
at load that its parts' contributions add up to xgboost's margins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from math import factorial

import numpy as np
from scipy import sparse

#: xgboost's marker of a leaf in ``left_children``.
LEAF = -1

#: Most distinct features on one leaf's path a model may have (d): the tables and their
#: compilation grow as 2^d (the tuned depths, at most 3, give d <= 3).
MAX_PATH_FEATURES = 8

#: Largest table a model may compile into (float64 entries: leaves x 2^d x d). Depth-3 boosters
#: of 500 trees need 96,000; xgboost's default depth 6 with 500 trees 12.3 million (98 MB, and
#: about as much again for the sparse copy a batch is summed through).
MAX_TABLE_ENTRIES = 32_000_000

#: Working cells per tabulating pass (leaves x 2^d x d x d): bounds the compilation's memory.
_TABLE_CELLS_PER_PASS = 4_000_000

#: Rows per array pass: bounds the working arrays (rows x leaves x splits) of a large batch.
_CELLS_PER_PASS = 4_000_000


@dataclass(frozen=True)
class PathTables:
    """TreeSHAP of a set of trees over rows of ``width`` inputs, compiled as per-leaf tables.

    Per leaf (rows of the arrays, every tree's leaves in turn): ``features`` its path's
    distinct features (``width`` where padded), and per split on its path (padded with splits
    every row follows) the input ``split_feature``, the float32 ``threshold``, whether the path
    goes left (``goes_left``: inputs below the threshold) and whether missing values follow it
    (``missing_follows``), and ``bit``, the place of the split's feature in the leaf's pattern
    (the smallest unsigned type that holds every pattern).
    ``table[leaf, pattern]``: the contributions, in the trees' margin (higher: a larger margin),
    of the leaf's path features when the row follows the path at exactly the pattern's
    features."""

    width: int
    features: np.ndarray  # leaves x d, int
    split_feature: np.ndarray  # leaves x splits, int
    threshold: np.ndarray  # leaves x splits, float32
    goes_left: np.ndarray  # leaves x splits, bool
    missing_follows: np.ndarray  # leaves x splits, bool
    bit: np.ndarray  # leaves x splits, unsigned: 1 << the split feature's place in the leaf's
    table: np.ndarray  # leaves x 2^d x d, float64

    @classmethod
    def of_trees(cls, trees: Sequence[dict], width: int) -> PathTables:
        """The tables of ``trees`` (xgboost JSON trees, numerical splits only) reading rows of
        ``width`` inputs. ValueError on a categorical split, a path on more than
        :data:`MAX_PATH_FEATURES` features or a table above :data:`MAX_TABLE_ENTRIES`."""
        paths = [path for tree in trees for path in _leaf_paths(tree)]
        depth = max((len({f for f, *_ in splits}) for _, splits in paths), default=0)
        longest = max((len(splits) for _, splits in paths), default=0)
        entries = len(paths) * 2 ** depth * depth
        if depth > MAX_PATH_FEATURES:
            raise ValueError(f"TreeSHAP tables take paths on at most {MAX_PATH_FEATURES} "
                             f"distinct features, not {depth}: train shallower trees")
        if entries > MAX_TABLE_ENTRIES:
            raise ValueError(f"TreeSHAP tables of {len(paths)} leaves with up to {depth} "
                             f"features on a path need {entries:,} entries, above "
                             f"{MAX_TABLE_ENTRIES:,}: train shallower trees")
        n = len(paths)
        features = np.full((n, depth), width, dtype=np.intp)
        split_feature = np.zeros((n, longest), dtype=np.intp)
        threshold = np.full((n, longest), np.inf, dtype=np.float32)  # padding: always left
        goes_left = np.ones((n, longest), dtype=bool)
        missing_left = np.ones((n, longest), dtype=bool)
        bit = np.zeros((n, longest), dtype=np.intp)
        cover_share = np.ones((n, depth))
        values = np.empty(n)
        for leaf, (value, splits) in enumerate(paths):
            values[leaf] = value
            place: dict[int, int] = {}
            for s, (feature, split_at, left, default_left, share) in enumerate(splits):
                j = place.setdefault(feature, len(place))
                features[leaf, j] = feature
                cover_share[leaf, j] *= share
                split_feature[leaf, s], threshold[leaf, s] = feature, split_at
                goes_left[leaf, s], missing_left[leaf, s] = left, default_left
                bit[leaf, s] = 1 << j
        step = max(1, _TABLE_CELLS_PER_PASS // (2 ** depth * max(1, depth) ** 2))
        table = np.concatenate([_tables(values[k:k + step], cover_share[k:k + step])
                                for k in range(0, n, step)]
                               ) if n else np.zeros((0, 2 ** depth, depth))
        return cls(width, features, split_feature, threshold, goes_left,
                   missing_left == goes_left,
                   bit.astype(np.min_scalar_type(max(2 ** depth - 1, 1))), table)

    @cached_property
    def _spread(self) -> sparse.csr_array:
        """The tables flattened as a sparse (leaves x patterns) x width matrix, the padding's
        column dropped: how a batch sums its picked entries (built on a first batch)."""
        leaves, patterns, depth = self.table.shape
        rows = np.repeat(np.arange(leaves * patterns), depth)
        columns = np.broadcast_to(self.features[:, None, :], self.table.shape).ravel()
        kept = columns < self.width
        return sparse.csr_array((self.table.ravel()[kept], (rows[kept], columns[kept])),
                                shape=(leaves * patterns, self.width))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """The TreeSHAP contributions of rows ``X`` (patients x ``width``, NaN = missing), in
        the trees' margin (positive: raises it), without the bias term: patients x width."""
        X = np.asarray(X)
        step = max(1, _CELLS_PER_PASS // max(1, self.split_feature.size))
        if len(X) <= step:
            return self._contributions(X)
        return np.concatenate([self._contributions(X[start:start + step])
                               for start in range(0, len(X), step)])

    def _contributions(self, X: np.ndarray) -> np.ndarray:
        n = len(X)
        leaves, patterns, depth = self.table.shape
        if not depth or not n:  # stumps only: no feature contributes
            return np.zeros((n, self.width))
        bit = self.bit
        with np.errstate(over="ignore"):  # beyond float32's range: infinite, as in xgboost
            value = X.astype(np.float32)[:, self.split_feature]  # xgboost compares in float32
        follows = np.where(np.isnan(value), self.missing_follows,
                           (value < self.threshold) == self.goes_left)
        missed = np.bitwise_or.reduce(np.where(follows, bit.dtype.type(0), bit), axis=2)
        # each leaf's row in the flattened tables: n x leaves
        row = np.arange(0, leaves * patterns, patterns) + (bit.dtype.type(patterns - 1) & ~missed)
        if n == 1:  # one patient (an API request): its leaves' entries summed per feature
            entries = self.table.reshape(leaves * patterns, depth)[row[0]]
            total = np.bincount(self.features.ravel(), entries.ravel(),
                                minlength=self.width + 1)
            return total[None, :self.width]
        # several: each patient's one entry per leaf picked and summed by one sparse product
        picked = sparse.csr_array((np.ones(row.size), row.ravel(),
                                   np.arange(0, row.size + 1, leaves)),
                                  shape=(n, leaves * patterns))
        return (picked @ self._spread).toarray()


def _leaf_paths(tree: dict) -> list[tuple[float, list[tuple[int, float, bool, bool, float]]]]:
    """Per leaf of ``tree`` (xgboost JSON): its value, and its path's splits from the root,
    each as (input, threshold, the path goes left, missing values go left, the share of the
    split's cover that follows the path)."""
    left, right = tree["left_children"], tree["right_children"]
    if any(tree.get("split_type", ())):
        raise ValueError("TreeSHAP tables support numerical splits only, not categorical")
    split, condition = tree["split_indices"], tree["split_conditions"]
    default_left, cover = tree["default_left"], tree["sum_hessian"]
    out = []
    stack = [(0, [])]
    while stack:
        node, path = stack.pop()
        if left[node] == LEAF:
            out.append((float(condition[node]), path))
            continue
        for child, goes_left in ((right[node], False), (left[node], True)):
            # a node no training weight reached has no share: NaN, as xgboost gives
            share = cover[child] / cover[node] if cover[node] else float("nan")
            stack.append((child, [*path, (int(split[node]), condition[node], goes_left,
                                          bool(default_left[node]), share)]))
    return out


def _tables(values: np.ndarray, cover_share: np.ndarray) -> np.ndarray:
    """``table[leaf, pattern, i]``: ``v (o_i - z_i) sum_{S subset of the pattern, i not in S}
    w(|S|, d) prod_{k not in S, k != i} z_k`` for leaf values ``values`` and cover shares
    ``z = cover_share`` (leaves x d; the module's formula, with ``prod_{k in S} o_k`` being 1
    exactly when S lies within the pattern)."""
    depth = cover_share.shape[1]
    subsets = np.arange(2 ** depth)
    member = (subsets[:, None] >> np.arange(depth)) & 1  # subset x k: k in the subset
    size = member.sum(axis=1)
    weight = np.array([factorial(s) * factorial(depth - s - 1) / factorial(depth)
                       if s < depth else 0.0 for s in size])
    # kept[S, i, k]: z_k enters the product for feature i and subset S (k outside S and not i)
    kept = (member[:, None, :] == 0) & ~np.eye(depth, dtype=bool)[None, :, :]
    products = np.where(kept[None], cover_share[:, None, None, :], 1.0).prod(axis=3)
    # within[P, S, i]: S lies within pattern P and leaves out i
    within = ((subsets[None, :] & ~subsets[:, None]) == 0)[:, :, None] & (member[None] == 0)
    sums = np.einsum("psi,lsi->lpi", within * weight[None, :, None], products)
    follows = member.astype(float)  # pattern x i: o_i
    return values[:, None, None] * (follows[None] - cover_share[:, None, :]) * sums
