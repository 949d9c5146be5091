"""Endpoint labels with counted exclusions, and the design's time-origin and panel rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.cohorts import build_cohort, load_cbioportal_study, load_cohort
from features.cohorts.schema import TABLES
from features.cohorts.synthetic import build_synthetic_cohort
from features.design import build_design
from features.labels import (
    TaskNotApplicable,
    labels_for_task,
    progression_labels,
    relapse_labels,
    resistance_labels,
    task_population,
)


def _counts(labels) -> dict[str, int]:
    return {e.reason: e.count for e in labels.exclusions}


def _tiny_cohort() -> object:
    """Three HR+ patients with dated first-line endocrine therapy, and one untreated."""
    patients = pd.DataFrame({
        "patient_id": ["A", "B", "C", "D"], "age_years": [50.0, 60, 70, 55],
        "er_status": ["positive"] * 4, "her2_status": ["negative"] * 4,
        "de_novo_metastatic": [False] * 4, "metastatic_sites": ["liver", "bone", "bone", None],
    }).set_index("patient_id")
    samples = pd.DataFrame({
        "sample_id": ["A-P", "A-M", "B-P", "C-M", "D-P"],
        "patient_id": ["A", "A", "B", "C", "D"],
        "sample_type": ["primary", "metastasis", "primary", "metastasis", "primary"],
        "collection_months": [0.0, 30.0, 0.0, 40.0, 0.0],
        "mutation_panel": ["P2", "P2", "P1", "P2", "P1"],
    }).set_index("sample_id")
    mutations = pd.DataFrame({
        "sample_id": ["A-M", "A-P", "C-M"], "gene": ["ESR1", "PIK3CA", "ESR1"],
        "variant_classification": ["Missense_Mutation"] * 3,
        "protein_change": ["D538G", "H1047R", "Y537S"], "vaf": [0.2, 0.3, 0.2],
        "non_silent": [True, True, True],
    })
    panels = pd.DataFrame({"panel_id": ["P1", "P2", "P2"], "gene": ["PIK3CA", "PIK3CA", "ESR1"]})
    treatments = pd.DataFrame({
        "patient_id": ["A", "A", "B", "C"], "line": [0, 1, 1, 1],
        "setting": ["adjuvant", "metastatic", "metastatic", "metastatic"],
        "therapy_class": ["endocrine", "endocrine_cdk46", "endocrine", "endocrine"],
        "start_months": [1.0, 31.0, 20.0, 41.0], "stop_months": [30.0, 34.0, 35.0, 43.0],
        "reason_stopped": ["progression", "progression", "progression", "death"],
    })
    outcomes = pd.DataFrame({"patient_id": ["A", "B", "C", "D"],
                             "rfs_months": [30.0, 20.0, 40.0, 80.0],
                             "rfs_event": [True, True, True, False],
                             "os_months": [50.0, 60.0, 43.0, 80.0],
                             "os_event": [False, False, True, False]}).set_index("patient_id")
    return build_cohort({"name": "tiny"}, patients=patients, samples=samples,
                        mutations=mutations, panels=panels, treatments=treatments,
                        outcomes=outcomes)


def test_abc_resistance_labels_and_exclusions() -> None:
    labels = resistance_labels(_tiny_cohort(), "endocrine")
    assert not labels.proxy
    assert labels.y["label"].to_dict() == {"A": 1, "B": 0}  # A: 3 months, B: 15 months
    assert _counts(labels) == {"no metastatic endocrine line": 1,
                               "died within 6 months without progression": 1}
    assert labels.origin_months.to_dict() == {"A": 31.0, "B": 20.0}


def test_progression_labels_time_from_the_line_to_progression_or_death() -> None:
    cohort = _tiny_cohort()
    labels = progression_labels(cohort)
    assert labels.kind == "survival"
    assert labels.y["time_months"].to_dict() == {"A": 3.0, "B": 15.0, "C": 2.0}
    assert labels.y["event"].to_dict() == {"A": True, "B": True, "C": True}  # C died
    assert labels.origin_months.to_dict() == {"A": 31.0, "B": 20.0, "C": 41.0}
    assert _counts(labels) == {"no dated metastatic line": 1}
    X = build_design(cohort, labels.time_origin)
    assert X["clin__current_endocrine"].to_dict() == {"A": 1.0, "B": 1.0, "C": 1.0}
    assert X["clin__with_cdk46_inhibitor"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}
    assert X["clin__prior_endocrine"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}  # adjuvant
    assert X.loc["A", "mut__ESR1"] == 1.0  # the metastasis biopsied before the line


def test_progression_index_lines_are_drawn_per_patient_reproducibly() -> None:
    cohort = build_synthetic_cohort(600, 5)
    labels = progression_labels(cohort)
    lines = cohort.treatments[cohort.treatments["setting"] == "metastatic"]
    starts = lines.groupby("patient_id")["start_months"].agg(list)
    origin = labels.origin_months
    assert all(origin[p] in starts[p] for p in origin.index)
    later = sum(origin[p] > min(starts[p]) for p in origin.index)
    assert 0 < later < len(origin)  # later lines are represented, not only first lines
    tables = {name: cohort.table(name) for name in TABLES}
    tables["treatments"] = tables["treatments"].sample(frac=1.0, random_state=1)
    shuffled = build_cohort(dict(cohort.metadata), **tables)
    again = progression_labels(shuffled)
    pd.testing.assert_series_equal(again.origin_months.sort_index(), origin.sort_index())
    censored = labels.y[~labels.y["event"]]
    assert len(censored) > 0
    assert (labels.y["time_months"] > 0).all()
    population = task_population(cohort, "progression", labels.origin,
                                 labels.eligible_sample_types)
    current = lines.groupby("patient_id")["start_months"].max()
    assert population.origin.months.to_dict() == current.to_dict()  # scoring: the latest line
    with pytest.raises(TaskNotApplicable, match="no dated metastatic treatment lines"):
        progression_labels(load_cohort("gbsg2")[0])


def test_relapse_design_uses_only_samples_known_at_diagnosis() -> None:
    cohort = _tiny_cohort()
    labels = relapse_labels(cohort)
    assert _counts(labels) == {"no profiled sample known at the origin (diagnosis)": 1}
    assert labels.samples_not_used == 1  # A's metastasis, biopsied after diagnosis
    assert resistance_labels(cohort, "endocrine").samples_not_used == 0  # A-M precedes A's line
    X = build_design(cohort, labels.time_origin)
    assert "C" not in X.index
    assert X.loc["A", "mut__PIK3CA"] == 1.0
    # A's ESR1 mutation is in the metastasis, biopsied after relapse: not a relapse feature;
    # the primary (whose panel covers ESR1) says wild type.
    assert X.loc["A", "mut__ESR1"] == 0.0
    assert X.loc["A", "hot__PIK3CA_H1047R"] == 1.0
    assert "clin__site_liver" not in X.columns  # metastatic sites are not known at diagnosis


def test_resistance_design_uses_samples_up_to_the_line_and_is_panel_aware() -> None:
    cohort = _tiny_cohort()
    labels = resistance_labels(cohort, "endocrine")
    X = build_design(cohort, labels.time_origin)
    assert X.loc["A", "mut__ESR1"] == 1.0  # metastasis at 30 months, line at 31
    assert np.isnan(X.loc["B", "mut__ESR1"])  # B's only panel lacks ESR1: unknown, not 0
    assert X.loc["B", "mut__PIK3CA"] == 0.0
    assert X.loc["A", "clin__prior_endocrine"] == 1.0
    assert X.loc["A", "clin__with_cdk46_inhibitor"] == 1.0
    assert X.loc["A", "evo__n_acquired"] == 1.0  # ESR1: on A's primary panel, absent there


def test_acquired_only_counts_genes_the_primary_panel_covered() -> None:
    cohort = _tiny_cohort()
    samples = cohort.samples.copy()
    samples.loc["A-P", "mutation_panel"] = "P1"  # P1 lacks ESR1: ESR1 may have been there
    cohort = build_cohort({"name": "tiny"}, patients=cohort.patients, samples=samples,
                          mutations=cohort.mutations, panels=cohort.panels,
                          treatments=cohort.treatments, outcomes=cohort.outcomes)
    X = build_design(cohort, resistance_labels(cohort, "endocrine").time_origin)
    assert X.loc["A", "evo__n_acquired"] == 0.0
    assert X.loc["A", "rclass__esr1"] == 1.0


def test_synthetic_relapse_excludes_de_novo_and_counts() -> None:
    cohort = build_synthetic_cohort(600, 5)
    labels = relapse_labels(cohort)
    de_novo = int(cohort.patients["de_novo_metastatic"].sum())
    assert _counts(labels)["metastatic at diagnosis: no relapse-free interval"] == de_novo
    assert len(labels.y) + sum(_counts(labels).values()) == 600


def test_gbsg2_relapse_keeps_everyone() -> None:
    cohort, _ = load_cohort("gbsg2")
    labels = relapse_labels(cohort)
    assert (len(labels.y), labels.n_events, labels.exclusions) == (686, 299, [])


@pytest.mark.realdata
def test_metabric_endocrine_proxy_counts(metabric_dir: Path) -> None:
    cohort, _ = load_cbioportal_study(metabric_dir)
    labels = resistance_labels(cohort, "endocrine")
    assert labels.proxy
    assert "PROXY" in labels.definition
    # CLINICAL.md: 1,104 ER+ with hormone therapy; 20 censored before 24 months; 1,084 / 98.
    assert _counts(labels)["censored before 24 months"] == 20
    assert (len(labels.y), labels.n_events) == (1084, 98)


def test_progression_on_a_cdk46_inhibitor_line_within_6_and_12_months() -> None:
    """Its own label, not the ABC definition: the first metastatic line with a CDK4/6
    inhibitor, progression within the horizon = 1."""
    cohort = build_synthetic_cohort(800, 2)
    six, twelve = (labels_for_task(cohort, f"resistance_cdk46{s}") for s in ("", "_12m"))
    lines = cohort.treatments
    cdk46 = lines[(lines["therapy_class"] == "endocrine_cdk46")
                  & (lines["setting"] == "metastatic")]
    assert set(six.y.index) <= set(cdk46["patient_id"])
    assert "not an ESO-ESMO ABC definition" in six.definition
    assert six.horizon_months == 6
    assert twelve.horizon_months == 12
    positive = six.y.index[six.y["label"] == 1]
    assert (six.y.loc[positive, "time_months"] <= 6).all()
    # a progression within 6 months is one within 12: every 6-month positive kept is positive
    kept = positive.intersection(twelve.y.index)
    assert (twelve.y.loc[kept, "label"] == 1).all()
    assert twelve.y["label"].sum() > six.y["label"].sum()


def test_an_endocrine_partner_makes_a_derived_line_endocrine_based() -> None:
    """A line named by its PI3K inhibitor (fulvestrant with alpelisib) is endocrine-based by its
    agents; one named by its CDK4/6 inhibitor counts for the CDK4/6 label."""
    from features.therapies import RESISTANCE_LABELS

    cohort = build_synthetic_cohort(400, 4)
    lines = cohort.treatments
    first = lines[(lines["setting"] == "metastatic") & (lines["line"] == 1)
                  & (lines["therapy_class"] == "endocrine")].index[0]
    patient = lines.loc[first, "patient_id"]
    lines.loc[first, ["therapy_class", "agent_classes"]] = ["pi3k_akt_mtor",
                                                           "serd+pi3k_alpha_inhibitor"]
    assert "serd" in RESISTANCE_LABELS["endocrine"].agent_classes
    assert patient in labels_for_task(cohort, "resistance_endocrine").y.index
    lines.loc[first, "agent_classes"] = "pi3k_alpha_inhibitor"
    endocrine = labels_for_task(cohort, "resistance_endocrine")
    assert patient not in endocrine.y.index
