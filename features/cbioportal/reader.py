"""Load a cBioPortal study folder into a validated :class:`~features.cohort.Cohort`.

Clinical attributes are mapped to cohort columns by the tables :data:`PATIENT_FIELDS` and
:data:`SAMPLE_FIELDS` (first listed source column present wins); endpoint pairs
``<NAME>_MONTHS`` + ``<NAME>_STATUS`` (or ``_EVENT``) are discovered. Every exclusion, recoding
and unread column goes into the :class:`~features.report.LoadReport`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.cbioportal.files import StudyFiles, locate_study_files
from features.cbioportal.genomics import (
    read_copy_number,
    read_gene_panel_matrix,
    read_mutations,
    read_panel_definitions,
)
from features.cbioportal.timeline import read_treatments
from features.coding import (
    missing_mask,
    parse_category,
    parse_event,
    parse_number,
    parse_yes_no,
)
from features.cohort import Cohort, build_cohort
from features.derived import derive_receptor_subtype
from features.errors import CohortError
from features.report import LoadReport
from features.schema import MAX_MONTHS, RowSource
from features.tabular import TextTable, read_text_table
from features.vocab import CODINGS, WHOLE_EXOME_PANEL


@dataclass(frozen=True)
class FieldRule:
    """How one cohort column is read: source columns to try, parser kind and its options."""

    field: str
    sources: tuple[str, ...]
    kind: str  # "number", "integer", "category", "yes_no", "stage", "sites"
    domain: str | None = None
    minimum: float | None = None
    maximum: float | None = None


PATIENT_FIELDS = (
    FieldRule("age_years", ("AGE_AT_DIAGNOSIS", "AGE"), "number", minimum=0, maximum=120),
    FieldRule("sex", ("SEX", "GENDER"), "category", "sex"),
    FieldRule("menopausal_status", ("INFERRED_MENOPAUSAL_STATE", "MENOPAUSAL_STATUS",
                                    "MENOPAUSE_STATUS"), "category", "menopausal_status"),
    FieldRule("er_status", ("ER_IHC", "ER_STATUS"), "category", "receptor_status"),
    FieldRule("pr_status", ("PR_STATUS", "PR_IHC"), "category", "receptor_status"),
    FieldRule("her2_status", ("HER2_STATUS", "HER2_IHC"), "category", "receptor_status"),
    FieldRule("er_fmol_mg", ("ER_FMOL_MG",), "number", minimum=0, maximum=10_000),
    FieldRule("pr_fmol_mg", ("PR_FMOL_MG",), "number", minimum=0, maximum=10_000),
    FieldRule("pam50_subtype", ("CLAUDIN_SUBTYPE", "PAM50_SUBTYPE", "SUBTYPE"), "category",
              "pam50_subtype"),
    FieldRule("histology", ("HISTOLOGICAL_SUBTYPE", "HISTOLOGY"), "category", "histology"),
    FieldRule("grade", ("GRADE", "TUMOR_GRADE"), "integer", minimum=1, maximum=3),
    FieldRule("stage", ("TUMOR_STAGE", "STAGE", "AJCC_STAGE"), "stage"),
    FieldRule("tumor_size_mm", ("TUMOR_SIZE", "TUMOR_SIZE_MM"), "number", minimum=0,
              maximum=1000),
    FieldRule("positive_nodes", ("LYMPH_NODES_EXAMINED_POSITIVE", "POSITIVE_LYMPH_NODES"),
              "integer", minimum=0, maximum=100),
    FieldRule("de_novo_metastatic", ("DE_NOVO_METASTATIC",), "yes_no"),
    FieldRule("metastatic_sites", ("METASTATIC_SITES",), "sites"),
    FieldRule("performance_status", ("ECOG", "PERFORMANCE_STATUS"), "integer", minimum=0,
              maximum=4),
    FieldRule("received_chemotherapy", ("CHEMOTHERAPY",), "yes_no"),
    FieldRule("received_endocrine", ("HORMONE_THERAPY", "ENDOCRINE_THERAPY"), "yes_no"),
    FieldRule("received_radiotherapy", ("RADIO_THERAPY", "RADIOTHERAPY"), "yes_no"),
    FieldRule("received_anti_her2", ("ANTI_HER2_THERAPY",), "yes_no"),
)

SAMPLE_FIELDS = (
    FieldRule("sample_type", ("SAMPLE_TYPE",), "category", "sample_type"),
    FieldRule("site", ("SAMPLE_SITE", "METASTATIC_SITE", "TISSUE_SITE"), "text"),
    FieldRule("collection_months", ("COLLECTION_MONTHS", "SAMPLE_COLLECTION_MONTHS"), "number",
              minimum=-1200, maximum=1200),
    FieldRule("tmb", ("TMB_NONSYNONYMOUS", "TMB"), "number", minimum=0, maximum=10_000),
    FieldRule("er_status", ("ER_STATUS",), "category", "receptor_status"),
    FieldRule("pr_status", ("PR_STATUS",), "category", "receptor_status"),
    FieldRule("her2_status", ("HER2_STATUS",), "category", "receptor_status"),
)

#: Sample attributes that describe the primary tumour at diagnosis: they fill the patient's
#: value when the patient file lacks it (METABRIC keeps grade, size and stage per sample).
DIAGNOSIS_FIELDS = (
    FieldRule("grade", ("GRADE",), "integer", minimum=1, maximum=3),
    FieldRule("stage", ("TUMOR_STAGE", "STAGE"), "stage"),
    FieldRule("tumor_size_mm", ("TUMOR_SIZE",), "number", minimum=0, maximum=1000),
    FieldRule("histology", ("ONCOTREE_CODE", "CANCER_TYPE_DETAILED"), "category", "histology"),
    FieldRule("er_status", ("ER_STATUS",), "category", "receptor_status"),
    FieldRule("pr_status", ("PR_STATUS",), "category", "receptor_status"),
    FieldRule("her2_status", ("HER2_STATUS",), "category", "receptor_status"),
)

#: Columns read for identity or known to carry nothing the cohort models.
_ID_COLUMNS = {"PATIENT_ID", "SAMPLE_ID"}
_ENDPOINT_TIME = re.compile(r"^(?P<name>[A-Z0-9]+)_MONTHS$")
_STAGE = re.compile(r"^(?:stage\s*)?(?P<stage>0|[1-4]|iv|i{1,3})[abc]?\d?$", re.IGNORECASE)
_ROMAN = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4}


def load_cbioportal_study(path: str | Path) -> tuple[Cohort, LoadReport]:
    """Read the cBioPortal study folder at ``path``.

    Returns the validated cohort and the load report. Raises :class:`CohortError` naming the
    file, line and column when a file cannot be used.
    """
    folder = Path(path)
    report = LoadReport(source=str(folder))
    files = locate_study_files(folder, report)
    patient_table = read_text_table(files.paths["patient"], report)
    sample_table = read_text_table(files.paths["sample"], report)
    patients, outcomes = _read_patients(patient_table, report)
    samples, diagnosis = _read_samples(sample_table, report)
    _fill_from_primary_sample(patients, samples, diagnosis, report)
    patients["receptor_subtype"] = derive_receptor_subtype(patients)
    genomics = _read_genomics(files, samples, report)
    treatments, treatment_source = _read_treatments(files, report)
    report.counts.update({
        "patients": len(patients),
        "samples": len(samples),
        "mutations": len(genomics["mutations"]),
        "cna_calls": len(genomics["copy_number"]),
        "treatment_lines": len(treatments),
    })
    provenance = {
        "patients": RowSource(patient_table.name, patient_table.lines,
                              {"patient_id": "PATIENT_ID"}),
        "outcomes": RowSource(patient_table.name, patient_table.lines),
        "samples": RowSource(sample_table.name, sample_table.lines,
                             {"patient_id": "PATIENT_ID", "sample_id": "SAMPLE_ID"}),
    }
    if treatment_source is not None:
        provenance["treatments"] = treatment_source
    metadata = {
        "name": files.meta_study.get("cancer_study_identifier", folder.name),
        "title": files.meta_study.get("name", folder.name),
        "description": files.meta_study.get("description", ""),
        "citation": files.meta_study.get("citation", ""),
        "source": f"cBioPortal study folder {folder.name}",
        "synthetic": files.meta_study.get("synthetic", "").lower() in {"true", "yes", "1"},
    }
    cohort = build_cohort(metadata, provenance, patients=patients, samples=samples,
                          outcomes=outcomes, treatments=treatments, **genomics)
    return cohort, report


def _require(table: TextTable, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in table.frame.columns:
            raise CohortError("required column is missing", file=table.name,
                              line=table.header_line, column=column,
                              expected=f"a {column} column in the header")


def _identifiers(table: TextTable, column: str, *, unique: bool = False) -> pd.Series:
    """The identifiers of ``column``: none empty and, when ``unique``, none repeated."""
    ids = table.frame[column]
    empty = ids == ""
    if empty.any():
        raise table.error("empty identifier", row=int(np.flatnonzero(empty.to_numpy())[0]),
                          column=column, expected="an identifier in every row")
    repeated = ids.duplicated().to_numpy()
    if unique and repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        raise table.error(f"duplicate identifier {ids.iloc[row]!r}", row=row, column=column,
                          expected="a unique identifier per row")
    return ids


def _parse_field(table: TextTable, source: str, rule: FieldRule,
                 report: LoadReport) -> pd.Series:
    """Values of ``source`` parsed as ``rule`` says."""
    if rule.kind in ("number", "integer"):
        values = parse_number(table, source, report, field=rule.field, minimum=rule.minimum,
                              maximum=rule.maximum, integer=rule.kind == "integer")
    elif rule.kind == "category":
        values = parse_category(table, source, rule.domain or "", report, field=rule.field)
    elif rule.kind == "yes_no":
        values = parse_yes_no(table, source, report, field=rule.field)
    elif rule.kind == "stage":
        values = _parse_stage(table, source, report)
    elif rule.kind == "sites":
        values = _parse_sites(table, source, report)
    else:
        values = table.frame[source].where(table.frame[source] != "").astype("string")
    return values


def _read_fields(table: TextTable, rules: tuple[FieldRule, ...], report: LoadReport,
                 index: pd.Index, parsed: dict[str, pd.Series] | None = None,
                 ) -> tuple[pd.DataFrame, set[str]]:
    """Columns of ``rules`` read from ``table``; ``parsed`` caches results by source column so a
    column read for two purposes is parsed, and reported, once."""
    parsed = {} if parsed is None else parsed
    columns: dict[str, pd.Series] = {}
    used: set[str] = set()
    for rule in rules:
        source = next((c for c in rule.sources if c in table.frame.columns), None)
        if source is None:
            continue
        if (source, rule.kind) not in parsed:
            parsed[(source, rule.kind)] = _parse_field(table, source, rule, report)
        columns[rule.field] = parsed[(source, rule.kind)].set_axis(index)
        used.add(source)
    return pd.DataFrame(columns, index=index), used


def _read_patients(table: TextTable, report: LoadReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    _require(table, ("PATIENT_ID",))
    if table.frame.empty:
        raise table.error("no patient rows after the header", expected="one row per patient")
    index = pd.Index(_identifiers(table, "PATIENT_ID", unique=True), name="patient_id")
    patients, used = _read_fields(table, PATIENT_FIELDS, report, index)
    outcomes, endpoint_columns = _read_endpoints(table, report, index)
    used |= endpoint_columns | _ID_COLUMNS
    for column in table.frame.columns:
        if column not in used:
            report.unknown_columns.append((table.name, column))
    return patients, outcomes


def _read_endpoints(table: TextTable, report: LoadReport,
                    index: pd.Index) -> tuple[pd.DataFrame, set[str]]:
    """Every ``<NAME>_MONTHS`` with a ``<NAME>_STATUS`` or ``<NAME>_EVENT`` column."""
    outcomes: dict[str, pd.Series] = {}
    used: set[str] = set()
    for column in table.frame.columns:
        match = _ENDPOINT_TIME.match(column)
        if not match:
            continue
        name = match["name"]
        status = next((c for c in (f"{name}_STATUS", f"{name}_EVENT")
                       if c in table.frame.columns), None)
        if status is None:
            report.warn(f"{table.name}: {column} has no {name}_STATUS or {name}_EVENT column; "
                        "not read as an endpoint")
            continue
        times = parse_number(table, column, report, field=f"{name} time (months)", minimum=0,
                             maximum=MAX_MONTHS)
        events = parse_event(table, status, report, field=f"{name} status")
        endpoint = name.lower()
        _report_incomplete(report, endpoint, column, status, times, events)
        outcomes[f"{endpoint}_months"] = times.set_axis(index)
        outcomes[f"{endpoint}_event"] = events.set_axis(index)
        used |= {column, status}
    return pd.DataFrame(outcomes, index=index), used


def _report_incomplete(report: LoadReport, endpoint: str, time_column: str, status_column: str,
                       times: pd.Series, events: pd.Series) -> None:
    table = f"outcomes.{endpoint}"
    report.exclude(table, f"{status_column} missing", int(events.isna().sum()))
    report.exclude(table, f"{time_column} missing", int(times.isna().sum()))
    report.exclude(table, "not usable: time or status missing",
                   int((times.isna() | events.isna()).sum()))


def _read_samples(table: TextTable, report: LoadReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    _require(table, ("SAMPLE_ID", "PATIENT_ID"))
    index = pd.Index(_identifiers(table, "SAMPLE_ID", unique=True), name="sample_id")
    parsed: dict = {}
    samples, used = _read_fields(table, SAMPLE_FIELDS, report, index, parsed)
    samples.insert(0, "patient_id", _identifiers(table, "PATIENT_ID").set_axis(index))
    diagnosis, used_diagnosis = _read_fields(table, DIAGNOSIS_FIELDS, report, index, parsed)
    used |= used_diagnosis | _ID_COLUMNS
    for column in table.frame.columns:
        if column not in used:
            report.unknown_columns.append((table.name, column))
    return samples, diagnosis


def _fill_from_primary_sample(patients: pd.DataFrame, samples: pd.DataFrame,
                              diagnosis: pd.DataFrame, report: LoadReport) -> None:
    """Take diagnosis attributes the patient file lacks from the patient's primary sample.

    A column the patient file has is authoritative (its missing cells stay missing, so that,
    e.g., "ER+ by IHC" keeps its meaning); a column it lacks comes from the first primary sample.
    """
    diagnosis = diagnosis[[c for c in diagnosis.columns if c not in patients.columns]]
    if diagnosis.empty:
        return
    is_primary = samples.get("sample_type", pd.Series("primary", index=samples.index))
    primary = diagnosis[(is_primary == "primary").fillna(False).to_numpy()]
    first = primary.assign(patient_id=samples.loc[primary.index, "patient_id"].to_numpy())
    first = first.groupby("patient_id", sort=False).first()
    for column in diagnosis.columns:
        from_sample = first[column].reindex(patients.index)
        patients[column] = from_sample
        filled = int(from_sample.notna().sum())
        if filled:
            report.warn(f"patients.{column}: {filled} values taken from the primary sample")


def _parse_stage(table: TextTable, column: str, report: LoadReport) -> pd.Series:
    """AJCC stage 0-4 from ``2``, ``IIA``, ``Stage IV``... (sub-stages folded, and counted)."""
    raw = table.frame[column]
    missing = missing_mask(raw, column, report)
    found = raw.str.extract(_STAGE, expand=False)
    bad = found.isna() & ~missing
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise table.error(f"{raw.iat[row]!r} is not a stage", row=row, column=column,
                          expected="a stage 0-4, I-IV or 'Stage IIA' style")
    stage = found.str.lower().map(lambda s: _ROMAN.get(s, s) if isinstance(s, str) else s)
    stage = pd.to_numeric(stage, errors="coerce").astype("Int64")
    changed = ~missing & (raw != stage.astype("string"))
    for (value, to), count in pd.DataFrame(
        {"raw": raw[changed], "to": stage[changed].astype(str)}
    ).value_counts().items():
        report.recode(column, str(value), str(to), int(count))
    return stage


def _parse_sites(table: TextTable, column: str, report: LoadReport) -> pd.Series:
    """';'-joined canonical metastatic sites, sorted; unknown sites excluded and counted."""
    coding = CODINGS["metastatic_site"]
    unknown: dict[str, int] = {}

    def canonical(cell: str) -> str | None:
        if not cell:
            return None
        sites = []
        for part in re.split(r"[;,|]", cell):
            part = part.strip().lower()
            if not part:
                continue
            if part in coding:
                sites.append(coding[part])
            else:
                unknown[part] = unknown.get(part, 0) + 1
        return ";".join(sorted(set(sites))) or None

    values = table.frame[column].map(canonical).astype("string")
    for site, count in unknown.items():
        report.exclude("values", f"{table.name} column {column}: unrecognised metastatic site "
                       f"{site!r} left out", count)
    return values


def _read_genomics(files: StudyFiles, samples: pd.DataFrame,
                   report: LoadReport) -> dict[str, pd.DataFrame]:
    panels = read_panel_definitions(files.panels, report)
    matrix = read_gene_panel_matrix(files.get("gene_matrix"), samples.index, report)
    mutations, sequenced = read_mutations(files.get("mutations"), samples.index, report)
    copy_number, cna_profiled = read_copy_number(files.get("cna"), samples.index, report)
    samples["mutation_panel"] = _panel_assignment(
        matrix, "mutation_panel", sequenced, samples.index, files.get("mutations"), report)
    samples["cna_panel"] = _panel_assignment(
        matrix, "cna_panel", cna_profiled, samples.index, files.get("cna"), report)
    return {"mutations": mutations, "copy_number": copy_number, "panels": panels}


def _panel_assignment(matrix: pd.DataFrame | None, column: str, profiled: pd.Index | None,
                      index: pd.Index, data_file: Path | None,
                      report: LoadReport) -> pd.Series:
    """Each sample's panel for one profile: the gene-panel matrix if it says, else whole-exome
    for the samples the data file says were profiled; NA (not profiled) otherwise."""
    if data_file is None:
        return pd.Series(pd.NA, index=index, dtype="string")
    if matrix is not None and column in matrix.columns:
        return matrix[column].reindex(index).astype("string")
    report.warn(f"{data_file.name}: no gene panel matrix; profiled samples are taken as "
                f"whole-exome ({WHOLE_EXOME_PANEL}: every gene profiled)")
    assigned = pd.Series(pd.NA, index=index, dtype="string")
    assigned[index.isin(profiled if profiled is not None else index)] = WHOLE_EXOME_PANEL
    return assigned


def _read_treatments(files: StudyFiles,
                     report: LoadReport) -> tuple[pd.DataFrame, RowSource | None]:
    path = files.get("treatments")
    if path is None:
        return pd.DataFrame(), None
    return read_treatments(path, report)
