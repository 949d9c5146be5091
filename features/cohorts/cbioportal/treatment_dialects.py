"""Treatment histories written the way real studies record them, for the round-trip tests of
the timeline reader and the line rules (``mbcrisk synth --dialect clinicogenomic``).

``clinicogenomic``: a standard cBioPortal study whose treatment timeline has one row per agent
(``TREATMENT_TYPE``, ``SUBTYPE``, ``AGENT`` in upper case, no line or class columns), with a
progression timeline (assessments ``Y``/``N``), a status timeline (the metastatic recurrence)
and a specimen timeline (the day each sample was taken; the sample file carries no collection
time). Each metastatic line's agents are concrete drugs chosen by its therapy class and how
many lines of that class the patient had before (a regimen is not repeated unchanged after
progression), so the lines the rules derive are the generator's lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.cohorts.cbioportal.study_tables import read_frame, write_frame, write_meta
from features.cohorts.cohort import Cohort
from features.cohorts.units import months_to_days

#: Agents of the k-th metastatic line of each therapy class (the last repeats).
METASTATIC_REGIMENS = {
    "endocrine": ("FULVESTRANT", "EXEMESTANE", "TAMOXIFEN"),
    "endocrine_cdk46": ("LETROZOLE+PALBOCICLIB", "FULVESTRANT+ABEMACICLIB"),
    "anti_her2": ("TRASTUZUMAB+PERTUZUMAB+DOCETAXEL", "TRASTUZUMAB DERUXTECAN",
                  "TRASTUZUMAB EMTANSINE", "LAPATINIB+CAPECITABINE"),
    "chemotherapy": ("ERIBULIN", "VINORELBINE", "GEMCITABINE", "PACLITAXEL", "CAPECITABINE",
                     "PEGYLATED LIPOSOMAL DOXORUBICIN"),
    "pi3k_akt_mtor": ("ALPELISIB+FULVESTRANT", "CAPIVASERTIB+FULVESTRANT"),
    "parp": ("OLAPARIB",),
    "immunotherapy": ("PEMBROLIZUMAB+PACLITAXEL",),
}
#: The synthetic cohort's adjuvant regimens, as agents.
ADJUVANT_AGENTS = {"anthracycline-taxane": "DOXORUBICIN+CYCLOPHOSPHAMIDE+PACLITAXEL"}
SUBTYPES = {"endocrine": "Hormone Therapy", "endocrine_cdk46": "Targeted Therapy",
            "anti_her2": "Targeted Therapy", "chemotherapy": "Chemotherapy",
            "pi3k_akt_mtor": "Targeted Therapy", "parp": "Targeted Therapy",
            "immunotherapy": "Immunotherapy"}
#: Days after a metastatic line's start of an assessment showing no progression (when the
#: line was still going on then).
ASSESSMENT_DAYS = 56
CLINICOGENOMIC_LOSS = ("agent names (concrete drugs instead of the generator's labels) and each "
                       "metastatic line's stop (the next line's start, not the progression date: "
                       "progression is dated by the progression timeline)")


def write_clinicogenomic(out: Path, cohort: Cohort) -> None:
    """Rewrite the standard study in ``out`` into the clinicogenomic dialect."""
    study = read_meta_study_id(out)
    _write_agents(out, cohort, study)
    _write_progression(out, cohort, study)
    _write_status(out, cohort, study)
    _write_specimens(out, cohort, study)


def read_meta_study_id(out: Path) -> str:
    for line in (out / "meta_study.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("cancer_study_identifier:"):
            return line.split(":", 1)[1].strip()
    return out.name


def _days(months: pd.Series) -> pd.Series:
    values = pd.to_numeric(months, errors="coerce").astype("Float64").astype(float)
    return pd.Series(np.round(months_to_days(values)), index=months.index).astype("Int64")


def _timeline_meta(out: Path, study: str, name: str) -> None:
    write_meta(out / f"meta_timeline_{name}.txt", cancer_study_identifier=study,
               genetic_alteration_type="CLINICAL", datatype="TIMELINE",
               data_filename=f"data_timeline_{name}.txt")


def _agents_of_lines(lines: pd.DataFrame) -> pd.Series:
    """The agents of each line: adjuvant labels as drugs; metastatic lines by class and the
    number of earlier metastatic lines of that class."""
    agents = lines["agent"].astype("object").str.upper()
    adjuvant = lines["setting"] != "metastatic"
    agents[adjuvant] = lines.loc[adjuvant, "agent"].map(
        lambda a: ADJUVANT_AGENTS.get(a, str(a).upper()))
    metastatic = lines[~adjuvant].sort_values(["patient_id", "start_months", "line"])
    order = metastatic.groupby(["patient_id", "therapy_class"]).cumcount()
    for index, therapy, k in zip(metastatic.index, metastatic["therapy_class"], order,
                                 strict=True):
        choices = METASTATIC_REGIMENS.get(therapy, ("UNLISTED AGENT",))
        agents[index] = choices[min(k, len(choices) - 1)]
    return agents


def _write_agents(out: Path, cohort: Cohort, study: str) -> None:
    lines = cohort.treatments
    agents = _agents_of_lines(lines)
    rows = []
    for index, line in lines.iterrows():
        for agent in agents[index].split("+"):
            rows.append({"PATIENT_ID": line["patient_id"], "START_DATE": line["start_months"],
                         "STOP_DATE": line["stop_months"], "EVENT_TYPE": "Treatment",
                         "TREATMENT_TYPE": "Medical Therapy",
                         "SUBTYPE": SUBTYPES.get(line["therapy_class"], "Other"),
                         "AGENT": agent})
    frame = pd.DataFrame(rows)
    frame["START_DATE"] = _days(frame["START_DATE"])
    frame["STOP_DATE"] = _days(frame["STOP_DATE"])
    write_frame(out / "data_timeline_treatment.txt", frame)


def _write_progression(out: Path, cohort: Cohort, study: str) -> None:
    lines = cohort.treatments[cohort.treatments["setting"] == "metastatic"]
    progressed = lines[lines["reason_stopped"] == "progression"]
    start_days = _days(lines["start_months"])
    stop_days = _days(lines["stop_months"])
    assessed = start_days + ASSESSMENT_DAYS
    stable = (stop_days.isna() | (assessed < stop_days)).fillna(False).to_numpy(dtype=bool)
    frame = pd.concat([
        pd.DataFrame({"PATIENT_ID": progressed["patient_id"].to_numpy(),
                      "START_DATE": _days(progressed["stop_months"]).to_numpy(),
                      "PROGRESSION": "Y"}),
        pd.DataFrame({"PATIENT_ID": lines["patient_id"].to_numpy()[stable],
                      "START_DATE": assessed.to_numpy()[stable], "PROGRESSION": "N"}),
    ], ignore_index=True).sort_values(["PATIENT_ID", "START_DATE"], kind="stable")
    frame.insert(2, "STOP_DATE", "")
    frame.insert(3, "EVENT_TYPE", "PROGRESSION")
    write_frame(out / "data_timeline_progression.txt", frame)
    _timeline_meta(out, study, "progression")


def _write_status(out: Path, cohort: Cohort, study: str) -> None:
    """A metastatic-recurrence status event at each relapse (the synthetic relapses are
    distant)."""
    if "rfs" not in cohort.endpoints:
        return
    rfs = cohort.endpoint("rfs")
    relapsed = rfs[rfs["event"].fillna(False).astype(bool)]
    frame = pd.DataFrame({"PATIENT_ID": relapsed.index.to_numpy(),
                          "START_DATE": _days(relapsed["time_months"]).to_numpy(),
                          "STOP_DATE": "", "EVENT_TYPE": "STATUS",
                          "STATUS": "Metastatic recurrence"})
    write_frame(out / "data_timeline_status.txt", frame)
    _timeline_meta(out, study, "status")


def _write_specimens(out: Path, cohort: Cohort, study: str) -> None:
    """The day each sample was taken, as specimen events; the sample file loses its time."""
    samples = cohort.samples[cohort.samples["collection_months"].notna()]
    frame = pd.DataFrame({"PATIENT_ID": samples["patient_id"].to_numpy(),
                          "START_DATE": _days(samples["collection_months"]).to_numpy(),
                          "STOP_DATE": "", "EVENT_TYPE": "SPECIMEN",
                          "SAMPLE_ID": samples.index.to_numpy(),
                          "SPECIMEN_SITE": samples["site"].fillna("").to_numpy()})
    write_frame(out / "data_timeline_specimen.txt", frame)
    _timeline_meta(out, study, "specimen")
    sample_file = out / "data_clinical_sample.txt"
    table = read_frame(sample_file)
    write_frame(sample_file, table.drop(columns=["COLLECTION_MONTHS"], errors="ignore"))


LINE_SUMMARY_LOSS = ("one documented line per patient (the first metastatic line): other lines, "
                     "early-setting therapy and the timeline are not given, so labels drawn on "
                     "other lines (progression on a later line, resistance whose first endocrine "
                     "line was not the first line) are lost, counted as patients without a line")


def write_line_summary(out: Path, cohort: Cohort) -> None:
    """Rewrite the standard study in ``out`` as a real-world cohort's per-line summary: the
    first metastatic line's start, number, agents and prior-exposure flags (none before a
    first line) as patient attributes, its
    progression-free survival as ``PFS_MONTHS``/``PFS_STATUS``, biopsies timed from its start;
    no treatment timeline."""
    lines = cohort.treatments
    first = (lines[lines["setting"] == "metastatic"].sort_values(["patient_id", "line"])
             .groupby("patient_id").first())
    patient_file = out / "data_clinical_patient.txt"
    patients = read_frame(patient_file)
    by_patient = patients["PATIENT_ID"]
    patients["LINE_START_MONTHS"] = by_patient.map(first["start_months"].astype(float))
    patients["LINE_NUMBER"] = by_patient.map(first["line"]).astype("Int64")
    patients["LINE_AGENTS"] = by_patient.map(first["therapy_class"].map(
        lambda c: METASTATIC_REGIMENS.get(c, ("UNLISTED AGENT",))[0]))
    for flag in ("PRIOR_ENDOCRINE_METASTATIC", "PRIOR_CDK46_INHIBITOR"):  # a first line
        patients[flag] = by_patient.map(first["line"].map(lambda _: "No"))
    patients = patients.rename(columns={"PFS1_MONTHS": "PFS_MONTHS",
                                        "PFS1_STATUS": "PFS_STATUS"})
    write_frame(patient_file, patients)
    sample_file = out / "data_clinical_sample.txt"
    samples = read_frame(sample_file)
    start = samples["PATIENT_ID"].map(first["start_months"].astype(float))
    collected = pd.to_numeric(samples.get("COLLECTION_MONTHS"), errors="coerce")
    has_line = start.notna()
    samples["MONTHS_FROM_LINE_START"] = (collected - start).where(has_line)
    samples["COLLECTION_MONTHS"] = collected.where(~has_line)
    write_frame(sample_file, samples)
    for name in ("data_timeline_treatment.txt", "meta_timeline_treatment.txt"):
        (out / name).unlink(missing_ok=True)
