"""The line rules on treatment histories of our own making: each rule, and its count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.cohorts.treatments.drugs import UNKNOWN_AGENT, load_drug_dictionary
from features.cohorts.treatments.lines import (
    ONSET_FROM_PROGRESSION,
    UNDATED_AGENTS,
    LineRules,
    derive_lines,
)
from features.cohorts.units import DAYS_PER_MONTH


def agents(*rows: tuple[str, float, float | None]) -> pd.DataFrame:
    """Agent rows of patient P1: (name, start day, stop day or None)."""
    dictionary = load_drug_dictionary()
    out = []
    for name, start, stop in rows:
        drug = dictionary.lookup(name)
        out.append({"patient_id": "P1", "agent": drug.agent, "agent_class": drug.agent_class,
                    "therapy_class": drug.therapy_class, "start_months": start / DAYS_PER_MONTH,
                    "stop_months": np.nan if stop is None else stop / DAYS_PER_MONTH})
    return pd.DataFrame(out)


def lines_of(frame: pd.DataFrame, onset_day: float | None = 0.0,
             progression_days: tuple[float, ...] = (), rules: LineRules | None = None):
    onset = pd.Series({"P1": np.nan if onset_day is None else onset_day / DAYS_PER_MONTH})
    progression = pd.DataFrame({"patient_id": "P1",
                                "months": np.array(progression_days) / DAYS_PER_MONTH})
    return derive_lines(frame, onset, progression, rules or LineRules())


def test_a_partner_started_with_a_cdk46_inhibitor_is_one_line() -> None:
    lines, counts = lines_of(agents(("letrozole", 0, None), ("palbociclib", 10, None)))
    assert lines[["line", "therapy_class", "agent"]].values.tolist() == [
        [1, "endocrine_cdk46", "LETROZOLE+PALBOCICLIB"]]
    assert counts.rules["same line: started within the regimen window"] == 1


def test_fulvestrant_after_progression_on_an_aromatase_inhibitor_is_a_new_line() -> None:
    lines, counts = lines_of(agents(("letrozole", 0, 300), ("fulvestrant", 310, None)),
                             progression_days=(300,))
    assert lines["agent"].tolist() == ["LETROZOLE", "FULVESTRANT"]
    assert lines["progression_months"].iloc[0] == pytest.approx(300 / DAYS_PER_MONTH)
    assert lines["stop_months"].iloc[0] == pytest.approx(310 / DAYS_PER_MONTH)
    assert np.isnan(lines["progression_months"].iloc[1])


def test_switching_aromatase_inhibitors_or_adding_ovarian_suppression_keeps_the_line() -> None:
    lines, counts = lines_of(agents(("letrozole", 0, 90), ("anastrozole", 95, None),
                                    ("goserelin", 200, None)))
    assert len(lines) == 1
    assert counts.rules["same line: substitution within a class"] == 1
    assert counts.rules["same line: ovarian suppression added"] == 1


def test_progression_while_the_regimen_continues_dates_the_line_without_ending_it() -> None:
    lines, _ = lines_of(agents(("letrozole", 0, None), ("palbociclib", 0, None)),
                        progression_days=(200, 400))
    assert len(lines) == 1
    assert lines["progression_months"].iloc[0] == pytest.approx(200 / DAYS_PER_MONTH)
    assert pd.isna(lines["stop_months"].iloc[0])  # the last line: followed to last contact


def test_a_gap_without_therapy_ends_a_line_and_the_gap_is_a_setting() -> None:
    history = agents(("capecitabine", 0, 100), ("capecitabine", 300, None))
    lines, counts = lines_of(history)
    assert len(lines) == 2
    assert counts.rules["new line: gap without therapy"] == 1
    lines, _ = lines_of(history, rules=LineRules(gap_days=365))
    assert len(lines) == 1


def test_an_agent_added_later_starts_a_line() -> None:
    lines, counts = lines_of(agents(("paclitaxel", 0, None), ("pembrolizumab", 60, None)))
    assert lines["line"].tolist() == [1, 2]
    assert counts.rules["new line: agent added or regimen replaced"] == 1


def test_therapy_before_the_metastatic_onset_is_line_zero_by_class() -> None:
    history = agents(("doxorubicin", 0, 90), ("cyclophosphamide", 0, 90),
                     ("trastuzumab", 0, 365), ("letrozole", 100, 1000),
                     ("trastuzumab deruxtecan", 1100, None))
    lines, counts = lines_of(history, onset_day=1080)
    assert lines[["line", "setting", "therapy_class"]].values.tolist() == [
        [0, "adjuvant", "anti_her2"], [0, "adjuvant", "chemotherapy"],
        [0, "adjuvant", "endocrine"], [1, "metastatic", "anti_her2"]]
    assert counts.rules["early-setting agents grouped into line 0"] == 4


def test_settings_refuse_what_is_not_a_number_of_days() -> None:
    with pytest.raises(ValueError, match="gap_days"):
        LineRules(gap_days=-1)
    with pytest.raises(ValueError, match="regimen_window_days"):
        LineRules(regimen_window_days=True)


def test_without_a_dated_onset_the_line_running_at_the_first_progression_is_metastatic() -> None:
    lines, counts = lines_of(agents(("letrozole", 900, 1320), ("palbociclib", 900, 1320),
                                    ("fulvestrant", 1330, None)),
                             onset_day=None, progression_days=(1320,))
    assert lines[["line", "setting", "agent"]].values.tolist() == [
        [1, "metastatic", "LETROZOLE+PALBOCICLIB"], [2, "metastatic", "FULVESTRANT"]]
    assert lines["progression_months"].iloc[0] == pytest.approx(1320 / DAYS_PER_MONTH)
    assert counts.rules[ONSET_FROM_PROGRESSION] == 1


def test_an_agent_the_dictionary_does_not_know_never_starts_a_line() -> None:
    history = agents(("letrozole", 0, None))
    unknown = pd.DataFrame([{"patient_id": "P1", "agent": "zoledronic acid",
                             "agent_class": UNKNOWN_AGENT, "therapy_class": "other",
                             "start_months": 90 / DAYS_PER_MONTH, "stop_months": np.nan}])
    lines, counts = lines_of(pd.concat([history, unknown], ignore_index=True))
    assert len(lines) == 1
    assert counts.rules["same line: agent unknown to the dictionary (cannot start a line)"] == 1


def test_agent_rows_without_a_start_are_counted() -> None:
    history = agents(("letrozole", 0, None), ("fulvestrant", 0, None))
    history.loc[1, "start_months"] = np.nan
    lines, counts = lines_of(history)
    assert len(lines) == 1
    assert counts.rules[UNDATED_AGENTS] == 1


def test_salt_names_doses_and_brackets_do_not_hide_an_agent() -> None:
    dictionary = load_drug_dictionary()
    for name, agent in (("Goserelin Acetate", "goserelin"), ("Palbociclib 125mg", "palbociclib"),
                        ("Anastrozole (Arimidex)", "anastrozole")):
        assert dictionary.lookup(name).agent == agent
