"""The ESCAT table matched on profiles of our own making: hotspot and non-hotspot, unprofiled
gene, germline against somatic, amplification against mutation, MSI, fusions, and ESR1 tests
that say nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.actionability.match import MSI, Context, Finding, match
from features.actionability.table import TABLE_PATH, TableError, load_table

TABLE = load_table()
#: A metastatic sample after endocrine therapy, every table gene profiled, MSI stable.
AFTER_ENDOCRINE = Context(profiled_genes=TABLE.genes, msi_status="stable",
                          sample_type="ctdna", endocrine_before_sample=True)


def _tiers(findings: list[Finding], context: Context = AFTER_ENDOCRINE) -> dict[str, object]:
    return {r["finding"]: r["tier"] for r in match(TABLE, findings, context)["findings"]}


def test_every_row_has_a_source_a_check_date_and_a_tier_of_the_scale() -> None:
    assert len(TABLE.rules) >= 10
    for rule in TABLE.rules:
        assert rule.source
        assert rule.evidence
        assert rule.therapy
        assert rule.checked.year >= 2026
    assert TABLE.version.startswith("escat-breast v1 (checked ")


def test_a_hotspot_is_tiered_and_a_mutation_outside_the_set_says_it_has_no_tier() -> None:
    tiers = _tiers([Finding("PIK3CA", "mutation", "H1047R"),
                    Finding("PIK3CA", "mutation", "p.R88Q"),
                    Finding("ESR1", "mutation", "D538G")])
    assert tiers == {"PIK3CA H1047R": "I-A", "ESR1 D538G": "II", "PIK3CA R88Q": None}
    answer = match(TABLE, [Finding("PIK3CA", "mutation", "R88Q")], AFTER_ENDOCRINE)
    assert "no ESCAT tier" in answer["findings"][0]["sentence"]


def test_amplification_and_mutation_of_one_gene_are_ranked_apart() -> None:
    assert _tiers([Finding("ERBB2", "amplification")]) == {"ERBB2 amplification": "I-A"}
    assert _tiers([Finding("ERBB2", "mutation", "L755S")]) == {"ERBB2 L755S": "II"}
    assert _tiers([Finding("PTEN", "deletion")]) == {"PTEN deletion": "II"}
    assert _tiers([Finding("PTEN", "amplification")]) == {"PTEN amplification": None}


def test_germline_and_somatic_brca_differ_and_unstated_origin_is_not_guessed() -> None:
    assert _tiers([Finding("BRCA2", "mutation", "K3326*", "germline")]) == {
        "BRCA2 K3326*": "I-A"}
    assert _tiers([Finding("BRCA2", "mutation", "K3326*", "somatic")]) == {
        "BRCA2 K3326*": "II"}
    answer = match(TABLE, [Finding("BRCA1", "mutation", "E1836fs")], AFTER_ENDOCRINE)
    (record,) = answer["findings"]
    assert record["tier"] is None
    assert "I-A if germline" in record["sentence"]
    assert "II if somatic" in record["sentence"]
    assert _tiers([Finding("PALB2", "mutation", "Q775*", "somatic")]) == {"PALB2 Q775*": None}


def test_unprofiled_genes_are_not_tested_never_without_finding() -> None:
    context = Context(profiled_genes=frozenset({"ESR1", "PIK3CA"}), msi_status=None,
                      sample_type="metastasis", endocrine_before_sample=True)
    answer = match(TABLE, [], context)
    assert answer["findings"] == []
    assert "ERBB2" in answer["not_tested"]
    assert "BRCA1" in answer["not_tested"]
    assert "PIK3CA" not in answer["not_tested"]
    assert MSI in answer["not_tested"]
    # no panel stated: only the genes with a finding are known to be tested
    unknown_panel = Context(None, "stable", "metastasis", True)
    assert set(match(TABLE, [Finding("AKT1", "mutation", "E17K")], unknown_panel)[
        "not_tested"]) == TABLE.genes - {"AKT1"}


def test_msi_high_and_ntrk_fusions_are_tumour_agnostic_tier_one_c() -> None:
    context = Context(TABLE.genes, "high", "metastasis", True)
    assert _tiers([Finding("NTRK3", "fusion")], context) == {"MSI-high": "I-C",
                                                             "NTRK3 fusion": "I-C"}


def test_a_negative_esr1_test_on_a_primary_or_before_endocrine_therapy_is_not_informative(
        ) -> None:
    for sample, exposed, reason in (("primary", True, "primary tumour"),
                                    ("metastasis", False, "before any endocrine therapy")):
        notes = match(TABLE, [], Context(TABLE.genes, "stable", sample, exposed))["notes"]
        assert len(notes) == 1
        assert "not informative for ESR1" in notes[0]
        assert reason in notes[0]
    assert match(TABLE, [], AFTER_ENDOCRINE)["notes"] == []
    found = match(TABLE, [Finding("ESR1", "mutation", "Y537S")],
                  Context(TABLE.genes, "stable", "primary", False))
    assert found["notes"] == []
    assert found["findings"][0]["tier"] == "II"


def test_a_malformed_table_names_its_line_and_column(tmp_path: Path) -> None:
    text = TABLE_PATH.read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace(",II,oral SERD", ",II-Z,oral SERD"))
    with pytest.raises(TableError, match=r"bad.csv: line \d+: column tier: 'II-Z'"):
        load_table(bad)


def test_the_documentation_shows_every_rule() -> None:
    page = (Path(__file__).parents[3] / "docs" / "actionability.md").read_text()
    assert [r.rule for r in TABLE.rules if r.rule not in page] == []
