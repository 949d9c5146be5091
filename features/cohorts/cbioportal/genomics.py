"""Genomic files of a cBioPortal study: MAF mutations, discrete CNA matrix, gene panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.cohorts.coding import missing_mask, parse_number
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable, read_key_value_file, read_text_table
from features.cohorts.validation import is_hgnc_symbol
from features.cohorts.variants import (
    canonical_classification,
    is_silent,
    short_protein_changes,
)
from features.cohorts.vocab import GENE_SYMBOL_UPDATES

_PROTEIN_COLUMNS = ("HGVSp_Short", "Protein_Change", "Amino_Acid_Change", "HGVSp")
_SEQUENCED = "Sequenced_Samples:"
#: MAF columns mbcrisk reads (the others are listed in the report as not read).
_MAF_READ = {"Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification", "t_alt_count",
             "t_ref_count", "VAF", *_PROTEIN_COLUMNS}


def normalise_genes(genes: pd.Series, column: str, report: LoadReport) -> pd.Series:
    """Gene symbols with previous HGNC symbols updated (each update counted as a recoding)."""
    updated = genes.map(lambda g: GENE_SYMBOL_UPDATES.get(g, g))
    changed = genes != updated
    for (old, new), count in pd.DataFrame(
        {"old": genes[changed], "new": updated[changed]}
    ).value_counts().items():
        report.recode(column, str(old), str(new), int(count))
    return updated


def drop_rows(table: TextTable, keep: np.ndarray, report: LoadReport, reason: str,
              name: str) -> None:
    """Count the rows of ``table`` that ``keep`` leaves out, under ``reason`` (naming the
    file and the first line) in table ``name`` of the report."""
    dropped = int((~keep).sum())
    if dropped:
        first = table.line_of(int(np.flatnonzero(~keep)[0]))
        report.exclude(name, f"{reason} ({table.name}, first on line {first})", dropped)


def read_panel_definitions(paths: list[Path], report: LoadReport) -> pd.DataFrame:
    """``panel_id``/``gene`` rows from gene-panel files (``stable_id``, ``gene_list``). A panel
    defined in two files is read once when both list the same genes, else refused."""
    rows = []
    defined: dict[str, tuple[Path, frozenset[str]]] = {}
    for path in paths:
        values = read_key_value_file(path)
        panel = values.get("stable_id")
        if not panel:
            report.warn(f"{path.name}: no stable_id; not read as a gene panel")
            continue
        genes = pd.Series([g.strip() for g in values.get("gene_list", "").split("\t")
                           if g.strip()], dtype=object)
        genes = normalise_genes(genes, f"{path.name}:gene_list", report)
        if panel in defined:
            first, first_genes = defined[panel]
            if frozenset(genes) != first_genes:
                raise CohortError(f"gene panel {panel!r} is defined again with other genes "
                                  f"(first in {first.name})", file=path.name,
                                  column="stable_id", expected="one definition per panel ID")
            report.warn(f"{path.name}: gene panel {panel!r} defined again, with the same genes "
                        f"as in {first.name}; read once")
            continue
        defined[panel] = (path, frozenset(genes))
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
    not understood. A matrix without rows, a sample listed twice, or two columns for one
    profile is an error naming the file, line and column.
    """
    if path is None:
        return None
    table = read_text_table(path, report)
    if "SAMPLE_ID" not in table.frame.columns:
        raise table.error("required column is missing", column="SAMPLE_ID",
                          expected="SAMPLE_ID and one column per molecular profile")
    if table.frame.empty:
        raise table.error("no sample rows after the header", column="SAMPLE_ID",
                          expected="one row per sample naming its panel per profile")
    repeated = table.frame["SAMPLE_ID"].duplicated().to_numpy()
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        raise table.error(f"sample {table.frame['SAMPLE_ID'].iat[row]!r} listed twice", row=row,
                          column="SAMPLE_ID", expected="one row per sample")
    frame = table.frame.set_index("SAMPLE_ID")
    result = pd.DataFrame(index=frame.index)
    sources: dict[str, str] = {}
    for column in frame.columns:
        target = ("mutation_panel" if "mutation" in column.lower()
                  else "cna_panel" if "cna" in column.lower() else None)
        if target is None:
            report.unknown_columns.append((table.name, column))
            continue
        if target in sources:
            raise CohortError(f"a second column for the {target.removesuffix('_panel')} "
                              f"profile (the first: {sources[target]!r})", file=table.name,
                              line=table.header_line, column=column,
                              expected="one column per molecular profile")
        sources[target] = column
        values = frame[column]
        result[target] = values.where(~missing_mask(values, column, report).to_numpy())
    known = frame.index.isin(samples)
    drop_rows(table, known, report, "sample not in the sample file", "gene_panel_matrix")
    return result[known]


def read_mutation_files(paths: list[Path], samples: pd.Index,
                        report: LoadReport) -> tuple[pd.DataFrame, pd.Index | None]:
    """Mutations of every MAF of the study, read one after the other, and the samples they say
    were sequenced (None: not said by at least one file). A call repeated identically in a later
    file is kept once and counted."""
    if len(paths) <= 1:
        return read_mutations(paths[0] if paths else None, samples, report)
    parts = [read_mutations(path, samples, report) for path in paths]
    frames = [frame for frame, _ in parts]
    mutations = pd.concat(frames, ignore_index=True)
    key = ["sample_id", "gene", "variant_classification", "protein_change"]
    seen: set[tuple] = set()
    flags: list[bool] = []
    for frame in frames:  # a call is repeated when an earlier file already has it
        calls = list(map(tuple, frame[key].astype(str).to_numpy()))
        flags += [call in seen for call in calls]
        seen |= set(calls)
    repeated = np.array(flags, dtype=bool)
    report.exclude("mutations", "the same call in an earlier mutation file (kept once)",
                   int(repeated.sum()))
    report.warn(f"{len(paths)} mutation files read together: " + ", ".join(
        f"{path.name} ({len(frame)} calls)" for path, frame in zip(paths, frames, strict=True)))
    sequenced = [index for _, index in parts]
    profiled = (None if any(index is None for index in sequenced)
                else sequenced[0].append(sequenced[1:]).unique())
    return mutations[~repeated].reset_index(drop=True), profiled


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
    report.counts["mutation_rows_read"] = report.counts.get("mutation_rows_read", 0) + len(frame)
    genes = normalise_genes(frame["Hugo_Symbol"], "Hugo_Symbol", report)
    has_gene = ~genes.str.lower().isin({"", "unknown"}).to_numpy()
    drop_rows(table, has_gene, report, "no gene (Hugo_Symbol 'Unknown' or empty)", "mutations")
    valid = is_hgnc_symbol(genes).to_numpy() | ~has_gene
    drop_rows(table, valid, report, "Hugo_Symbol is not an HGNC symbol", "mutations")
    known_sample = frame["Tumor_Sample_Barcode"].isin(samples).to_numpy()
    drop_rows(table, known_sample | ~(has_gene & valid), report,
               "sample not in the sample file", "mutations")
    keep = has_gene & valid & known_sample
    classification = _classification(table, report)
    protein_column = next((c for c in _PROTEIN_COLUMNS if c in frame.columns), None)
    mutations = pd.DataFrame(
        {
            "sample_id": frame["Tumor_Sample_Barcode"],
            "gene": genes,
            "variant_classification": classification,
            "protein_change": _protein_change(table, protein_column, report),
            "vaf": _allele_fraction(table, report),
            "non_silent": ~is_silent(classification),
        }
    )[keep].reset_index(drop=True)
    used = _MAF_READ - set(_PROTEIN_COLUMNS) | {protein_column}
    report.unknown_columns.extend((table.name, c) for c in frame.columns if c not in used)
    return mutations, _sequenced_samples(table)


def _classification(table: TextTable, report: LoadReport) -> pd.Series:
    """Canonical MAF classes of ``Variant_Classification``: other cases and Sequence Ontology
    terms are recoded (and counted); a value that is neither stays as written, is counted, and
    its calls are taken as non-silent."""
    frame = table.frame
    if "Variant_Classification" not in frame:
        report.warn(f"{table.name}: no Variant_Classification column; every call is taken "
                    "as non-silent")
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    raw = frame["Variant_Classification"]
    missing = missing_mask(raw, "Variant_Classification", report)
    spellings = {value: canonical_classification(value) for value in pd.unique(raw[~missing])}
    canonical = raw.map(spellings).where(~missing)
    unknown = canonical.isna() & ~missing
    for value, count in raw[unknown].value_counts().items():
        first = int(np.flatnonzero((raw == value).to_numpy())[0])
        report.exclude("values", f"{table.name} column Variant_Classification: unrecognised "
                       f"classification {value!r} kept as written and taken as non-silent "
                       f"(first on line {table.line_of(first)})", int(count))
    changed = canonical.notna() & (canonical != raw)
    for (value, to), count in pd.DataFrame(
            {"raw": raw[changed], "to": canonical[changed]}).value_counts().items():
        report.recode("Variant_Classification", str(value), str(to), int(count))
    return canonical.fillna(raw.where(~missing)).astype("string")


def _protein_change(table: TextTable, column: str | None, report: LoadReport) -> pd.Series:
    """Short HGVS protein changes (``H1047R``) of ``column``, whatever form it is written in;
    long forms (``p.His1047Arg``) are recoded and counted."""
    if column is None:
        return pd.Series(pd.NA, index=table.frame.index, dtype="string")
    raw = table.frame[column].where(table.frame[column] != "")
    short = short_protein_changes(raw)
    long_form = short.notna() & (short != raw.astype("string").str.removeprefix("p."))
    if long_form.any():
        report.recode(column, "long-form HGVS (e.g. p.His1047Arg)", "short form (H1047R)",
                      int(long_form.sum()))
    return short


def _allele_fraction(table: TextTable, report: LoadReport) -> pd.Series:
    """Variant allele fraction from the tumour read counts (a count that is not a whole number
    >= 0 is an error naming its line), else from a ``VAF`` column; NA when neither is given."""
    frame = table.frame
    if {"t_alt_count", "t_ref_count"} <= set(frame.columns):
        alt, ref = (parse_number(table, column, report, field="read count", minimum=0,
                                 integer=True).astype("Float64")
                    for column in ("t_alt_count", "t_ref_count"))
        depth = alt + ref
        return (alt / depth).where(depth > 0).astype("Float64")
    if "VAF" in frame.columns:
        return parse_number(table, "VAF", report, field="variant allele fraction", minimum=0,
                            maximum=1)
    return pd.Series(pd.NA, index=frame.index, dtype="Float64")


def _sequenced_samples(table: TextTable) -> pd.Index | None:
    for comment in table.comments:
        if comment.lower().startswith(_SEQUENCED.lower()):  # MSK/GENIE write it in lower case
            return pd.Index(comment[len(_SEQUENCED):].split())
    return None


def read_copy_number(path: Path | None, samples: pd.Index,
                     report: LoadReport) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Non-neutral discrete CNA calls (``level`` -2..2, fractional kept), and which gene of
    which profiled sample carries a value (True; the columns are the profiled samples).

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
    drop_rows(table, valid, report, "gene not an HGNC symbol, or repeated", "copy_number")
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
    observed = pd.DataFrame(~missing[valid], index=genes[valid].to_numpy(), columns=profiled)
    return calls, observed
