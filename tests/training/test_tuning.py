"""The nested tuning never lets an outer test fold into candidate selection."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.cohorts import load_cohort
from features.design import build_design
from features.labels import relapse_labels
from training import tuning


def test_inner_selection_never_sees_outer_test_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    calls: list[tuple[frozenset, frozenset]] = []
    real = tuning._fit_score

    def recording(kind, params, X_, labels_, train, test, random_state):  # noqa: ANN001, ANN202
        calls.append((frozenset(train.tolist()), frozenset(test.tolist())))
        return real(kind, {**params, "n_estimators": 5}, X_, labels_, train, test, random_state)

    monkeypatch.setattr(tuning, "_fit_score", recording)
    monkeypatch.setitem(tuning.GRIDS, "survival", {"max_depth": (1, 2),
                                                    "blend_weight": (0.0, 0.5)})
    result = tuning.nested_tuning(X, labels, outer_splits=2, inner_splits=2,
                                  n_jobs=1)  # the spy's list lives in this process
    assert len(result.folds) == 2
    per_outer = 2 * 4 + 1  # inner folds x candidates, then the outer refit
    outer_calls = [calls[per_outer * k + per_outer - 1] for k in range(2)]
    for k, (outer_train, outer_test) in enumerate(outer_calls):
        assert not outer_train & outer_test
        for train, test in calls[per_outer * k: per_outer * k + per_outer - 1]:
            assert train | test <= outer_train  # inner CV lives inside the outer training set
    assert set(result.folds["max_depth"]) <= {1, 2}
    assert set(result.folds["blend_weight"]) <= {0.0, 0.5}
    assert np.isfinite(result.folds["outer_score"]).all()


def test_inner_fits_in_parallel_choose_the_same_candidates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes change the speed, never the choice, the scores or the step count."""
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    X = build_design(cohort, labels.time_origin)
    monkeypatch.setitem(tuning.GRIDS, "survival", {"n_estimators": (10,),
                                                    "max_depth": (1, 3),
                                                    "min_child_weight": (10.0, 30.0)})
    results, steps = [], []
    for jobs in (1, 2):
        count = [0]
        results.append(tuning.nested_tuning(
            X, labels, outer_splits=2, inner_splits=2, n_jobs=jobs,
            on_step=lambda count=count: count.__setitem__(0, count[0] + 1)))
        steps.append(count[0])
    pd.testing.assert_frame_equal(results[0].folds, results[1].folds, check_exact=True)
    assert results[0].choice_counts == results[1].choice_counts
    assert steps == [2 * 2 * 4, 2 * 2 * 4]  # outer x inner x candidates


@pytest.mark.parametrize("jobs", [0, -2, True, 1.5])
def test_an_unusable_number_of_workers_is_a_clear_error(jobs: object) -> None:
    with pytest.raises(ValueError, match="n_jobs: .* not a number of workers"):
        tuning.nested_tuning(pd.DataFrame(), None, n_jobs=jobs)  # type: ignore[arg-type]


def test_tune_names_an_unusable_jobs_option(capsys: pytest.CaptureFixture[str]) -> None:
    from cli import main

    assert main(["tune", "--cohort", "gbsg2", "--jobs", "0"]) == 2
    assert "--jobs: 0 is not a number of workers" in capsys.readouterr().err


def test_tune_json_is_strict_json_with_the_whole_follow_up_as_inf(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """GBSG2's follow-up ends before 120 months: both horizons are the same model, and the
    tie keeps the whole follow-up (listed first), written "inf" in strict JSON."""
    import json

    from cli import main

    monkeypatch.setitem(tuning.GRIDS, "survival", {"n_estimators": (5,),
                                                    "fit_until_months": (math.inf, 120.0)})
    assert main(["tune", "--cohort", "gbsg2", "--outer", "2", "--inner", "2", "--json"]) == 0

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    result = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert [row["fit_until_months"] for row in result["folds"]] == ["inf", "inf"]
    assert result["most_chosen"]["fit_until_months"] == "inf"

