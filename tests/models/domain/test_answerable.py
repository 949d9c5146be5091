"""The minimum-data and label-scope rules on hand-made rows: a need is met by any one of its
alternatives, only through inputs the model learned from; an unknown scope input is missing
data, a known one outside the scope is a reason; what is missing is said first."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.answerable import AnswerRules, answer_rules, judge

NAN = np.nan
COLUMNS = ["clin__er_positive", "clin__her2_positive", "clin__stage", "clin__t_category",
           "clin__n_category", "clin__tumor_size_mm", "clin__positive_nodes",
           "clin__current_endocrine", "clin__current_anti_her2", "clin__current_chemotherapy"]
ALL = set(COLUMNS)


def _row(**known: float) -> list[float]:
    return [known.get(c.removeprefix("clin__"), NAN) for c in COLUMNS]


def test_relapse_needs_receptors_and_one_route_to_the_stage() -> None:
    rows = np.array([
        _row(),
        _row(er_positive=1, her2_positive=0, stage=2),
        _row(er_positive=1, her2_positive=0, t_category=2, n_category=1),
        _row(er_positive=1, her2_positive=0, tumor_size_mm=25),
        _row(er_positive=0, her2_positive=1, tumor_size_mm=25, positive_nodes=0),
    ])
    verdict = judge(answer_rules("relapse", True, ALL), rows, COLUMNS)
    assert verdict.missing[0][:2] == ["er_status", "her2_status"]
    assert verdict.missing[0][2].startswith("stage")
    assert [verdict.answers(i) for i in range(5)] == [False, True, True, False, True]
    assert verdict.not_applicable == [None] * 5  # relapse describes every early patient


def test_a_need_is_met_only_through_what_the_model_learned() -> None:
    learned = ALL - {"clin__stage", "clin__tumor_size_mm", "clin__positive_nodes"}
    rows = np.array([_row(er_positive=1, her2_positive=0, stage=2),
                     _row(er_positive=1, her2_positive=0, t_category=1, n_category=0)])
    verdict = judge(answer_rules("relapse", True, learned), rows, COLUMNS)
    assert [verdict.answers(i) for i in range(2)] == [False, True]
    no_receptors = judge(answer_rules("relapse", True, ALL - {"clin__her2_positive"}),
                         np.array([_row(er_positive=1, stage=1)]), COLUMNS)
    assert no_receptors.answers(0)  # a model that never learned HER2 does not ask for it


def test_endocrine_resistance_describes_er_positive_endocrine_lines_only() -> None:
    rows = np.array([
        _row(er_positive=1, current_endocrine=1, current_anti_her2=0, current_chemotherapy=0),
        _row(er_positive=0, current_endocrine=0, current_anti_her2=1, current_chemotherapy=0),
        _row(er_positive=1, current_endocrine=0, current_anti_her2=0, current_chemotherapy=1),
        _row(current_endocrine=1, current_anti_her2=0, current_chemotherapy=0),
        _row(er_positive=0),
    ])
    verdict = judge(answer_rules("resistance_endocrine", False, ALL), rows, COLUMNS)
    assert verdict.answers(0)
    assert verdict.not_applicable[1].startswith("ER-negative")
    assert "not an endocrine-based line" in verdict.not_applicable[2]
    assert verdict.missing[3] == ["er_status"]
    assert verdict.missing[4] == ["current_therapy"]  # missing first, before the ER reason
    assert verdict.not_applicable[4] is None


def test_the_proxy_at_diagnosis_asks_only_for_er() -> None:
    rows = np.array([_row(er_positive=1), _row(er_positive=0), _row()])
    verdict = judge(answer_rules("resistance_endocrine", True, ALL), rows, COLUMNS)
    assert verdict.answers(0)
    assert verdict.not_applicable[1].startswith("ER-negative")
    assert verdict.missing[2] == ["er_status"]


def _by_hand(rules: AnswerRules, row: dict[str, float]) -> tuple[list[str], str | None]:
    """The rules written out for one row (column -> value, absent = not a column): missing
    fields in need order, then the unknown scopes' fields; the first scope outside."""
    known = {c for c, v in row.items() if not np.isnan(v)}
    missing: list[str] = []
    for need in rules.needs:
        usable = [alt for alt in need.alternatives if set(alt) <= set(row)]
        if usable and not any(set(alt) <= known for alt in usable):
            missing.append(need.field)
    reason = None
    for scope in rules.scopes:
        if scope.feature not in row:
            continue
        if scope.feature not in known:
            if scope.field not in missing:
                missing.append(scope.field)
        elif row[scope.feature] < 0.5 and reason is None:
            reason = scope.reason
    return missing, None if missing else reason


TASKS = [("relapse", True), ("progression", False), ("resistance_endocrine", True),
         ("resistance_endocrine", False), ("resistance_anti_her2", False),
         ("resistance_cdk46", False)]


#: The columns the property test draws from: a line's CDK4/6 inhibitor too.
DRAWN = [*COLUMNS, "clin__with_cdk46_inhibitor"]


@settings(max_examples=300, deadline=None, database=None)
@given(task=st.sampled_from(TASKS), learned=st.sets(st.sampled_from(DRAWN)),
       columns=st.lists(st.sampled_from(DRAWN), unique=True),
       values=st.lists(st.lists(st.sampled_from([NAN, 0.0, 1.0, 2.0]), min_size=len(DRAWN),
                                max_size=len(DRAWN)), min_size=1, max_size=5))
def test_the_verdict_equals_the_rules_row_by_row(task: tuple[str, bool], learned: set[str],
                                                  columns: list[str],
                                                  values: list[list[float]]) -> None:
    """Judged on any columns (a need whose alternatives the columns lack is not asked for),
    for rules of any learned inputs (which may differ from the columns)."""
    rules = answer_rules(task[0], task[1], learned)
    rows = np.array([v[:len(columns)] for v in values]).reshape(len(values), len(columns))
    verdict = judge(rules, rows, columns)
    for i, row in enumerate(rows):
        missing, reason = _by_hand(rules, dict(zip(columns, row, strict=True)))
        assert verdict.missing[i] == missing
        assert verdict.not_applicable[i] == reason
