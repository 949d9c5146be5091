"""The drug dictionary: names to classes, one vocabulary of therapy classes for the product."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from features.cohorts.treatments.drugs import (
    NAMING_ORDER,
    THERAPY_CLASSES,
    load_drug_dictionary,
    regimen_class,
)
from features.cohorts.vocab import THERAPY_CLASS
from serving.schemas import TherapyClass


@pytest.mark.parametrize(("name", "agent", "agent_class", "therapy"), [
    ("PALBOCICLIB", "palbociclib", "cdk46_inhibitor", "endocrine_cdk46"),
    ("Ibrance", "palbociclib", "cdk46_inhibitor", "endocrine_cdk46"),
    ("pd-0332991", "palbociclib", "cdk46_inhibitor", "endocrine_cdk46"),
    ("Faslodex", "fulvestrant", "serd", "endocrine"),
    ("AZD9833", "camizestrant", "serd", "endocrine"),
    ("  zoladex ", "goserelin", "ovarian_suppression", "endocrine"),
    ("T-DXd", "trastuzumab deruxtecan", "anti_her2_adc", "anti_her2"),
    ("Trodelvy", "sacituzumab govitecan", "trop2_adc", "chemotherapy"),
    ("Piqray", "alpelisib", "pi3k_alpha_inhibitor", "pi3k_akt_mtor"),
    ("capivasertib", "capivasertib", "akt_inhibitor", "pi3k_akt_mtor"),
    ("Lynparza", "olaparib", "parp_inhibitor", "parp"),
])
def test_generic_brand_and_code_names_any_case(name: str, agent: str, agent_class: str,
                                               therapy: str) -> None:
    drug = load_drug_dictionary().lookup(name)
    assert drug is not None
    assert (drug.agent, drug.agent_class, drug.therapy_class) == (agent, agent_class, therapy)
    assert drug.source


def test_a_combination_cell_gives_each_agent_and_lists_the_unknown() -> None:
    drugs, unknown = load_drug_dictionary().parse_agents("LETROZOLE+PALBOCICLIB / XYZ-123")
    assert [d.agent for d in drugs] == ["letrozole", "palbociclib"]
    assert unknown == ["XYZ-123"]


def test_free_text_names_the_longest_agent() -> None:
    dictionary = load_drug_dictionary()
    assert dictionary.find_in_text("fam-trastuzumab deruxtecan-nxki 100 MG").agent == \
        "trastuzumab deruxtecan"
    assert dictionary.find_in_text("Tamoxifen 20 MG Oral Tablet").agent == "tamoxifen"
    assert dictionary.find_in_text("vitamin D") is None


def test_a_regimen_is_named_by_its_leading_class() -> None:
    assert regimen_class({"endocrine", "endocrine_cdk46"}) == "endocrine_cdk46"
    assert regimen_class({"chemotherapy", "anti_her2"}) == "anti_her2"
    assert regimen_class({"endocrine", "pi3k_akt_mtor"}) == "pi3k_akt_mtor"
    assert regimen_class(set()) is None
    assert set(NAMING_ORDER) == set(THERAPY_CLASSES)


def test_one_vocabulary_of_therapy_classes() -> None:
    assert THERAPY_CLASS == THERAPY_CLASSES
    assert typing.get_args(TherapyClass) == THERAPY_CLASSES


def test_the_table_refuses_a_name_given_to_two_agents(tmp_path: Path) -> None:
    table = tmp_path / "drugs.csv"
    table.write_text("# version test\nagent,names,agent_class,therapy_class,source\n"
                     "letrozole,femara,aromatase_inhibitor,endocrine,label\n"
                     "anastrozole,femara,aromatase_inhibitor,endocrine,label\n")
    with pytest.raises(ValueError, match="'femara' already names letrozole"):
        load_drug_dictionary(table)
