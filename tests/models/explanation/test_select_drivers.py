"""Driver selection, vectorised over patients, equals the rule written out patient by patient."""

from __future__ import annotations

import numpy as np
import pytest

from models.explanation.explain import Explanation, select_drivers


def _by_hand(explanation: Explanation, row: int, k: int) -> list[tuple[int, float, int]]:
    """(group, summed own contribution, leading feature) of the ``k`` drivers of ``row``:
    groups by |sum of the patient's own contributions|, largest first, ties in group order;
    the leader is the own feature of largest |contribution|, first in feature order."""
    names = explanation.group_names
    own = [j for j in range(len(explanation.features))
           if explanation.averaged is None or not explanation.averaged[row, j]]
    members: dict[int, list[int]] = {}
    for j in own:
        members.setdefault(names.index(explanation.groups[explanation.features[j]]), []).append(j)
    total = {g: sum(explanation.contribution_matrix[row, j] for j in js)
             for g, js in members.items()}
    ranked = sorted(members, key=lambda g: (-abs(total[g]), g))[:k]
    return [(g, total[g], max(members[g], key=lambda j: (
        abs(explanation.contribution_matrix[row, j]), -j))) for g in ranked]


@pytest.mark.parametrize("seed", range(40))
def test_drivers_equal_the_rule_patient_by_patient(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_features, n_patients, k = int(rng.integers(3, 25)), int(rng.integers(1, 6)), 5
    features = [f"f{j}" for j in range(n_features)]
    groups = {f: f"g{rng.integers(0, max(1, n_features // 3))}" for f in features}
    # rounded, so that ties between groups and between features happen
    contributions = rng.normal(size=(n_patients, n_features)).round(int(rng.integers(0, 3)))
    averaged = rng.uniform(size=contributions.shape) < 0.3 if seed % 2 else None
    explanation = Explanation(contributions, np.zeros(n_patients), contributions, features,
                              groups, "", None, None, averaged)
    rows = rng.permutation(n_patients)
    order, values, lead = select_drivers(explanation, rows, k)
    for i, row in enumerate(rows):
        expected = _by_hand(explanation, int(row), k)
        shown = order[i] >= 0
        assert shown.sum() == len(expected)
        assert [int(g) for g in order[i][shown]] == [g for g, _, _ in expected]
        assert values[i][shown] == pytest.approx([v for _, v, _ in expected], abs=1e-12)
        assert [int(j) for j in lead[i][shown]] == [j for _, _, j in expected]


def test_a_nan_contribution_never_leads_and_breaks_nothing() -> None:
    """A NaN contribution (xgboost never gives one) leaves its group's sum NaN and the group's
    leader among its other features; a group of NaN alone still has a leader."""
    contributions = np.array([[np.nan, 1.0, np.nan]])
    explanation = Explanation(contributions, np.zeros(1), contributions, ["a1", "a2", "b1"],
                              {"a1": "a", "a2": "a", "b1": "b"}, "", None, None, None)
    order, values, lead = select_drivers(explanation, np.array([0]), 5)
    assert sorted(int(g) for g in order[0]) == [0, 1]
    assert dict(zip(order[0].tolist(), lead[0].tolist(), strict=True)) == {0: 1, 1: 2}
    assert np.isnan(values[0]).all()
