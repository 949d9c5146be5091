"""Lines of therapy from agent-level treatment rows, by a documented rule set in the style of
published real-world-data line algorithms (CLINICAL.md, "Treatment lines in real data";
docs/treatments.md).

Per patient, agents in order of their start:

1. **Setting.** An agent started before the metastatic onset (metastatic diagnosis, the first
   metastatic sample or the first progression) belongs to the early setting: all of them form
   line 0 (adjuvant), one row per therapy class given (chemotherapy, anti-HER2, endocrine
   therapy), as the models read the early setting by class. Metastatic lines are numbered
   from 1.
2. **Regimen.** The agents started within ``regimen_window_days`` of a line's first agent form
   its regimen (letrozole and palbociclib started together: one line).
3. **Advance.** A later agent starts a new line when the time since the line's last therapy
   (the latest stop of its agents; the latest start when none stopped) exceeds
   ``gap_days``; when it is new to the line and started after a progression recorded on the
   line (the regimen replaced at progression, even within the regimen window); or when it is
   not part of the regimen and not a listed substitution.
4. **Substitutions** do not advance the line: an agent of a class already in the regimen that
   :data:`~features.cohorts.treatments.drugs.SUBSTITUTES` lists (one aromatase inhibitor for
   another), ovarian suppression added, the same agent restarted.
5. **Progression** recorded while the regimen continues does not end the line: the first
   progression after a line's start and before the next line's start dates the line's
   progression.

Each rule's effect is counted (:class:`LineCounts`) for the load report; every parameter is a
setting (:class:`LineRules`, the ``[cohort]`` section of a config file).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.cohorts.treatments.drugs import (
    JOINS_ANY_LINE,
    SUBSTITUTES,
    UNKNOWN_AGENT,
    regimen_class,
)
from features.cohorts.units import DAYS_PER_MONTH

#: Columns of the agent rows :func:`derive_lines` takes (one row per agent given).
AGENT_COLUMNS = ("patient_id", "agent", "agent_class", "therapy_class", "start_months",
                 "stop_months")


#: The count of progression events no metastatic line takes (before the first line starts).
UNATTRIBUTED_PROGRESSION = "progression events before any metastatic line (not attributed)"
#: Agent rows without a start date: they cannot be placed in a line.
UNDATED_AGENTS = "agent rows without a start date (not placed in a line)"
#: Patients whose metastatic onset is the start of the line running at their first progression.
ONSET_FROM_PROGRESSION = ("patients whose metastatic onset is the line running at their first "
                          "progression (no earlier sign dated)")


@dataclass(frozen=True)
class LineRules:
    """The parameters of the line rules, in days: agents started within
    ``regimen_window_days`` of a line's first agent form its regimen; a gap without therapy
    longer than ``gap_days`` ends a line."""

    regimen_window_days: float = 28.0
    gap_days: float = 120.0

    def __post_init__(self) -> None:
        for name in ("regimen_window_days", "gap_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name}: {value!r} is not a number of days >= 0")


@dataclass
class LineCounts:
    """How many times each rule acted, for the load report."""

    rules: Counter[str] = field(default_factory=Counter)

    def add(self, rule: str, count: int = 1) -> None:
        self.rules[rule] += count

    def to_dict(self) -> dict[str, int]:
        return dict(sorted(self.rules.items()))


def derive_lines(agents: pd.DataFrame, onset_months: pd.Series, progression: pd.DataFrame,
                 rules: LineRules) -> tuple[pd.DataFrame, LineCounts]:
    """Lines of therapy (the cohort's ``treatments`` table) from agent rows.

    ``agents`` has :data:`AGENT_COLUMNS` (months from diagnosis; stop NA = ongoing or
    unknown); ``onset_months`` is each patient's metastatic onset (NA: none known);
    ``progression`` has ``patient_id`` and ``months`` of recorded progression events. A line's
    ``stop_months`` is the next line's start (NA for a patient's last line: followed to last
    contact), its ``progression_months`` the first progression in (start, stop].
    """
    counts = LineCounts()
    window = rules.regimen_window_days / DAYS_PER_MONTH
    gap = rules.gap_days / DAYS_PER_MONTH
    rows: list[dict] = []
    agents = agents.assign(**{c: _floats(agents[c]) for c in ("start_months", "stop_months")})
    ordered = agents.sort_values(["patient_id", "start_months", "agent"], kind="stable")
    events = progression.groupby("patient_id")["months"].apply(
        lambda m: np.sort(m.to_numpy(dtype=float))).to_dict() if len(progression) else {}
    undated = ordered["start_months"].isna().to_numpy()
    if undated.any():
        counts.add(UNDATED_AGENTS, int(undated.sum()))
        ordered = ordered[~undated]
    for patient, own in ordered.groupby("patient_id", sort=False):
        onset = onset_months.get(patient, np.nan)
        onset = np.inf if pd.isna(onset) else float(onset)
        progressed = events.get(patient, np.empty(0))
        if len(progressed) and progressed[0] < onset:
            onset = _onset_at_progression(own, progressed[0], onset)
            counts.add(ONSET_FROM_PROGRESSION)
        early = own[own["start_months"].to_numpy(dtype=float) < onset]
        late = own[own["start_months"].to_numpy(dtype=float) >= onset]
        if len(early):
            counts.add("early-setting agents grouped into line 0", len(early))
            rows.extend(_line(patient, 0, "adjuvant", part)
                        for _, part in early.groupby("therapy_class", sort=True))
        for number, regimen in enumerate(
                _metastatic_regimens(late, progressed, window, gap, counts), start=1):
            rows.append(_line(patient, number, "metastatic", regimen))
    lines = pd.DataFrame(rows, columns=["patient_id", "line", "setting", "therapy_class",
                                        "agent", "agent_classes", "start_months",
                                        "stop_months", "reason_stopped",
                                        "progression_months"])
    _close_lines(lines, events, counts)
    counts.add("lines derived", len(lines))
    return lines, counts


def _onset_at_progression(agents: pd.DataFrame, progression: float, onset: float) -> float:
    """The metastatic onset of a patient whose first progression comes before any dated sign
    of metastatic disease: the start of the earliest agent running at that progression (its
    line was a metastatic line), else the progression itself."""
    start = agents["start_months"].to_numpy(dtype=float)
    stop = agents["stop_months"].to_numpy(dtype=float)
    running = (start <= progression) & (np.isnan(stop) | (stop >= progression))
    return float(min(start[running].min(), onset)) if running.any() else progression


def _floats(values: pd.Series) -> np.ndarray:
    """Months as floats, NaN where missing."""
    return pd.to_numeric(values, errors="coerce").astype("Float64").to_numpy(
        dtype=float, na_value=np.nan)


def _metastatic_regimens(agents: pd.DataFrame, progressed: np.ndarray, window: float,
                         gap: float, counts: LineCounts) -> list[pd.DataFrame]:
    """The patient's metastatic agents split into lines by the rules (module docstring)."""
    regimens: list[list[int]] = []
    first_start = last_activity = np.nan
    classes: set[str] = set()
    names: set[str] = set()
    starts = agents["start_months"].to_numpy(dtype=float)
    stops = agents["stop_months"].to_numpy(dtype=float)
    for k in range(len(agents)):
        agent = agents["agent"].iloc[k]
        agent_class = agents["agent_class"].iloc[k]
        start, stop = starts[k], stops[k]
        if regimens:
            after_progression = bool(((progressed > first_start) & (progressed <= start)).any())
            reason = _advance(start, first_start, last_activity, window, gap, agent, agent_class,
                              names, classes, after_progression)
            if reason.startswith("same line"):
                counts.add(reason)
                regimens[-1].append(k)
                names.add(agent)
                classes.add(agent_class)
                last_activity = np.nanmax([last_activity, start, stop])
                continue
            counts.add(reason)
        regimens.append([k])
        first_start, last_activity = start, np.nanmax([start, stop])
        names, classes = {agent}, {agent_class}
    return [agents.iloc[rows] for rows in regimens]


def _advance(start: float, first_start: float, last_activity: float, window: float,
             gap: float, agent: str, agent_class: str, names: set[str],
             classes: set[str], after_progression: bool) -> str:
    """Why an agent starting at ``start`` joins the current line or starts the next
    (``after_progression``: a progression was recorded on the line before it started)."""
    if start - last_activity > gap:
        return "new line: gap without therapy"
    if after_progression and agent not in names and agent_class not in JOINS_ANY_LINE:
        return "new line: agent started after a progression on the line"
    if start - first_start <= window:
        return "same line: started within the regimen window"
    if agent_class == UNKNOWN_AGENT:
        return "same line: agent unknown to the dictionary (cannot start a line)"
    if agent in names:
        return "same line: agent of the regimen restarted"
    if agent_class in JOINS_ANY_LINE:
        return "same line: ovarian suppression added"
    if any(agent_class in SUBSTITUTES.get(c, ()) for c in classes):
        return "same line: substitution within a class"
    return "new line: agent added or regimen replaced"


def _line(patient: str, number: int, setting: str, regimen: pd.DataFrame) -> dict:
    therapy = regimen_class(set(regimen["therapy_class"].dropna())) or "other"
    return {"patient_id": patient, "line": number, "setting": setting,
            "therapy_class": therapy,
            "agent": "+".join(dict.fromkeys(regimen["agent"].str.upper())),
            "agent_classes": "+".join(dict.fromkeys(regimen["agent_class"])),
            "start_months": float(regimen["start_months"].min()),
            "stop_months": float(np.nanmax(regimen["stop_months"].to_numpy(dtype=float)))
            if regimen["stop_months"].notna().any() else np.nan,
            "reason_stopped": None, "progression_months": np.nan}


def _close_lines(lines: pd.DataFrame, events: dict[str, np.ndarray],
                 counts: LineCounts) -> None:
    """Each metastatic line ends where the patient's next line starts (NA for the last), and
    takes the first progression recorded in (start, end] (after the last line's start for the
    last line). Line 0 keeps its own stop."""
    if lines.empty:
        return
    metastatic = (lines["setting"] == "metastatic").to_numpy()
    following = lines.groupby("patient_id")["start_months"].shift(-1).to_numpy(dtype=float)
    ends = np.where(metastatic, following, lines["stop_months"].to_numpy(dtype=float))
    lines["stop_months"] = ends
    progressions = np.full(len(lines), np.nan)
    for k, (patient, start) in enumerate(zip(lines["patient_id"], lines["start_months"],
                                             strict=True)):
        times = events.get(patient)
        if times is None or not metastatic[k]:
            continue
        end = np.inf if np.isnan(ends[k]) else ends[k]
        inside = times[(times > start) & (times <= end)]
        if len(inside):
            progressions[k] = inside[0]
    lines["progression_months"] = progressions
    lines["reason_stopped"] = np.where(~np.isnan(progressions), "progression", None)
    counts.add("lines with a recorded progression", int((~np.isnan(progressions)).sum()))
    within = 0
    for patient, times in events.items():
        own = lines[(lines["patient_id"] == patient) & metastatic]
        if len(own):
            within += int((times > own["start_months"].min()).sum())
    outside = sum(len(times) for times in events.values()) - within
    if outside:
        counts.add(UNATTRIBUTED_PROGRESSION, outside)
