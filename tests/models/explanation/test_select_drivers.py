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
