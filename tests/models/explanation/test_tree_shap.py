"""TreeSHAP as per-leaf tables (models/explanation/tree_shap.py) against xgboost's own
``pred_contribs``, the reference it replaces on the scoring path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb

from models.explanation import tree_shap
from models.explanation.tree_shap import PathTables

#: xgboost computes TreeSHAP in float32; the tables in float64.
FLOAT32_GAP = 1e-5


def _booster(depth: int, objective: str, seed: int, rounds: int = 40,
             extra: dict | None = None) -> tuple[xgb.Booster, np.ndarray]:
    """A booster of ``depth`` on five inputs (few, so a path splits on one input more than
    once), and rows with missing values in every input."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 5))
    X[rng.random(X.shape) < 0.15] = np.nan
    signal = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) ** 2 + 0.5 * np.nan_to_num(
        X[:, 2] * X[:, 3])
    if objective == "survival:cox":
        time = rng.exponential(np.exp(-signal)) + 0.01
        label = np.where(rng.random(400) < 0.7, time, -time)  # negative: censored
    elif objective == "binary:logistic":
        label = (signal + rng.normal(size=400) > 0).astype(float)
    else:
        label = signal + rng.normal(size=400)
    params = {"max_depth": depth, "eta": 0.3, "objective": objective, "seed": seed,
              **(extra or {})}
    return xgb.train(params, xgb.DMatrix(X, label=label, missing=np.nan), rounds), X


def _trees(booster: xgb.Booster) -> list[dict]:
    return json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]


def _reference(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """xgboost's TreeSHAP without its bias column."""
    return booster.predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True)[:, :-1]


@pytest.mark.parametrize("objective", ["survival:cox", "binary:logistic", "reg:squarederror"])
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_tables_give_xgboost_s_treeshap(depth: int, objective: str) -> None:
    """Every contribution of every row, missing values included, equals xgboost's."""
    booster, X = _booster(depth, objective, seed=depth)
    tables = PathTables.of_trees(_trees(booster), X.shape[1])
    ours = tables.contributions(X)
    reference = _reference(booster, X)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() < FLOAT32_GAP * max(1.0, np.abs(reference).max())
    # one row alone, as an API request sends it (summed another way), as within a batch
    assert np.abs(tables.contributions(X[7:8]) - ours[7:8]).max() < 1e-12


def test_a_path_splitting_twice_on_one_input_and_all_missing_rows() -> None:
    """Paths that split on the same input again (one input only) and rows of unknowns, whose
    every split takes its default branch."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 1))
    booster = xgb.train({"max_depth": 4, "eta": 0.5}, xgb.DMatrix(x, label=np.sin(3 * x[:, 0])),
                        20)
    assert any(len(t["left_children"]) >= 5 for t in _trees(booster))  # two splits deep
    rows = np.vstack([x[:50], np.full((3, 1), np.nan)])
    ours = PathTables.of_trees(_trees(booster), 1).contributions(rows)
    assert np.abs(ours - _reference(booster, rows)).max() < FLOAT32_GAP


def test_a_large_batch_is_taken_in_passes_with_the_same_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the cells of one pass, rows go in several passes (bounded memory), unchanged."""
    booster, X = _booster(3, "survival:cox", seed=11)
    tables = PathTables.of_trees(_trees(booster), X.shape[1])
    whole = tables.contributions(X)
    monkeypatch.setattr(tree_shap, "_CELLS_PER_PASS", tables.split_feature.size * 7)
    passes = []
    one_pass = PathTables._contributions
    monkeypatch.setattr(PathTables, "_contributions",
                        lambda self, rows: passes.append(len(rows)) or one_pass(self, rows))
    assert np.array_equal(tables.contributions(X), whole)
    assert passes == [7] * (len(X) // 7) + [len(X) % 7] * bool(len(X) % 7)


def test_values_beyond_float32_take_the_branch_of_large_ones_silently() -> None:
    """xgboost compares in float32: a value beyond its range is infinite there; explained as
    a large value is (xgboost's matrix refuses infinities, so the reference row holds 1e30),
    with no warning."""
    booster, X = _booster(3, "survival:cox", seed=4)
    tables = PathTables.of_trees(_trees(booster), X.shape[1])
    huge, large = X[:20].copy(), X[:20].copy()
    huge[:, 0], large[:, 0] = 1e300, 1e30
    huge[:, 1], large[:, 1] = -np.inf, -1e30
    assert np.abs(tables.contributions(huge) - _reference(booster, large)).max() < FLOAT32_GAP


def test_a_node_without_cover_gives_nan_as_xgboost_does() -> None:
    """A split whose node no training weight reached has no cover share: NaN contributions,
    as xgboost's (never a silent number; the stack's load check refuses NaN)."""
    booster, X = _booster(2, "reg:squarederror", seed=8, rounds=3)
    model = json.loads(booster.save_raw("json"))
    tree = model["learner"]["gradient_booster"]["model"]["trees"][0]
    tree["sum_hessian"] = [0.0] * len(tree["sum_hessian"])
    broken = xgb.Booster()
    broken.load_model(bytearray(json.dumps(model).encode()))
    rows = np.full((2, X.shape[1]), np.nan)
    reference = _reference(broken, rows)
    assert np.isnan(reference).any()
    ours = PathTables.of_trees(_trees(broken), X.shape[1]).contributions(rows)
    assert np.array_equal(np.isnan(ours), np.isnan(reference))


def test_trees_of_one_leaf_contribute_nothing() -> None:
    """A booster whose trees never split (no gain is worth its ``gamma``) explains nothing."""
    booster, X = _booster(2, "reg:squarederror", seed=5, rounds=5, extra={"gamma": 1e9})
    tables = PathTables.of_trees(_trees(booster), X.shape[1])
    assert np.array_equal(tables.contributions(X), np.zeros(X.shape))
    assert np.array_equal(_reference(booster, X), np.zeros(X.shape))


@pytest.mark.parametrize("bound", ["MAX_TABLE_ENTRIES", "MAX_PATH_FEATURES"])
def test_tables_above_their_bounds_are_refused(bound: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables and their compilation grow as 2^d per leaf: a model too deep for them is
    refused by name, not swapped for another method."""
    booster, X = _booster(5, "survival:cox", seed=2)
    tables = PathTables.of_trees(_trees(booster), X.shape[1])
    monkeypatch.setattr(tree_shap, bound, tables.table.size - 1 if bound == "MAX_TABLE_ENTRIES"
                        else tables.table.shape[2] - 1)
    with pytest.raises(ValueError, match="train shallower trees"):
        PathTables.of_trees(_trees(booster), X.shape[1])


def test_categorical_splits_are_refused() -> None:
    """Categorical splits follow other rules than a threshold: refused, not mis-explained."""
    tree = {"left_children": [1, -1, -1], "right_children": [2, -1, -1],
            "split_indices": [0, 0, 0], "split_conditions": [0.5, 0.1, -0.1],
            "default_left": [1, 0, 0], "sum_hessian": [10.0, 4.0, 6.0],
            "split_type": [1, 0, 0]}
    with pytest.raises(ValueError, match="categorical"):
        PathTables.of_trees([tree], 1)
