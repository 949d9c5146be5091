"""Endpoint labels: relapse (time to event) and resistance to a therapy class.

Every task has a time origin; only samples taken at or before it are eligible for features (see
``CLINICAL.md``, "Time origin and leakage"). Every patient left out of a task is counted with
the reason, like the loaders do.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.cohorts.cohort import Cohort
from features.cohorts.report import Exclusion
from features.line_outcomes import line_outcomes
from features.therapies import RESISTANCE_LABELS
from features.time_origin import DIAGNOSIS_SAMPLE_TYPES, TimeOrigin, eligible_samples

#: Endpoints that mean "relapse", in order of preference when none is named.
RELAPSE_ENDPOINTS = ("rfs", "dfs", "drfs", "dmfs", "ifs", "efs")
#: METABRIC proxy horizon: relapse within 24 months of diagnosis.
PROXY_HORIZON_MONTHS = 24.0


@dataclass
class Labels:
    """The outcome of one task for the patients it keeps.

    ``y`` (index ``patient_id``) has ``time_months`` and ``event`` (True = event) for every task,
    and ``label`` (1 = resistant, 0 = not) for resistance tasks. ``origin_months`` is each
    patient's time origin in months from diagnosis; ``eligible_sample_types`` and the origin
    decide which samples may feed features. Higher risk means worse throughout.
    """

    task: str
    kind: str  # "survival" or "binary"
    definition: str
    origin: str
    y: pd.DataFrame
    origin_months: pd.Series
    eligible_sample_types: tuple[str, ...]
    exclusions: list[Exclusion] = field(default_factory=list)
    proxy: bool = False
    horizon_months: float | None = None
    #: Samples of the labelled patients that may not feed features (taken after the origin,
    #: or of a type the origin does not use: the leakage rule), counted.
    samples_not_used: int = 0

    @property
    def time_origin(self) -> TimeOrigin:
        """The origin of this task's patients, for building their features."""
        return TimeOrigin(self.origin, self.origin_months, self.eligible_sample_types)

    @property
    def n_events(self) -> int:
        """Events (survival) or positives (binary)."""
        column = "label" if self.kind == "binary" else "event"
        return int(self.y[column].sum())

    def exclude(self, reason: str, patients: pd.Index) -> pd.Index:
        """Record ``patients`` as excluded for ``reason``; return them."""
        if len(patients):
            self.exclusions.append(Exclusion(f"labels.{self.task}", reason, len(patients)))
        return patients


def survival_target(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """A structured array with ``event`` (bool) and ``time`` (float, months) fields."""
    target = np.empty(len(time), dtype=[("event", bool), ("time", float)])
    target["event"] = np.asarray(event, dtype=bool)
    target["time"] = np.asarray(time, dtype=float)
    return target


def relapse_labels(cohort: Cohort, endpoint: str | None = None) -> Labels:
    """Relapse from diagnosis on ``endpoint`` (default: the cohort's relapse-type endpoint).

    Excludes, with counts: patients without the endpoint's time or status, patients metastatic
    at diagnosis (no relapse-free interval), and, when the cohort has genomic samples, patients
    with no primary-tumour sample (the only samples known at diagnosis).
    """
    name = endpoint or next((e for e in RELAPSE_ENDPOINTS if e in cohort.endpoints), None)
    if name is None:
        raise ValueError(f"no relapse endpoint in this cohort (endpoints: {cohort.endpoints}); "
                         f"name one of them")
    frame = cohort.endpoint(name)
    labels = Labels(
        task="relapse", kind="survival",
        definition=f"time from diagnosis to {name.upper()} event (months); censored otherwise",
        origin="diagnosis", y=pd.DataFrame(), origin_months=pd.Series(dtype=float),
        eligible_sample_types=DIAGNOSIS_SAMPLE_TYPES,
    )
    keep = cohort.patients.index
    de_novo = _de_novo(cohort)
    labels.exclude(DE_NOVO_REASON, keep[de_novo])
    keep = keep[~de_novo]
    known = frame.reindex(keep)
    missing = known["time_months"].isna() | known["event"].isna()
    labels.exclude(f"{name} time or status missing", keep[missing.to_numpy()])
    keep = keep[~missing.to_numpy()]
    keep = _require_eligible_sample(cohort, labels, keep, pd.Series(0.0, index=keep))
    labels.y = pd.DataFrame({"time_months": frame.loc[keep, "time_months"].astype(float),
                             "event": frame.loc[keep, "event"].astype(bool)})
    labels.origin_months = pd.Series(0.0, index=keep)
    return labels


def resistance_labels(cohort: Cohort, therapy: str = "endocrine") -> Labels:
    """Resistance to ``therapy``: the ABC definition on dated treatment lines when the cohort
    has them; otherwise, for endocrine therapy, the documented METABRIC proxy."""
    if therapy not in RESISTANCE_LABELS:
        raise ValueError(f"unknown therapy {therapy!r}; choose from "
                         f"{sorted(RESISTANCE_LABELS)}")
    dated = _dated_metastatic_lines(cohort, therapy)
    if len(dated):
        return _resistance_on_lines(cohort, therapy, dated)
    if therapy == "endocrine":
        return _endocrine_resistance_proxy(cohort)
    raise ValueError(f"no dated metastatic {therapy} lines in this cohort: resistance to "
                     f"{therapy} cannot be labelled")


class TaskNotApplicable(ValueError):
    """The cohort lacks what a task's labels need (dated treatment lines, an endpoint)."""


def labels_for_task(cohort: Cohort, task: str, endpoint: str | None = None) -> Labels:
    """Labels of a task by its name: ``relapse`` (on ``endpoint``, default the cohort's
    relapse-type endpoint), ``progression`` or ``resistance_<therapy>``; the one mapping from
    a task's name (a bundle's ``task``, a config's ``task_name``) to its labels."""
    if task == "relapse":
        return relapse_labels(cohort, endpoint)
    if task == "progression":
        return progression_labels(cohort)
    if task.startswith("resistance_"):
        return resistance_labels(cohort, task.removeprefix("resistance_"))
    raise ValueError(f"unknown task {task!r}; expected relapse, progression or "
                     "resistance_<therapy>")


#: The progression task's time origin, for people (and the bundle).
PROGRESSION_ORIGIN = "start of the current metastatic line"
#: Sample types that may inform a prediction at a metastatic line.
LINE_SAMPLE_TYPES = ("primary", "metastasis", "recurrence", "ctdna")


def progression_labels(cohort: Cohort) -> Labels:
    """Progression on a metastatic line: time from the line's start to progression or death
    (months), censored when the line stopped for another reason or at the end of follow-up.

    One line per patient, so folds stay patient-level: the index line is drawn among the
    patient's dated metastatic lines (any therapy class) by a hash of the patient's identifier
    (reproducible, independent of the cohort's order), so later lines are represented as they
    are in clinic. Excludes, with counts: patients without a dated metastatic line, lines of
    unknown end (no stop date and no follow-up), lines of no duration, and (when the cohort has
    genomic samples) patients with no profiled sample known at the line's start.
    """
    labels = Labels(
        task="progression", kind="survival",
        definition=("time from the start of a metastatic treatment line to progression or "
                    "death (months); censored when the line stopped for another reason or at "
                    "the end of follow-up"),
        origin=PROGRESSION_ORIGIN, y=pd.DataFrame(), origin_months=pd.Series(dtype=float),
        eligible_sample_types=LINE_SAMPLE_TYPES,
    )
    lines = cohort.treatments
    dated = lines[(lines["setting"] == "metastatic") & lines["start_months"].notna()]
    if dated.empty:
        raise TaskNotApplicable("no dated metastatic treatment lines in this cohort: "
                                "progression on a line cannot be labelled")
    labels.exclude("no dated metastatic line", cohort.patients.index.difference(
        pd.Index(dated["patient_id"].unique())))
    index_lines = _index_lines(dated)
    start = index_lines["start_months"].astype(float)
    outcome = line_outcomes(cohort, index_lines)
    event = outcome["event"].to_numpy()
    duration = (outcome["time_months"] - start).to_numpy()
    unknown = np.isnan(duration)
    labels.exclude("line end unknown (no stop date, no follow-up)", index_lines.index[unknown])
    empty = ~unknown & (duration <= 0)
    labels.exclude("line of no duration", index_lines.index[empty])
    keep = index_lines.index[~unknown & ~empty]
    keep = _require_eligible_sample(cohort, labels, keep, start.loc[keep])
    position = index_lines.index.get_indexer(keep)
    labels.y = pd.DataFrame({"time_months": duration[position], "event": event[position]},
                            index=keep)
    labels.origin_months = start.loc[keep]
    return labels


def _index_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """One line per patient (index ``patient_id``), drawn by a hash of the identifier."""
    ordered = lines.sort_values(["patient_id", "start_months", "line"])
    counts = ordered.groupby("patient_id", sort=False).size()
    draw = np.array([zlib.crc32(str(p).encode()) for p in counts.index], dtype=np.int64)
    chosen = pd.Series(draw % counts.to_numpy(), index=counts.index)
    rank = ordered.groupby("patient_id", sort=False).cumcount().to_numpy()
    picked = ordered[rank == chosen.reindex(ordered["patient_id"]).to_numpy()]
    return picked.set_index("patient_id")


def _current_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Each patient's most recent line among ``lines`` (index ``patient_id``)."""
    return lines.sort_values(["patient_id", "start_months", "line"]).groupby(
        "patient_id", sort=False).last()


def _resistance_on_lines(cohort: Cohort, therapy: str, lines: pd.DataFrame) -> Labels:
    label = RESISTANCE_LABELS[therapy]
    horizon = label.horizon_months
    line = ("line with a CDK4/6 inhibitor" if label.classes == ("endocrine_cdk46",)
            else f"{therapy} line")
    if label.abc:
        definition = (f"primary resistance (ESO-ESMO ABC): progression within {horizon:g} "
                      f"months of starting the first metastatic {line} = 1; secondary "
                      f"resistance (progression after {horizon:g} months or more) or no "
                      f"progression by {horizon:g} months = 0"
                      + ("; a line with a CDK4/6 inhibitor counts as endocrine-based (the "
                         "definition predates them)" if therapy == "endocrine" else ""))
    else:
        definition = (f"progression within {horizon:g} months of starting the first metastatic "
                      f"{line} = 1; no progression by {horizon:g} months = 0 (the line's own "
                      "early progression, not an ESO-ESMO ABC definition)")
    labels = Labels(
        task=f"resistance_{therapy}", kind="binary", definition=definition,
        origin=f"start of the first metastatic {line}", y=pd.DataFrame(),
        origin_months=pd.Series(dtype=float), eligible_sample_types=(
            "primary", "metastasis", "recurrence", "ctdna"),
        horizon_months=horizon,
    )
    first = _first_lines(lines)
    untreated = cohort.patients.index.difference(first.index)
    labels.exclude(f"no metastatic {therapy} line", untreated)
    if label.abc:
        unseen = _earlier_undated_line(cohort, therapy, first)
        labels.exclude(f"an earlier metastatic {therapy} line without a date (a prior-exposure "
                       "flag, or a later documented line of unknown history): the first line "
                       "is not observed", first.index[unseen])
        first = first[~unseen]
    start = first["start_months"].astype(float)
    outcome = line_outcomes(cohort, first)
    progressed = outcome["progressed"].to_numpy()
    duration = (outcome["time_months"] - start).to_numpy()
    resistant = progressed & (duration <= horizon)
    sensitive = duration > horizon
    died = outcome["died"].to_numpy()
    unknown = ~resistant & ~sensitive
    labels.exclude(f"died within {horizon:g} months without progression",
                   first.index[unknown & died])
    labels.exclude(f"follow-up or therapy ended within {horizon:g} months without progression",
                   first.index[unknown & ~died])
    keep = first.index[~unknown]
    keep = _require_eligible_sample(cohort, labels, keep, start.loc[keep])
    labels.y = pd.DataFrame({
        "label": resistant[first.index.get_indexer(keep)].astype(int),
        "time_months": pd.Series(duration, index=first.index).loc[keep].clip(lower=0.0),
        "event": pd.Series(progressed, index=first.index).loc[keep],
    }, index=keep)
    labels.origin_months = start.loc[keep]
    return labels


def _endocrine_resistance_proxy(cohort: Cohort) -> Labels:
    horizon = PROXY_HORIZON_MONTHS
    name = next((e for e in RELAPSE_ENDPOINTS if e in cohort.endpoints), None)
    if name is None:
        raise ValueError("no dated endocrine lines and no relapse endpoint: endocrine "
                         "resistance cannot be labelled")
    labels = Labels(
        task="resistance_endocrine", kind="binary",
        definition=(f"PROXY of primary endocrine resistance, not the ESO-ESMO ABC definition "
                    f"(no therapy dates): {name.upper()} event within {horizon:g} months of "
                    f"diagnosis = 1, no event by {horizon:g} months = 0, among ER-positive "
                    f"patients who received endocrine therapy"),
        origin="diagnosis", y=pd.DataFrame(), origin_months=pd.Series(dtype=float),
        eligible_sample_types=DIAGNOSIS_SAMPLE_TYPES, proxy=True, horizon_months=horizon,
    )
    patients = cohort.patients
    population = _proxy_population(cohort)
    labels.exclude(PROXY_POPULATION_REASON, patients.index[~population])
    keep = patients.index[population]
    frame = cohort.endpoint(name).reindex(keep)
    missing = (frame["time_months"].isna() | frame["event"].isna()).to_numpy()
    labels.exclude(f"{name} time or status missing", keep[missing])
    keep, frame = keep[~missing], frame[~missing]
    time, event = frame["time_months"].astype(float), frame["event"].astype(bool)
    positive = (event & (time <= horizon)).to_numpy()
    negative = (time > horizon).to_numpy()
    labels.exclude(f"censored before {horizon:g} months", keep[~positive & ~negative])
    keep = keep[positive | negative]
    keep = _require_eligible_sample(cohort, labels, keep, pd.Series(0.0, index=keep))
    labels.y = pd.DataFrame({"label": (event & (time <= horizon)).loc[keep].astype(int),
                             "time_months": time.loc[keep], "event": event.loc[keep]})
    labels.origin_months = pd.Series(0.0, index=keep)
    return labels


#: Why a relapse model does not score a patient.
DE_NOVO_REASON = "metastatic at diagnosis: no relapse-free interval"
#: Why the endocrine-resistance proxy does not score a patient.
PROXY_POPULATION_REASON = "not ER-positive with endocrine therapy"


def _de_novo(cohort: Cohort) -> np.ndarray:
    return cohort.patients["de_novo_metastatic"].fillna(False).astype(bool).to_numpy()


def _proxy_population(cohort: Cohort) -> np.ndarray:
    patients = cohort.patients
    return ((patients["er_status"] == "positive").fillna(False)
            & patients["received_endocrine"].fillna(False)).to_numpy(dtype=bool)


def _dated_metastatic_lines(cohort: Cohort, therapy: str) -> pd.DataFrame:
    lines = _metastatic_lines_of(cohort, therapy)
    return lines[lines["start_months"].notna()]


def _metastatic_lines_of(cohort: Cohort, therapy: str) -> pd.DataFrame:
    """Metastatic lines of ``therapy``'s label, by class or by agent."""
    lines = cohort.treatments
    label = RESISTANCE_LABELS[therapy]
    with_agents = lines["agent_classes"].fillna("").astype(str).str.split("+").map(
        lambda classes: bool(label.agent_classes.intersection(classes)))
    return lines[(lines["therapy_class"].isin(label.classes) | with_agents)
                 & (lines["setting"] == "metastatic")]


def _earlier_undated_line(cohort: Cohort, therapy: str, first: pd.DataFrame) -> np.ndarray:
    """Per line of ``first``: whether an undated metastatic line of the therapy, or of unknown
    class, has a lower line number (the patient's first such line was not observed)."""
    lines = cohort.treatments
    undated = lines[(lines["setting"] == "metastatic") & lines["start_months"].isna()]
    relevant = undated[undated["therapy_class"].isna() | undated.index.isin(
        _metastatic_lines_of(cohort, therapy).index)]
    earliest = relevant.groupby("patient_id")["line"].min()
    earliest = earliest.reindex(first.index).to_numpy(dtype=float, na_value=np.nan)
    return earliest < first["line"].to_numpy(dtype=float, na_value=np.nan)


def _first_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Each patient's first line among ``lines`` (index ``patient_id``)."""
    return lines.sort_values(["patient_id", "line", "start_months"]).groupby(
        "patient_id", sort=False).first()


@dataclass(frozen=True)
class Population:
    """The patients a task's model may score, each at its time origin; no outcome needed.
    ``exclusions``: who the task's rules leave out, counted with the reason."""

    origin: TimeOrigin
    exclusions: list[Exclusion]


def task_population(cohort: Cohort, task: str, origin: str,
                    sample_types: tuple[str, ...]) -> Population:
    """The patients of ``cohort`` a model of ``task`` may score, at the model's own time
    origin (``origin``: ``diagnosis``, the start of the first metastatic line of the therapy,
    or for progression the start of each patient's most recent dated metastatic line: the
    current one) with its eligible ``sample_types``: the rules of the task's labels without
    the outcome. TaskNotApplicable when the cohort cannot place the origin (no dated lines)."""
    patients = cohort.patients.index
    exclusions: list[Exclusion] = []

    def exclude(reason: str, mask: np.ndarray) -> None:
        if mask.any():
            exclusions.append(Exclusion(f"population.{task}", reason, int(mask.sum())))

    if task == "relapse":
        de_novo = _de_novo(cohort)
        exclude(DE_NOVO_REASON, de_novo)
        months = pd.Series(0.0, index=patients[~de_novo])
    elif task == "progression":
        lines = cohort.treatments
        dated = lines[(lines["setting"] == "metastatic") & lines["start_months"].notna()]
        if dated.empty:
            raise TaskNotApplicable(f"the model predicts from the {origin}, and this cohort "
                                    "has no dated metastatic lines to place it")
        current = _current_lines(dated)
        exclude("no dated metastatic line", ~patients.isin(current.index))
        months = current["start_months"].astype(float).reindex(patients).dropna()
    elif task.startswith("resistance_") and origin == "diagnosis":
        population = _proxy_population(cohort)
        exclude(PROXY_POPULATION_REASON, ~population)
        months = pd.Series(0.0, index=patients[population])
    elif task.startswith("resistance_"):
        therapy = task.removeprefix("resistance_")
        if therapy not in RESISTANCE_LABELS:
            raise ValueError(f"unknown therapy {therapy!r} in task {task!r}")
        dated = _dated_metastatic_lines(cohort, therapy)
        if dated.empty:
            raise TaskNotApplicable(f"the model predicts from the {origin}, and this cohort "
                                    f"has no dated metastatic {therapy} lines to place it")
        first = _first_lines(dated)
        exclude(f"no metastatic {therapy} line", ~patients.isin(first.index))
        months = first["start_months"].astype(float).reindex(patients).dropna()
    else:
        raise ValueError(f"unknown task {task!r}; expected relapse or resistance_<therapy>")
    return Population(TimeOrigin(origin, months, tuple(sample_types)), exclusions)


def _require_eligible_sample(cohort: Cohort, labels: Labels, keep: pd.Index,
                             origin: pd.Series) -> pd.Index:
    """Drop (and count) patients without an eligible profiled sample, when the cohort has
    genomic samples at all; a clinical-only cohort keeps everyone."""
    if not cohort.has_samples:
        return keep
    usable = eligible_samples(cohort, labels.eligible_sample_types, origin)
    profiled = usable[usable["mutation_panel"].notna() | usable["cna_panel"].notna()]
    has_sample = keep.isin(profiled["patient_id"])
    labels.exclude(f"no profiled sample known at the origin ({labels.origin})",
                   keep[~has_sample])
    kept = keep[has_sample]
    labels.samples_not_used = (int(cohort.samples["patient_id"].isin(kept).sum())
                               - int(usable["patient_id"].isin(kept).sum()))
    return kept
