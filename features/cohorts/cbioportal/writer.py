"""Write a Cohort as a cBioPortal study folder that :func:`load_cbioportal_study` reads back.

Column names are the first source name of each loader rule, so writer and loader cannot drift.
Floats are written in Python's shortest round-trip form; timeline dates are whole days (so
treatment times survive exactly when they are whole days, as in the synthetic cohort).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.cohorts.cbioportal.dialects import PATIENT_FIELDS, SAMPLE_FIELDS, FieldRule
from features.cohorts.cohort import Cohort
from features.cohorts.units import months_to_days
from features.cohorts.vocab import WHOLE_EXOME_PANEL

_YES_NO = {True: "YES", False: "NO"}


def _writable(rules: tuple[FieldRule, ...]) -> list[FieldRule]:
    """The first rule of each field, in its own unit (no scale): what the writer writes."""
    seen: set[str] = set()
    chosen = []
    for rule in rules:
        if rule.field not in seen and rule.scale == 1.0:
            seen.add(rule.field)
            chosen.append(rule)
    return chosen


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return _YES_NO[bool(value)]
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _write(path: Path, frame: pd.DataFrame, header: list[str] | None = None) -> None:
    lines = [*(header or []), "\t".join(frame.columns)]
    values = frame.astype(object).to_numpy()
    lines.extend("\t".join(_cell(v) for v in row) for row in values)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _meta(path: Path, **values: str) -> None:
    path.write_text("".join(f"{k}: {v}\n" for k, v in values.items()), encoding="utf-8")


def _clinical_header(columns: list[str], kinds: list[str]) -> list[str]:
    """cBioPortal's four ``#`` lines: display names, descriptions, datatypes, priorities."""
    return ["#" + "\t".join(columns), "#" + "\t".join(columns), "#" + "\t".join(kinds),
            "#" + "\t".join("1" for _ in columns)]


def write_cbioportal_study(cohort: Cohort, folder: str | Path) -> Path:
    """Write ``cohort`` into ``folder`` (created; existing files of the same names replaced)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    study_id = str(cohort.metadata.get("name", "mbcrisk_cohort"))
    _meta(out / "meta_study.txt", type_of_cancer="brca", cancer_study_identifier=study_id,
          name=str(cohort.metadata.get("title", study_id)),
          description=str(cohort.metadata.get("description", "")).replace("\n", " "),
          citation=str(cohort.metadata.get("citation", "")),
          synthetic="true" if cohort.synthetic else "false")
    _write_patients(cohort, out, study_id)
    _write_samples(cohort, out, study_id)
    _write_mutations(cohort, out, study_id)
    _write_copy_number(cohort, out, study_id)
    _write_panels(cohort, out, study_id)
    _write_treatments(cohort, out, study_id)
    return out


def _write_patients(cohort: Cohort, out: Path, study_id: str) -> None:
    frame = pd.DataFrame({"PATIENT_ID": cohort.patients.index})
    for rule in _writable(PATIENT_FIELDS):
        if rule.field in cohort.patients and cohort.patients[rule.field].notna().any():
            frame[rule.sources[0]] = cohort.patients[rule.field].to_numpy()
    for name in cohort.endpoints:
        endpoint = cohort.endpoint(name)
        frame[f"{name.upper()}_MONTHS"] = endpoint["time_months"].to_numpy()
        frame[f"{name.upper()}_STATUS"] = endpoint["event"].map(
            {True: "1:Event", False: "0:Censored"}).to_numpy()
    kinds = ["NUMBER" if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].dtype != bool
             else "STRING" for c in frame.columns]
    _write(out / "data_clinical_patient.txt", frame, _clinical_header(list(frame.columns), kinds))
    _meta(out / "meta_clinical_patient.txt", cancer_study_identifier=study_id,
          genetic_alteration_type="CLINICAL", datatype="PATIENT_ATTRIBUTES",
          data_filename="data_clinical_patient.txt")


def _write_samples(cohort: Cohort, out: Path, study_id: str) -> None:
    samples = cohort.samples
    frame = pd.DataFrame({"PATIENT_ID": samples["patient_id"].to_numpy(),
                          "SAMPLE_ID": samples.index})
    for rule in _writable(SAMPLE_FIELDS):
        if samples[rule.field].notna().any():
            frame[rule.sources[0]] = samples[rule.field].to_numpy()
    _write(out / "data_clinical_sample.txt", frame)
    _meta(out / "meta_clinical_sample.txt", cancer_study_identifier=study_id,
          genetic_alteration_type="CLINICAL", datatype="SAMPLE_ATTRIBUTES",
          data_filename="data_clinical_sample.txt")
    matrix = pd.DataFrame({"SAMPLE_ID": samples.index,
                           "mutations": samples["mutation_panel"].fillna("NA").to_numpy(),
                           "cna": samples["cna_panel"].fillna("NA").to_numpy()})
    _write(out / "data_gene_matrix.txt", matrix)
    _meta(out / "meta_gene_matrix.txt", cancer_study_identifier=study_id,
          genetic_alteration_type="GENE_PANEL_MATRIX", datatype="GENE_PANEL_MATRIX",
          data_filename="data_gene_matrix.txt")


def _write_mutations(cohort: Cohort, out: Path, study_id: str) -> None:
    muts = cohort.mutations
    change = muts["protein_change"].astype("string")
    frame = pd.DataFrame({
        "Hugo_Symbol": muts["gene"].to_numpy(),
        "Variant_Classification": muts["variant_classification"].to_numpy(),
        "Tumor_Sample_Barcode": muts["sample_id"].to_numpy(),
        "HGVSp_Short": ("p." + change).to_numpy(),
        "VAF": muts["vaf"].to_numpy(),
    })
    _write(out / "data_mutations_extended.txt", frame)
    _meta(out / "meta_mutations_extended.txt", cancer_study_identifier=study_id,
          genetic_alteration_type="MUTATION_EXTENDED", datatype="MAF", stable_id="mutations",
          show_profile_in_analysis_tab="true", profile_name="Mutations",
          profile_description="Mutations", data_filename="data_mutations_extended.txt")


def _write_copy_number(cohort: Cohort, out: Path, study_id: str) -> None:
    """Discrete CNA matrix over the CNA-profiled samples; NA where the panel lacks the gene."""
    profiled = cohort.samples[cohort.samples["cna_panel"].notna()]
    if profiled.empty:
        return
    calls = cohort.copy_number.astype({"level": float})
    genes = sorted(set(calls["gene"]))
    matrix = (calls.pivot(index="gene", columns="sample_id", values="level")
              .reindex(index=genes, columns=profiled.index).fillna(0.0))
    matrix.index.name = "Hugo_Symbol"
    panel_genes = cohort.panels.groupby("panel_id")["gene"].agg(set).to_dict()
    for panel, members in profiled.groupby("cna_panel", observed=True).groups.items():
        if panel != WHOLE_EXOME_PANEL:
            off_panel = [g for g in genes if g not in panel_genes.get(panel, set())]
            matrix.loc[off_panel, list(members)] = np.nan
    text = matrix.astype(object).where(matrix.notna(), "NA")
    text = text.map(lambda v: v if v == "NA" else repr(float(v)).removesuffix(".0"))
    _write(out / "data_cna.txt", text.reset_index())
    _meta(out / "meta_CNA.txt", cancer_study_identifier=study_id,
          genetic_alteration_type="COPY_NUMBER_ALTERATION", datatype="DISCRETE",
          stable_id="cna", show_profile_in_analysis_tab="true", profile_name="Copy number",
          profile_description="Discrete copy-number calls", data_filename="data_cna.txt")


def _write_panels(cohort: Cohort, out: Path, study_id: str) -> None:
    for panel, genes in cohort.panels.groupby("panel_id", sort=True)["gene"]:
        (out / f"data_gene_panel_{panel}.txt").write_text(
            f"stable_id: {panel}\ndescription: gene panel {panel} of {study_id}\n"
            f"gene_list: {chr(9).join(genes)}\n", encoding="utf-8")


def _write_treatments(cohort: Cohort, out: Path, study_id: str) -> None:
    lines = cohort.treatments
    if lines.empty:
        return
    days = lambda months: np.round(months_to_days(months.astype(float))).astype("Int64")  # noqa: E731
    frame = pd.DataFrame({
        "PATIENT_ID": lines["patient_id"].to_numpy(),
        "START_DATE": days(lines["start_months"]).to_numpy(),
        "STOP_DATE": days(lines["stop_months"]).to_numpy(),
        "EVENT_TYPE": "TREATMENT",
        "LINE": lines["line"].to_numpy(),
        "SETTING": lines["setting"].to_numpy(),
        "THERAPY_CLASS": lines["therapy_class"].to_numpy(),
        "AGENT": lines["agent"].to_numpy(),
        "REASON_STOPPED": lines["reason_stopped"].to_numpy(),
    })
    _write(out / "data_timeline_treatment.txt", frame)
    _meta(out / "meta_timeline_treatment.txt", cancer_study_identifier=study_id,
          genetic_alteration_type="CLINICAL", datatype="TIMELINE",
          data_filename="data_timeline_treatment.txt")
