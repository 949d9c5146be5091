"""Load a cBioPortal study folder into a validated :class:`~features.cohorts.cohort.Cohort`.

Clinical attributes are mapped to cohort columns by the alias table of
:mod:`features.cohorts.cbioportal.dialects` (first listed source column present wins); endpoint
pairs ``<NAME>_MONTHS`` + ``<NAME>_STATUS`` (or ``_EVENT``) are discovered. Every exclusion,
recoding and unread column goes into the :class:`~features.cohorts.report.LoadReport`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.cohorts.cbioportal.attributes import (
    fill_from_primary_sample,
    read_patients,
    read_samples,
)
from features.cohorts.cbioportal.files import GENOMIC_ROLES, StudyFiles, locate_study_files
from features.cohorts.cbioportal.line_summary import read_line_summary
from features.cohorts.cbioportal.mapping import apply_mapping, check_mapping_used, load_mapping
from features.cohorts.cbioportal.merging import merge_attribute_files
from features.cohorts.cbioportal.panels import read_genomics
from features.cohorts.cbioportal.timeline import Timeline, read_timelines
from features.cohorts.cbioportal.timing import place_by_specimens, place_samples
from features.cohorts.cohort import Cohort
from features.cohorts.derived import derive_de_novo_metastatic, derive_receptor_subtype
from features.cohorts.errors import CohortError
from features.cohorts.options import LoadOptions
from features.cohorts.report import LoadReport
from features.cohorts.schema import RowSource, empty_table
from features.cohorts.tabular import read_text_table
from features.cohorts.treatments.lines import UNATTRIBUTED_PROGRESSION, LineRules, derive_lines
from features.cohorts.treatments.onset import metastatic_onset
from features.cohorts.validation import build_cohort


def load_cbioportal_study(path: str | Path, options: LoadOptions | None = None,
                          ) -> tuple[Cohort, LoadReport]:
    """Read the cBioPortal study folder at ``path`` (``options``: a panel folder and a column
    mapping, see :class:`~features.cohorts.options.LoadOptions`).

    Returns the validated cohort and the load report. Raises :class:`CohortError` naming the
    file, line and column when a file cannot be used. A study with only a patient file (or
    patient and sample files without genomic files) loads as a clinical-only cohort.
    """
    options = options or LoadOptions()
    folder = Path(path)
    report = LoadReport(source=str(folder))
    files = locate_study_files(folder, report)
    mapping = load_mapping(options.columns) if options.columns else None
    patient_tables = [apply_mapping(read_text_table(p, report), mapping, report)
                      for p in files.all("patient")]
    sample_tables = [apply_mapping(read_text_table(p, report), mapping, report)
                     for p in files.all("sample")]
    check_mapping_used(mapping)
    patients, outcomes = merge_attribute_files(
        patient_tables, [read_patients(table, report) for table in patient_tables], report)
    timeline = read_timelines(files.all("timeline"), patients.index, report)
    if sample_tables:
        samples, diagnosis = merge_attribute_files(
            sample_tables, [read_samples(table, report) for table in sample_tables], report)
        samples = place_by_specimens(samples, timeline.specimens, report)
        samples = place_samples(samples, patients, sample_tables[0], report)
        fill_from_primary_sample(patients, samples, diagnosis, report)
    else:
        samples = empty_table("samples")
        _refuse_genomics_without_samples(files)
    patients["receptor_subtype"] = derive_receptor_subtype(patients)
    patients["de_novo_metastatic"], derived = derive_de_novo_metastatic(patients)
    if derived:
        report.warn(f"patients.de_novo_metastatic: {derived} values taken from the M category "
                    "or AJCC stage at diagnosis (M1 or stage IV: metastatic at diagnosis)")
    genomics = read_genomics(files, samples, report, options.panels)
    clinical_only = not any(files.all(role) for role in GENOMIC_ROLES)
    if clinical_only:
        report.warn("no genomic data: the study has no mutation, copy-number or gene-panel "
                    "file, so models use clinical-pathological features only")
    treatments, treatment_source = _treatment_lines(timeline, patients, samples, outcomes,
                                                    options.line_rules, report)
    if treatments.empty:
        documented = read_line_summary(patient_tables, sample_tables, outcomes, samples, report)
        if documented is not None:
            treatments = documented
    report.counts.update({
        "patients": len(patients),
        "samples": len(samples),
        "mutations": len(genomics["mutations"]),
        "cna_calls": len(genomics["copy_number"]),
        "structural_variants": len(genomics["structural_variants"]),
        "treatment_lines": len(treatments),
    })
    patient_table = patient_tables[0]
    provenance = {
        "patients": RowSource(patient_table.name, patient_table.lines,
                              {"patient_id": "PATIENT_ID"}),
        "outcomes": RowSource(patient_table.name, patient_table.lines),
    }
    if sample_tables:
        provenance["samples"] = RowSource(sample_tables[0].name, sample_tables[0].lines,
                                          {"patient_id": "PATIENT_ID", "sample_id": "SAMPLE_ID"})
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
    if clinical_only:  # samples without genomics: no patient needs a profiled sample
        metadata["cohort_has_samples"] = False
    cohort = build_cohort(metadata, provenance, patients=patients, samples=samples,
                          outcomes=outcomes, treatments=treatments, **genomics)
    return cohort, report


def _refuse_genomics_without_samples(files: StudyFiles) -> None:
    """Genomic files name samples; without a sample file they cannot be tied to patients."""
    for role in GENOMIC_ROLES:
        for path in files.all(role):
            raise CohortError("a genomic file needs the sample clinical file, which is missing",
                              file=path.name, expected="data_clinical_sample.txt or a meta "
                              "file naming it")


def _treatment_lines(timeline: Timeline, patients: pd.DataFrame, samples: pd.DataFrame,
                     outcomes: pd.DataFrame, rules: LineRules,
                     report: LoadReport) -> tuple[pd.DataFrame, RowSource | None]:
    """The study's lines of therapy: as its timeline gives them (mbcrisk's dialect), or derived
    from its agent rows by the line rules (the rules' counts go into the report)."""
    if timeline.lines is not None:
        return timeline.lines, timeline.line_source
    if timeline.agents.empty:
        return pd.DataFrame(), None
    onset = metastatic_onset(patients, samples, outcomes, [timeline.onset])
    lines, counts = derive_lines(timeline.agents, onset, timeline.progression, rules)
    report.line_rules = counts.to_dict()
    report.exclude("progression events", UNATTRIBUTED_PROGRESSION,
                   counts.rules.get(UNATTRIBUTED_PROGRESSION, 0))
    report.counts["treatment_agent_rows"] = len(timeline.agents)
    report.counts["progression_events"] = len(timeline.progression)
    if report.unknown_agents:
        shown = ", ".join(f"{name} ({count})" for name, count in
                          sorted(report.unknown_agents.items(), key=lambda i: -i[1])[:10])
        report.warn(f"{len(report.unknown_agents)} agent names not in the drug dictionary "
                    f"(features/cohorts/treatments/drugs.csv), classed 'other', never guessed: "
                    f"{shown}")
    return lines, None
