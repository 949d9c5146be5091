"""The synthetic cohort: determinism, prevalences, planted effects, round trip, labelling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from cli import main
from features.cohorts import TABLES, load_cbioportal_study, load_cohort
from features.cohorts.cbioportal.writer import write_cbioportal_study
from features.cohorts.synthetic import build_synthetic_cohort
from features.cohorts.synthetic import parameters as p
from features.cohorts.synthetic.alterations import acquisition_rate, gene_of, primary_prevalence
from tests.conftest import REPO


@pytest.fixture(scope="module")
def cohort5000():
    return build_synthetic_cohort(5000, 7)


def test_deterministic_for_a_seed() -> None:
    assert build_synthetic_cohort(300, 3).digest() == build_synthetic_cohort(300, 3).digest()
    assert build_synthetic_cohort(300, 3).digest() != build_synthetic_cohort(300, 4).digest()


def test_labelled_synthetic(cohort5000) -> None:
    assert cohort5000.synthetic
    assert "SYNTHETIC" in cohort5000.metadata["description"]
    assert cohort5000.metadata["planted_effects"]["endocrine_progression:esr1_mutation"] == 2.0


def test_subtype_mix_like_aurora(cohort5000) -> None:
    shares = cohort5000.patients["receptor_subtype"].value_counts(normalize=True)
    for subtype, expected in p.SUBTYPE_MIX.items():
        se = np.sqrt(expected * (1 - expected) / 5000)
        assert abs(shares[subtype] - expected) < 4 * se, subtype


def test_sample_design_paired_and_panels(cohort5000) -> None:
    samples = cohort5000.samples
    kinds = samples.groupby("patient_id")["sample_type"].agg(set)
    paired = kinds.map(lambda s: {"primary", "metastasis"} <= s).sum()
    assert paired / len(cohort5000.patients) > 0.5
    metastatic = cohort5000.patients["de_novo_metastatic"] | cohort5000.outcomes["rfs_event"]
    with_biopsy = kinds.map(lambda s: "metastasis" in s).reindex(metastatic.index, fill_value=False)
    assert with_biopsy[metastatic.fillna(False)].mean() > 0.8
    assert samples["mutation_panel"].nunique() >= 3
    assert (samples["sample_type"] == "ctdna").sum() > 0


def _adjuvant_endocrine_patients(cohort) -> pd.Series:
    lines = cohort.treatments
    return lines.loc[(lines["line"] == 0) & (lines["therapy_class"] == "endocrine"),
                     "patient_id"]


def _observed_and_expected(cohort, sample_type: str) -> pd.DataFrame:
    """Per alteration and subtype: observed count in profiled samples, and its expectation."""
    samples = cohort.samples[cohort.samples["sample_type"] == sample_type]
    patients = cohort.patients.loc[samples["patient_id"]]
    subtype = patients["receptor_subtype"].to_numpy()
    adjuvant_endocrine = _adjuvant_endocrine_patients(cohort)
    exposed = samples["patient_id"].isin(adjuvant_endocrine).to_numpy()
    lobular = (patients["histology"] == "lobular").to_numpy()
    mutated = cohort.mutations[cohort.mutations["non_silent"]]
    rows = []
    for name, rule in p.GENES.items():
        gene = gene_of(name)
        calls = mutated if rule.kind == "mutation" else cohort.copy_number
        altered = samples.index.isin(calls.loc[calls["gene"] == gene, "sample_id"])
        profiled = samples["mutation_panel"].map(lambda panel, g=gene: g in p.PANELS[panel])
        prevalence = primary_prevalence(rule, subtype)
        if name == "CDH1":
            prevalence = 1 - (1 - prevalence) * (1 - lobular * p.CDH1_IN_LOBULAR)
        if sample_type == "metastasis":
            prevalence = 1 - (1 - prevalence) * (1 - acquisition_rate(rule, exposed))
        for group in ("hr_pos_her2_neg", "her2_pos", "triple_negative"):
            mask = profiled.to_numpy() & (subtype == group)
            rows.append({"alteration": name, "subtype": group, "n": int(mask.sum()),
                         "observed": int(altered[mask].sum()),
                         "expected": float(prevalence[mask].sum()),
                         "variance": float((prevalence[mask] * (1 - prevalence[mask])).sum())})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("sample_type", ["primary", "metastasis"])
def test_prevalences_within_sampling_error(cohort5000, sample_type: str) -> None:
    table = _observed_and_expected(cohort5000, sample_type)
    z = (table["observed"] - table["expected"]) / np.sqrt(table["variance"].clip(lower=0.25))
    outliers = table[z.abs() > 4.5]
    assert outliers.empty, outliers


def test_esr1_almost_only_in_metastases_after_endocrine_therapy(cohort5000) -> None:
    muts = cohort5000.mutations
    esr1 = muts[(muts["gene"] == "ESR1") & muts["non_silent"]]
    samples = cohort5000.samples.loc[esr1["sample_id"]]
    assert (samples["sample_type"] != "primary").mean() > 0.95
    adjuvant_endocrine = _adjuvant_endocrine_patients(cohort5000)
    metastatic = samples[samples["sample_type"] == "metastasis"]
    assert metastatic["patient_id"].isin(adjuvant_endocrine).mean() > 0.9
    changes = set(esr1["protein_change"])
    assert changes <= set(p.HOTSPOTS["ESR1"])


def _first_line_endocrine(cohort) -> pd.DataFrame:
    """One row per patient: first-line endocrine therapy, time to progression (months; death
    and end of follow-up censor), and the metastatic biopsy's alterations."""
    lines = cohort.treatments
    lines = lines[(lines["line"] == 1) & lines["therapy_class"].isin(
        ["endocrine", "endocrine_cdk46"])].set_index("patient_id")
    end = lines["stop_months"].fillna(cohort.outcomes.loc[lines.index, "os_months"])
    biopsies = cohort.samples[cohort.samples["sample_type"] == "metastasis"].reset_index()
    biopsies = biopsies.set_index("patient_id")
    lines = lines[lines.index.isin(biopsies.index)]
    sample_of = biopsies.loc[lines.index, "sample_id"]
    mutated = cohort.mutations[cohort.mutations["non_silent"]]

    def has(genes: tuple[str, ...]) -> np.ndarray:
        hits = mutated.loc[mutated["gene"].isin(genes), "sample_id"]
        return sample_of.isin(hits).to_numpy(dtype=float)
    cdk46 = (lines["therapy_class"] == "endocrine_cdk46").to_numpy(dtype=float)
    frame = pd.DataFrame({
        "duration": (end.loc[lines.index] - lines["start_months"]).to_numpy(dtype=float),
        "progressed": (lines["reason_stopped"] == "progression").to_numpy(dtype=float),
        "esr1_mutation": has(("ESR1",)),
        "mapk_lesion": has(p.MAPK_GENES),
        "tmb_high": (biopsies.loc[lines.index, "tmb"] >= p.TMB_HIGH).to_numpy(dtype=float),
        "rb1_loss_on_cdk46": has(("RB1",)) * cdk46,
        "cdk46_inhibitor": cdk46,
        "liver_metastasis": cohort.patients.loc[lines.index, "metastatic_sites"]
        .fillna("").str.contains("liver").to_numpy(dtype=float),
    })
    for gene in p.NOISE_GENES:
        frame[gene] = has((gene,))
    return frame


def test_planted_effects_recovered_by_cox(cohort5000) -> None:
    data = _first_line_endocrine(cohort5000)
    assert len(data) > 1000
    fit = CoxPHFitter().fit(data, duration_col="duration", event_col="progressed")
    for covariate in ("esr1_mutation", "mapk_lesion"):
        planted = np.log(next(e.hazard_ratio for e in p.PLANTED_EFFECTS
                              if e.covariate == covariate))
        estimate = fit.params_[covariate]
        assert abs(estimate - planted) <= 0.25 * planted, (covariate, estimate, planted)
    for gene in p.NOISE_GENES:
        assert abs(fit.params_[gene]) < 3 * fit.standard_errors_[gene], gene
        assert abs(fit.params_[gene]) < 0.4, gene


def test_removing_a_planted_effect_removes_it() -> None:
    cohort = build_synthetic_cohort(5000, 7, hazard_ratios={"esr1_mutation": 1.0})
    fit = CoxPHFitter().fit(_first_line_endocrine(cohort), duration_col="duration",
                            event_col="progressed")
    assert abs(fit.params_["esr1_mutation"]) < 3 * fit.standard_errors_["esr1_mutation"]


def _sorted(table: pd.DataFrame, name: str) -> pd.DataFrame:
    if name in ("patients", "samples", "outcomes"):
        return table.sort_index()
    return table.sort_values(list(table.columns[:4])).reset_index(drop=True)


def test_round_trip_through_study_folder_is_exact(tmp_path: Path) -> None:
    cohort = build_synthetic_cohort(1500, 11)
    write_cbioportal_study(cohort, tmp_path / "study")
    back, report = load_cbioportal_study(tmp_path / "study")
    for name in TABLES:
        pd.testing.assert_frame_equal(_sorted(cohort.table(name), name),
                                      _sorted(back.table(name), name), obj=name)
    assert back.synthetic
    assert report.unknown_columns == []
    assert [e for e in report.exclusions if not e.table.startswith("outcomes.")] == []


def test_synth_cli_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synthetic_study"
    assert main(["synth", "--n", "400", "--seed", "7", "--out", str(out)]) == 0
    assert "SYNTHETIC cohort: 400 patients" in capsys.readouterr().out
    assert main(["validate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_patients"] == 400
    assert result["synthetic"] is True
    assert result["n_samples"] == len(build_synthetic_cohort(400, 7).samples)


def test_validate_builtin_synthetic_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "synthetic", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_patients"] == 2000
    assert result["synthetic"] is True
    assert any("SYNTHETIC" in w for w in result["warnings"])
    assert set(result["outcomes"]) == {"rfs", "os", "pfs1"}


def test_registry_builds_the_default() -> None:
    cohort, _ = load_cohort("synthetic")
    assert cohort.digest() == build_synthetic_cohort(2000, 0).digest()


def test_docs_table_lists_every_planted_effect() -> None:
    docs = (REPO / "docs" / "synthetic_cohort.md").read_text()
    for effect in p.PLANTED_EFFECTS:
        row = (f"| {effect.process} | {effect.covariate} | {effect.hazard_ratio:g} | "
               f"{effect.source} |")
        assert row in docs, row
