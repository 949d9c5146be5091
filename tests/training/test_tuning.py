"""The nested tuning never lets an outer test fold into candidate selection."""

from __future__ import annotations

import numpy as np
import pytest

from features import load_cohort
from features.design import build_design
from features.labels import relapse_labels
from training import tuning


def test_inner_selection_never_sees_outer_test_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    calls: list[tuple[bool, frozenset, frozenset]] = []
    real = tuning._fit_predict

    def recording(kind, params, X_, labels_, train, test, random_state):  # noqa: ANN001, ANN202
        calls.append((params is None, frozenset(train.tolist()), frozenset(test.tolist())))
        quick = None if params is None else {**params, "n_estimators": 5}
        return real(kind, quick, X_, labels_, train, test, random_state)

    monkeypatch.setattr(tuning, "_fit_predict", recording)
    monkeypatch.setitem(tuning.GRIDS, "survival", {"max_depth": (1, 2)})
    result = tuning.nested_tuning(X, labels, outer_splits=2, inner_splits=2)
    assert len(result.folds) == 2
    outer_trains = [train for _, train, test in calls
                    if len(train) + len(test) == len(labels.y)]
    outer_tests = [test for _, train, test in calls if len(train) + len(test) == len(labels.y)]
    assert len(set(outer_trains)) == 2
    for _, train, test in calls:
        owner = next(k for k, outer in enumerate(outer_trains) if train <= outer)
        assert not train & outer_tests[owner]  # nothing fitted on an outer test row
        if len(train) + len(test) < len(labels.y):
            assert train | test <= outer_trains[owner]  # inner CV inside the outer training set
    # every inner fold fits the blend's baseline once and each candidate once
    inner = [c for c in calls if len(c[1]) + len(c[2]) < len(labels.y)]
    assert sum(baseline for baseline, _, _ in inner) == 2 * 2
    assert len(inner) == 2 * 2 * (2 + 1)
    assert set(result.folds["max_depth"]) <= {1, 2}
    assert set(result.folds["blend_weight"]) <= set(tuning.BLEND_WEIGHTS["survival"])
    assert np.isfinite(result.folds["outer_score"]).all()
    assert np.isfinite(result.folds["blend_outer_score"]).all()
    # the defaults come from the boosted model alone
    assert set(result.most_chosen) == {"max_depth"}


def test_a_blend_weight_of_0_is_the_boosted_risk_and_1_would_be_the_baseline() -> None:
    boosted, baseline = (np.array([1.0, 2.0, 4.0]), 2.0), (np.array([3.0, 0.0, 3.0]), 3.0)
    np.testing.assert_array_equal(tuning._blend(boosted, baseline, 0.0), boosted[0])
    np.testing.assert_allclose(tuning._blend(boosted, baseline, 0.5),
                               [0.75, 0.5, 1.5])
    np.testing.assert_allclose(tuning._blend(boosted, baseline, 1.0), [1.0, 0.0, 1.0])
    # a model whose training predictions are constant has no scale: that blend is skipped
    assert tuning._blend((boosted[0], 0.0), baseline, 0.5) is None
    assert tuning._blend_score("survival", None, np.arange(3), None) == -np.inf
