"""Every feature a design can hold is explained under a group people understand: none falls
into a catch-all, and an unknown name is an error naming it."""

from __future__ import annotations

import pytest

from features.cohorts.sources import load_cohort
from features.design import build_design
from features.labels import labels_for_task
from features.pipeline import feature_group


@pytest.mark.parametrize(("source", "task"), [
    ("synthetic", "relapse"), ("synthetic", "progression"),
    ("synthetic", "resistance_endocrine"), ("gbsg2", "relapse")])
def test_every_design_feature_has_a_named_group(source: str, task: str) -> None:
    cohort, _ = load_cohort(source)
    X = build_design(cohort, labels_for_task(cohort, task).time_origin)
    groups = {name: feature_group(name) for name in X.columns}
    assert "other" not in groups.values()
    assert groups["clin__t_category"] == groups["clin__tumor_size_mm"] == "tumour size"
    assert groups["clin__n_category"] == groups["clin__positive_nodes"] == "lymph nodes"


def test_an_unknown_feature_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'clin__mystery' has no group"):
        feature_group("clin__mystery")
