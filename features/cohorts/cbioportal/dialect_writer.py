"""A cohort written in the conventions of other studies, to test that every dialect the alias
table claims is read back (``mbcrisk synth --dialect``).

Each dialect starts from the standard study folder of :func:`write_cbioportal_study` and
rewrites it the way that kind of study is found in the wild. What a dialect cannot carry is its
documented loss (:data:`DIALECT_LOSSES`): the round-trip tests compare everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from features.cohorts.cbioportal.study_tables import read_frame, write_frame
from features.cohorts.cbioportal.treatment_dialects import (
    CLINICOGENOMIC_LOSS,
    LINE_SUMMARY_LOSS,
    write_clinicogenomic,
    write_line_summary,
)
from features.cohorts.cbioportal.writer import write_cbioportal_study
from features.cohorts.cohort import Cohort

#: What each dialect cannot carry, so loads back differently from the standard folder.
DIALECT_LOSSES: dict[str, str] = {
    "cbioportal": "nothing",
    "metabric": "grade, stage and tumour size are kept per sample (as METABRIC does), so a "
                "patient without a primary sample has none",
    "tcga": "tumour size and positive-node counts are written as T and N categories (T1-T3 by "
            "size, N0-N3 by nodes), so the counts are lost and the categories added",
    "genie": "panels are named by ID only (inferred from the data: a gene never altered is "
             "unknown); collection times come from ages at sequencing (within 0.001 months)",
    "clinical": "no samples, genomics or treatment lines: a clinical-only export",
    "clinicogenomic": CLINICOGENOMIC_LOSS,
    "line_summary": LINE_SUMMARY_LOSS,
}
DIALECTS = tuple(DIALECT_LOSSES)

PATIENT, SAMPLE = "data_clinical_patient.txt", "data_clinical_sample.txt"
_MISSING = {"tcga": "[Not Available]", "genie": "Unk/ND"}


def write_study_dialect(cohort: Cohort, folder: str | Path, dialect: str) -> Path:
    """Write ``cohort`` into ``folder`` as a study of ``dialect`` (one of :data:`DIALECTS`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    out = write_cbioportal_study(cohort, folder)
    if dialect != "cbioportal":
        _REWRITE[dialect](out, cohort)
    return out


def _metabric(out: Path, cohort: Cohort) -> None:
    patients, samples = read_frame(out / PATIENT), read_frame(out / SAMPLE)
    moved = {"GRADE": "GRADE", "TUMOR_STAGE": "TUMOR_STAGE", "TUMOR_SIZE": "TUMOR_SIZE"}
    primary = samples.loc[samples["SAMPLE_TYPE"] == "primary"].drop_duplicates("PATIENT_ID")
    by_patient = patients.set_index("PATIENT_ID")
    for column in moved:
        if column in by_patient:
            samples[column] = samples["SAMPLE_ID"].map(
                primary.set_index("SAMPLE_ID")["PATIENT_ID"].map(by_patient[column])
            ).fillna("")
    patients = patients.drop(columns=[c for c in moved if c in patients])
    patients["ER_IHC"] = patients["ER_IHC"].replace({"positive": "Positve",
                                                     "negative": "Negative"})
    for name in cohort.endpoints:
        status = f"{name.upper()}_STATUS"
        patients[status] = patients[status].replace({"1:Event": "1:Recurred",
                                                     "0:Censored": "0:Not Recurred"})
    write_frame(out / PATIENT, patients)
    write_frame(out / SAMPLE, samples)


def _t_category(size_mm: pd.Series) -> pd.Series:
    size = pd.to_numeric(size_mm, errors="coerce")
    category = np.select([size <= 20, size <= 50, size > 50], ["T1", "T2", "T3"], default="TX")
    return pd.Series(category, index=size_mm.index)


def _n_category(nodes: pd.Series) -> pd.Series:
    count = pd.to_numeric(nodes, errors="coerce")
    category = np.select([count == 0, count <= 3, count <= 9, count >= 10],
                         ["N0", "N1a", "N2", "N3"], default="NX")
    return pd.Series(category, index=nodes.index)


_TCGA_NAMES = {
    "PATIENT_ID": "Patient ID", "AGE_AT_DIAGNOSIS": "Diagnosis Age", "SEX": "Sex",
    "INFERRED_MENOPAUSAL_STATE": "Menopause Status", "ER_IHC": "ER Status By IHC",
    "PR_STATUS": "PR status by ihc", "HER2_STATUS": "HER2 Final Status",
    "CLAUDIN_SUBTYPE": "Subtype", "HISTOLOGICAL_SUBTYPE": "Histology",
    "GRADE": "Neoplasm Histologic Grade",
    "TUMOR_STAGE": "Neoplasm Disease Stage American Joint Committee on Cancer Code",
}
_TCGA_SUBTYPES = {"luminal_a": "BRCA_LumA", "luminal_b": "BRCA_LumB",
                  "her2_enriched": "BRCA_Her2", "basal": "BRCA_Basal",
                  "normal_like": "BRCA_Normal", "claudin_low": "Claudin-low"}
_ENDPOINT_DISPLAY = {"rfs": "Relapse Free Status", "os": "Overall Survival"}


def _tcga(out: Path, cohort: Cohort) -> None:
    patients = read_frame(out / PATIENT)
    if "TUMOR_SIZE" in patients:
        patients["PATH_T_STAGE"] = _t_category(patients.pop("TUMOR_SIZE"))
    if "LYMPH_NODES_EXAMINED_POSITIVE" in patients:
        patients["PATH_N_STAGE"] = _n_category(patients.pop("LYMPH_NODES_EXAMINED_POSITIVE"))
    if "DE_NOVO_METASTATIC" in patients:
        patients["PATH_M_STAGE"] = patients.pop("DE_NOVO_METASTATIC").map(
            {"YES": "M1", "NO": "M0"}).fillna("MX")
    if "TUMOR_STAGE" in patients:
        patients["TUMOR_STAGE"] = patients["TUMOR_STAGE"].map(
            lambda s: f"STAGE {['0', 'I', 'II', 'III', 'IV'][int(float(s))]}" if s else "")
    if "CLAUDIN_SUBTYPE" in patients:
        patients["CLAUDIN_SUBTYPE"] = patients["CLAUDIN_SUBTYPE"].map(_TCGA_SUBTYPES).fillna("")
    names = dict(_TCGA_NAMES)
    for name in cohort.endpoints:
        display = _ENDPOINT_DISPLAY.get(name, name.upper())
        names[f"{name.upper()}_MONTHS"] = f"{display} (Months)"
        names[f"{name.upper()}_STATUS"] = (display if display.endswith("Status")
                                           else f"{display} Status")
    patients = patients.rename(columns=names)
    shown = list(patients.columns)  # the display-name header lines of a portal export
    header = ["#" + "\t".join(shown), "#" + "\t".join(shown),
              "#" + "\t".join("STRING" for _ in shown), "#" + "\t".join("1" for _ in shown)]
    write_frame(out / PATIENT, patients, missing=_MISSING["tcga"], header=header)


def _genie(out: Path, cohort: Cohort) -> None:
    for panel_file in out.glob("data_gene_panel_*.txt"):
        panel_file.unlink()
    patients, samples = read_frame(out / PATIENT), read_frame(out / SAMPLE)
    age = pd.to_numeric(patients.set_index("PATIENT_ID")["AGE_AT_DIAGNOSIS"], errors="coerce")
    months = pd.to_numeric(samples.pop("COLLECTION_MONTHS"), errors="coerce")
    at_sequencing = age.reindex(samples["PATIENT_ID"]).to_numpy() + months.to_numpy() / 12.0
    samples["AGE_AT_SEQUENCING"] = [f"{v:.6f}" if np.isfinite(v) else "" for v in at_sequencing]
    samples = samples.rename(columns={"ER_STATUS": "ER_STATUS_OF_SEQUENCED_SAMPLE",
                                      "PR_STATUS": "PR_STATUS_OF_SEQUENCED_SAMPLE",
                                      "HER2_STATUS": "HER2_STATUS_OF_SEQUENCED_SAMPLE"})
    patients = patients.rename(columns={"ER_IHC": "ER_STATUS_PRIMARY",
                                        "HER2_STATUS": "HER2_PRIMARY"})
    if "GRADE" in patients:
        patients["GRADE"] = patients["GRADE"].map(
            lambda g: ["", "I", "II", "III"][int(float(g))] if g else "")
    write_frame(out / PATIENT, patients, missing=_MISSING["genie"], newline="\r\n")
    write_frame(out / SAMPLE, samples, missing=_MISSING["genie"], newline="\r\n")
    for path in out.glob("data_*.txt"):
        if path.name not in (PATIENT, SAMPLE):
            path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def _clinical(out: Path, cohort: Cohort) -> None:
    for path in out.iterdir():
        if path.name not in (PATIENT, "meta_clinical_patient.txt", "meta_study.txt"):
            path.unlink()


_REWRITE: dict[str, Callable[[Path, Cohort], None]] = {
    "metabric": _metabric, "tcga": _tcga, "genie": _genie, "clinical": _clinical,
    "clinicogenomic": write_clinicogenomic, "line_summary": write_line_summary}
