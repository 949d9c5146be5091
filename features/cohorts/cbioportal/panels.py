"""A study's genomic tables and which genes each sample was profiled for.

Every panel a sample is on is resolved, in order, from: the study's own panel files; a panel
folder the user gives (``--panels DIR``, or ``cohort.panels`` in the config), as cBioPortal
keeps panel definitions in a shared reference folder that portal downloads only name by ID;
otherwise the study's own data: the genes observed mutated, or carrying a copy-number value, in
any sample on that panel. An inferred panel is named in a warning with the rule and its gene
count. Its limit: a gene the panel covers but that is never altered in the study is unknown
for that panel's samples (never wild type), because nothing says the panel covers it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.cohorts.cbioportal.files import StudyFiles
from features.cohorts.cbioportal.genomics import (
    read_copy_number,
    read_gene_panel_matrix,
    read_mutation_files,
    read_panel_definitions,
)
from features.cohorts.cbioportal.structural_variants import read_structural_variants
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.vocab import WHOLE_EXOME_PANEL

#: How an undefined panel's genes are inferred, for the report and the docs.
INFERENCE_RULE = ("the genes observed mutated, or carrying a copy-number value, in any sample "
                  "on the panel")


def read_genomics(files: StudyFiles, samples: pd.DataFrame, report: LoadReport,
                  panel_folder: Path | None = None) -> dict[str, pd.DataFrame]:
    """Mutations, copy-number calls, structural variants and panels of the study; sets each
    sample's ``mutation_panel`` and ``cna_panel`` (NA: not profiled)."""
    study_panels = read_panel_definitions(files.panels, report)
    matrix = read_gene_panel_matrix(files.get("gene_matrix"), samples.index, report)
    mutations, sequenced = read_mutation_files(files.all("mutations"), samples.index, report)
    copy_number, cna_observed = read_copy_number(files.get("cna"), samples.index, report)
    cna_profiled = None if cna_observed is None else pd.Index(cna_observed.columns)
    samples["mutation_panel"] = _panel_assignment(
        matrix, "mutation_panel", sequenced, samples.index, files.get("mutations"), report)
    samples["cna_panel"] = _panel_assignment(
        matrix, "cna_panel", cna_profiled, samples.index, files.get("cna"), report)
    panels = _resolve_panels(study_panels, samples, mutations, cna_observed, panel_folder,
                             report)
    structural = read_structural_variants(files.get("sv"), samples.index, report)
    return {"mutations": mutations, "copy_number": copy_number, "panels": panels,
            "structural_variants": structural}


def _resolve_panels(study_panels: pd.DataFrame, samples: pd.DataFrame,
                    mutations: pd.DataFrame, cna_observed: pd.DataFrame | None,
                    panel_folder: Path | None, report: LoadReport) -> pd.DataFrame:
    """The study's panels, completed from ``panel_folder`` and then by inference, so that
    every panel a sample names is defined."""
    named = set(pd.concat([samples["mutation_panel"], samples["cna_panel"]]).dropna())
    undefined = sorted(named - set(study_panels["panel_id"]) - {WHOLE_EXOME_PANEL})
    parts = [study_panels]
    if undefined and panel_folder is not None:
        from_folder = read_panel_definitions(_panel_files(panel_folder), report)
        found = from_folder[from_folder["panel_id"].isin(undefined)]
        if not found.empty:
            report.warn(f"gene panels {sorted(set(found['panel_id']))} read from the panel "
                        f"folder {panel_folder}")
        parts.append(found)
        undefined = sorted(set(undefined) - set(found["panel_id"]))
    for panel in undefined:
        genes = _observed_genes(panel, samples, mutations, cna_observed)
        on_panel = int(((samples["mutation_panel"] == panel)
                        | (samples["cna_panel"] == panel)).fillna(False).sum())
        report.warn(f"gene panel {panel!r} is not defined in the study"
                    + (f" nor in the panel folder {panel_folder}" if panel_folder else "")
                    + f": inferred as {INFERENCE_RULE} ({len(genes)} genes, {on_panel} "
                    "samples); a gene never altered in the study is unknown for these "
                    "samples, not wild type")
        if not genes:
            for column in ("mutation_panel", "cna_panel"):
                on = (samples[column] == panel).fillna(False)
                samples.loc[on, column] = pd.NA
            report.exclude("samples", f"panel {panel!r} inferred with no gene: its samples are "
                           "taken as not profiled", on_panel)
            continue
        parts.append(pd.DataFrame({"panel_id": panel, "gene": genes}))
    return pd.concat(parts, ignore_index=True)


def _observed_genes(panel: str, samples: pd.DataFrame, mutations: pd.DataFrame,
                    cna_observed: pd.DataFrame | None) -> list[str]:
    """Genes mutated in a sample on ``panel`` (mutation profile) or with a copy-number value
    in a sample on ``panel`` (CNA profile)."""
    genes: set[str] = set()
    on_mutation_panel = samples.index[(samples["mutation_panel"] == panel).fillna(False)]
    if not mutations.empty:
        genes |= set(mutations.loc[mutations["sample_id"].isin(on_mutation_panel), "gene"])
    if cna_observed is not None:
        on_cna_panel = samples.index[(samples["cna_panel"] == panel).fillna(False)]
        columns = cna_observed.columns.intersection(on_cna_panel)
        genes |= set(cna_observed.index[cna_observed[columns].any(axis=1).to_numpy()])
    return sorted(genes)


def _panel_files(folder: Path) -> list[Path]:
    """The panel definition files of a user's panel folder."""
    if not folder.is_dir():
        raise CohortError("panel folder not found", file=str(folder),
                          expected="a folder of gene-panel files (stable_id, gene_list)")
    return sorted(path for path in folder.glob("*.txt") if path.is_file())


def _panel_assignment(matrix: pd.DataFrame | None, column: str, profiled: pd.Index | None,
                      index: pd.Index, data_file: Path | None,
                      report: LoadReport) -> pd.Series:
    """Each sample's panel for one profile: the gene-panel matrix if it says, else whole-exome
    for the samples the data file says were profiled; NA (not profiled) otherwise."""
    if data_file is None:
        return pd.Series(pd.NA, index=index, dtype="string")
    if matrix is not None and column in matrix.columns:
        absent = index.difference(matrix.index)
        profile = "mutations" if column == "mutation_panel" else "copy number"
        report.exclude("samples", f"not in the gene panel matrix: taken as not profiled for "
                       f"{profile}", len(absent))
        return matrix[column].reindex(index).astype("string")
    report.warn(f"{data_file.name}: no gene panel matrix; profiled samples are taken as "
                f"whole-exome ({WHOLE_EXOME_PANEL}: every gene profiled)")
    assigned = pd.Series(pd.NA, index=index, dtype="string")
    assigned[index.isin(profiled if profiled is not None else index)] = WHOLE_EXOME_PANEL
    return assigned
