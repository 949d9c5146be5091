"""The structural-variant file of a cBioPortal study (``data_sv.txt``, meta file
``genetic_alteration_type: STRUCTURAL_VARIANT``, ``datatype: SV``): one row per call, its two
sites' genes, whether it is a fusion, and its origin.

A call is read as a fusion when its ``Class`` or its ``Event_Info`` says so (``FUSION``,
``ETV6-NTRK3 fusion``); other rearrangements are kept with ``fusion`` False. The models do not
read structural variants; actionability does (:mod:`features.actionability.cohort`). Rows of a
sample missing from the sample file, or with no HGNC symbol at either site, are left out and
counted; columns not read are listed in the report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.cohorts.cbioportal.genomics import drop_rows, normalise_genes
from features.cohorts.report import LoadReport
from features.cohorts.schema import empty_table
from features.cohorts.tabular import read_text_table
from features.cohorts.validation import is_hgnc_symbol

#: The columns read: the sample, the two sites' genes, the class, the event and the status.
SV_READ = ("Sample_Id", "Site1_Hugo_Symbol", "Site2_Hugo_Symbol", "Class", "Event_Info",
           "SV_Status")
ORIGINS = {"somatic": "somatic", "germline": "germline"}


def read_structural_variants(path: Path | None, samples: pd.Index,
                             report: LoadReport) -> pd.DataFrame:
    """The calls of ``path`` (an empty table when the study has none)."""
    if path is None:
        return empty_table("structural_variants")
    table = read_text_table(path, report)
    frame = table.frame
    if "Sample_Id" not in frame.columns:
        raise table.error("required structural-variant column is missing", row=None,
                          column="Sample_Id", expected="a cBioPortal SV file with Sample_Id "
                          "and Site1_Hugo_Symbol or Site2_Hugo_Symbol")
    sites = [c for c in ("Site1_Hugo_Symbol", "Site2_Hugo_Symbol") if c in frame.columns]
    if not sites:
        raise table.error("no gene column", row=None, column="Site1_Hugo_Symbol",
                          expected="Site1_Hugo_Symbol or Site2_Hugo_Symbol")
    first, second = (_genes(frame, column, report) for column in (
        "Site1_Hugo_Symbol", "Site2_Hugo_Symbol"))
    valid_first, valid_second = is_hgnc_symbol(first), is_hgnc_symbol(second)
    gene = first.where(valid_first, second)
    partner = second.where(valid_first & valid_second & (second != first))
    has_gene = (valid_first | valid_second).to_numpy()
    drop_rows(table, has_gene, report, "no HGNC symbol at either site", "structural_variants")
    known = frame["Sample_Id"].isin(samples).to_numpy()
    drop_rows(table, known | ~has_gene, report, "sample not in the sample file",
               "structural_variants")
    said = (_text(frame, "Class") + " " + _text(frame, "Event_Info")).str.lower()
    calls = pd.DataFrame({
        "sample_id": frame["Sample_Id"], "gene": gene, "partner_gene": partner,
        "fusion": said.str.contains("fusion", regex=False),
        "origin": _text(frame, "SV_Status").str.strip().str.lower().map(ORIGINS),
    })[has_gene & known].reset_index(drop=True)
    report.counts["structural_variant_rows_read"] = len(frame)
    report.unknown_columns.extend((table.name, c) for c in frame.columns if c not in SV_READ)
    return calls


def _genes(frame: pd.DataFrame, column: str, report: LoadReport) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return normalise_genes(frame[column].fillna("").astype(str).str.strip(), column, report)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype="string")
    return frame[column].fillna("").astype("string")
