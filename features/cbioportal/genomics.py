"""Genomic files of a cBioPortal study: MAF mutations, discrete CNA matrix, gene panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.coding import missing_mask, parse_number
from features.report import LoadReport
from features.tabular import TextTable, read_key_value_file, read_text_table
from features.validation import is_hgnc_symbol
from features.vocab import GENE_SYMBOL_UPDATES

#: MAF variant classifications with no protein effect (cBioPortal filters these by default).
SILENT_CLASSIFICATIONS = frozenset(
    {"Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA", "lincRNA",
     "Splice_Region", "Targeted_Region"}
)
_PROTEIN_COLUMNS = ("HGVSp_Short", "Protein_Change", "Amino_Acid_Change", "HGVSp")
_SEQUENCED = "Sequenced_Samples:"


def normalise_genes(genes: pd.Series, column: str, report: LoadReport) -> pd.Series:
    """Gene symbols with previous HGNC symbols updated (each update counted as a recoding)."""
    updated = genes.map(lambda g: GENE_SYMBOL_UPDATES.get(g, g))
    changed = genes != updated
    for (old, new), count in pd.DataFrame(
        {"old": genes[changed], "new": updated[changed]}
    ).value_counts().items():
        report.recode(column, str(old), str(new), int(count))
    return updated


def _drop_rows(table: TextTable, keep: np.ndarray, report: LoadReport, reason: str,
               name: str) -> None:
    dropped = int((~keep).sum())
    if dropped:
        first = table.line_of(int(np.flatnonzero(~keep)[0]))
        report.exclude(name, f"{reason} ({table.name}, first on line {first})", dropped)


def read_panel_definitions(paths: list[Path], report: LoadReport) -> pd.DataFrame:
    """``panel_id``/``gene`` rows from gene-panel files (``stable_id``, ``gene_list``)."""
    rows = []
    for path in paths:
        values = read_key_value_file(path)
        panel = values.get("stable_id")
        if not panel:
            report.warn(f"{path.name}: no stable_id; not read as a gene panel")
            continue
        genes = pd.Series([g.strip() for g in values.get("gene_list", "").split("\t")
                           if g.strip()], dtype=object)
        genes = normalise_genes(genes, f"{path.name}:gene_list", report)
        valid = is_hgnc_symbol(genes).to_numpy()
        if (~valid).any():
            report.exclude("panels", f"{path.name}: not HGNC symbols "
                           f"{sorted(genes[~valid])[:5]}", int((~valid).sum()))
        rows.extend({"panel_id": panel, "gene": g} for g in genes[valid].drop_duplicates())
    return pd.DataFrame(rows, columns=["panel_id", "gene"])


def read_gene_panel_matrix(path: Path | None, samples: pd.Index,
                           report: LoadReport) -> pd.DataFrame | None:
    """Per sample: the panel of the mutation profile and of the CNA profile (NA = not profiled).

    Profile columns are recognised by name (``*mutations*``, ``*cna*``); others are listed as
    not understood.
    """
    if path is None:
        return None
    table = read_text_table(path, report)
    if "SAMPLE_ID" not in table.frame.columns:
        raise table.error("required column is missing", column="SAMPLE_ID",
                          expected="SAMPLE_ID and one column per molecular profile")
    frame = table.frame.set_index("SAMPLE_ID")
    result = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        target = ("mutation_panel" if "mutation" in column.lower()
                  else "cna_panel" if "cna" in column.lower() else None)
        if target is None:
            report.unknown_columns.append((table.name, column))
            continue
        values = frame[column]
        result[target] = values.where(~missing_mask(values, column, report).to_numpy())
    known = frame.index.isin(samples)
    _drop_rows(table, known, report, "sample not in the sample file", "gene_panel_matrix")
    return result[known]


def read_mutations(path: Path | None, samples: pd.Index,
                   report: LoadReport) -> tuple[pd.DataFrame, pd.Index | None]:
    """Mutations of a MAF and, if its header says, the samples sequenced.

    Silent calls are kept and marked ``non_silent=False``. Rows without a gene (``Unknown``),
    with a gene not written as an HGNC symbol, or of a sample missing from the sample file are
    left out and counted.
    """
    if path is None:
        report.warn("no mutation file: no sample is profiled for mutations")
        return pd.DataFrame(), None
    table = read_text_table(path, report)
    for column in ("Hugo_Symbol", "Tumor_Sample_Barcode"):
        if column not in table.frame.columns:
            raise table.error("required MAF column is missing", row=None, column=column,
                              expected="a MAF with Hugo_Symbol and Tumor_Sample_Barcode")
    frame = table.frame
    report.counts["mutation_rows_read"] = len(frame)
    genes = normalise_genes(frame["Hugo_Symbol"], "Hugo_Symbol", report)
    has_gene = ~genes.str.lower().isin({"", "unknown"}).to_numpy()
    _drop_rows(table, has_gene, report, "no gene (Hugo_Symbol 'Unknown' or empty)", "mutations")
    valid = is_hgnc_symbol(genes).to_numpy() | ~has_gene
    _drop_rows(table, valid, report, "Hugo_Symbol is not an HGNC symbol", "mutations")
    known_sample = frame["Tumor_Sample_Barcode"].isin(samples).to_numpy()
    _drop_rows(table, known_sample | ~(has_gene & valid), report,
               "sample not in the sample file", "mutations")
    keep = has_gene & valid & known_sample
    classification = (frame["Variant_Classification"] if "Variant_Classification" in frame
                      else pd.Series("", index=frame.index))
    if "Variant_Classification" not in frame:
        report.warn(f"{table.name}: no Variant_Classification column; every call is taken "
                    "as non-silent")
    mutations = pd.DataFrame(
        {
            "sample_id": frame["Tumor_Sample_Barcode"],
            "gene": genes,
            "variant_classification": classification.where(classification != ""),
            "protein_change": _protein_change(frame),
            "vaf": _allele_fraction(table, report),
            "non_silent": ~classification.isin(SILENT_CLASSIFICATIONS),
        }
    )[keep].reset_index(drop=True)
    return mutations, _sequenced_samples(table)


def _protein_change(frame: pd.DataFrame) -> pd.Series:
    column = next((c for c in _PROTEIN_COLUMNS if c in frame.columns), None)
    if column is None:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    values = frame[column].str.replace(r"^p\.", "", regex=True)
    return values.where(values != "")


def _allele_fraction(table: TextTable, report: LoadReport) -> pd.Series:
    frame = table.frame
    if {"t_alt_count", "t_ref_count"} <= set(frame.columns):
        alt = pd.to_numeric(frame["t_alt_count"].where(frame["t_alt_count"] != ""),
                            errors="coerce")
        ref = pd.to_numeric(frame["t_ref_count"].where(frame["t_ref_count"] != ""),
                            errors="coerce")
        depth = alt + ref
        vaf = (alt / depth).where(depth > 0)
        bad = (alt < 0) | (ref < 0)
        if bad.any():
            raise table.error("negative read count", row=int(np.flatnonzero(bad)[0]),
                              column="t_alt_count", expected="read counts >= 0")
        return vaf.astype("Float64")
    if "VAF" in frame.columns:
        return parse_number(table, "VAF", report, field="variant allele fraction", minimum=0,
                            maximum=1)
    return pd.Series(pd.NA, index=frame.index, dtype="Float64")


def _sequenced_samples(table: TextTable) -> pd.Index | None:
    for comment in table.comments:
        if comment.startswith(_SEQUENCED):
            return pd.Index(comment[len(_SEQUENCED):].split())
    return None


def read_copy_number(path: Path | None, samples: pd.Index,
                     report: LoadReport) -> tuple[pd.DataFrame, pd.Index | None]:
    """Non-neutral discrete CNA calls (``level`` -2..2, fractional kept) and profiled samples.

    Neutral (0) and NA cells are counted, not stored. A cell that is not a number or out of
    range raises a CohortError naming its line and sample column.
    """
    if path is None:
        return pd.DataFrame(), None
    table = read_text_table(path, report)
    frame = table.frame
    if "Hugo_Symbol" not in frame.columns:
        raise table.error("required column is missing", column="Hugo_Symbol",
                          expected="Hugo_Symbol, optional Entrez_Gene_Id, then sample columns")
    sample_columns = [c for c in frame.columns
                      if c not in ("Hugo_Symbol", "Entrez_Gene_Id", "Cytoband")]
    unknown = [c for c in sample_columns if c not in samples]
    if unknown:
        report.exclude("copy_number", f"{table.name}: sample columns not in the sample file "
                       f"{unknown[:5]} (all their values)", len(unknown) * len(frame))
    profiled = [c for c in sample_columns if c in samples]
    genes = normalise_genes(frame["Hugo_Symbol"], "Hugo_Symbol", report)
    valid = (is_hgnc_symbol(genes) & ~genes.duplicated()).to_numpy()
    _drop_rows(table, valid, report, "gene not an HGNC symbol, or repeated", "copy_number")
    cells = frame[profiled].to_numpy(dtype=str)
    missing = np.isin(np.char.lower(cells), ["", "na", "nan"])
    numbers = pd.to_numeric(pd.Series(cells.ravel()), errors="coerce").to_numpy(
        dtype=float).reshape(cells.shape)
    bad = (np.isnan(numbers) & ~missing) | (np.abs(numbers) > 2)
    if bad.any():
        row, col = (int(a[0]) for a in np.nonzero(bad))
        raise table.error(f"{str(cells[row, col])!r} is not a copy-number level", row=row,
                          column=profiled[col], expected="a number from -2 to 2 or NA")
    report.counts["cna_values_read"] = int((~missing)[valid].sum())
    report.counts["cna_values_missing"] = int(missing[valid].sum())
    numbers = pd.DataFrame(numbers[valid], index=genes[valid], columns=profiled)
    long = numbers.stack().rename("level").reset_index()
    long.columns = ["gene", "sample_id", "level"]
    non_neutral = long["level"].notna() & (long["level"] != 0)
    calls = long.loc[non_neutral, ["sample_id", "gene", "level"]].reset_index(drop=True)
    return calls, pd.Index(profiled)
