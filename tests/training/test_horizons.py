"""Horizons within the follow-up: the task's own by default, a horizon past which fewer than
10% of the patients are observed dropped (and said), none left refused."""

from __future__ import annotations

import numpy as np
import pytest

from training.horizons import MIN_OBSERVED_SHARE, TASK_HORIZONS, choose_horizons


def test_progression_on_a_line_answers_at_its_own_horizons_within_the_follow_up() -> None:
    rng = np.random.default_rng(0)
    time = rng.exponential(7.0, 2000)  # a median near 5 months on the line
    choice = choose_horizons("progression", (), time)
    observed = {h: (time > h).mean() for h in TASK_HORIZONS["progression"]}
    assert choice.served == tuple(h for h, share in observed.items()
                                  if share >= MIN_OBSERVED_SHARE)
    assert 24.0 in choice.dropped
    assert choice.dropped[24.0] == pytest.approx(observed[24.0])
    assert "dropped beyond the follow-up" in choice.describe()


def test_relapse_keeps_every_horizon_of_a_long_follow_up() -> None:
    time = np.linspace(1.0, 200.0, 500)
    choice = choose_horizons("relapse", (), time)
    assert choice.served == TASK_HORIZONS["relapse"]
    assert choice.dropped == {}


def test_configured_horizons_are_checked_the_same_and_none_left_is_refused() -> None:
    time = np.full(100, 5.0)
    assert choose_horizons("relapse", (3, 60), time).served == (3.0,)
    with pytest.raises(ValueError, match="follow-up is too short"):
        choose_horizons("relapse", (), time)
