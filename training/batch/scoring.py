"""Scoring one piece of a cohort (a Parquet partition, or a whole in-memory cohort) with a
bundle: the task's population at the model's time origin, the design, then the rows in blocks
of bounded size through :class:`models.scoring.BundleScorer` (the path the API uses), to one
output row per patient and the tallies of the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.actionability.cohort import (
    ACTIONABILITY_COLUMNS,
    patient_findings,
    with_tier_i_or_ii,
)
from features.cohorts.cohort import Cohort
from features.design import build_design, protein_changes
from features.labels import task_population
from models.bundles.bundle import ModelBundle
from models.domain.answerable import answer_rules, judge
from models.domain.moments import FeatureMoments
from models.explanation.explain import driver_record, select_drivers
from models.scoring import BundleScorer

#: Patients scored in one pass: bounds memory (the unknown-is-unknown rule scores each
#: patient with unprofiled genes once per reference patient).
BLOCK_ROWS = 4096


@dataclass
class Tally:
    """What the summary counts, added up over pieces."""

    features: list[str]
    n_patients: int = 0
    n_scored: int = 0
    exclusions: Counter = field(default_factory=Counter)
    n_out_of_domain: int = 0
    out_of_domain_reasons: Counter = field(default_factory=Counter)
    n_unprofiled: int = 0
    #: Scored patients with at least one ESCAT tier I or II finding (features.actionability).
    n_actionable: int = 0
    #: Patients lacking each field of the model's minimum data (request field names).
    lacking: Counter = field(default_factory=Counter)
    inputs_not_in_cohort: set[str] = field(default_factory=set)
    moments: FeatureMoments | None = None

    def __post_init__(self) -> None:
        if self.moments is None:
            self.moments = FeatureMoments.empty(self.features)

    def merge(self, other: Tally) -> None:
        """Add another piece's tally."""
        self.n_patients += other.n_patients
        self.n_scored += other.n_scored
        self.exclusions.update(other.exclusions)
        self.n_out_of_domain += other.n_out_of_domain
        self.out_of_domain_reasons.update(other.out_of_domain_reasons)
        self.n_unprofiled += other.n_unprofiled
        self.n_actionable += other.n_actionable
        self.lacking.update(other.lacking)
        self.inputs_not_in_cohort |= other.inputs_not_in_cohort
        self.moments.merge(other.moments)


def output_columns(bundle: ModelBundle, top: int) -> list[str]:
    """The columns of the output table, in order (``top`` drivers; 0: no explanation)."""
    predictions = bundle.survival_columns if bundle.kind == "survival" else ["probability"]
    columns = ["patient_id", "risk_score", "risk_score_meaning", "risk_group", *predictions,
               "in_domain", "out_of_domain_reasons", "unprofiled_inputs",
               *ACTIONABILITY_COLUMNS]
    for rank in range(1, top + 1):
        columns += [f"driver_{rank}_{part}"
                    for part in ("group", "value", "contribution", "sentence")]
    return columns


def score_piece(bundle: ModelBundle, scorer: BundleScorer, cohort: Cohort,
                top: int) -> tuple[Iterator[pd.DataFrame], Tally]:
    """The output rows of ``cohort``'s patients, block by block, and the piece's tally (filled
    as the blocks are consumed). ``top`` drivers per patient (0: no explanation).
    ValueError when the cohort lacks what the model needs."""
    population = task_population(cohort, bundle.task, bundle.origin,
                                 bundle.origin_sample_types)
    tally = Tally(scorer.features, n_patients=len(cohort.patients))
    for exclusion in population.exclusions:
        tally.exclusions[exclusion.reason] += exclusion.count
    X = build_design(cohort, population.origin)
    tally.inputs_not_in_cohort = {c for c in bundle.input_features if c not in X.columns}
    rows = bundle.input_frame(X).to_numpy(dtype=float)
    X, rows = _answerable(bundle, X, rows, tally)
    if len(rows) and np.isnan(rows[:, scorer.selected]).all():
        raise ValueError(f"the cohort carries none of the model's {len(scorer.features)} "
                         f"inputs for any patient (the model needs e.g. "
                         f"{', '.join(scorer.features[:5])})")
    details = protein_changes(cohort, population.origin) if top else {}
    actionable = patient_findings(cohort).reindex(X.index.astype(str))
    return _blocks(bundle, scorer, X.index, rows, top, details, actionable, tally), tally


def _answerable(bundle: ModelBundle, X: pd.DataFrame, rows: np.ndarray,
                tally: Tally) -> tuple[pd.DataFrame, np.ndarray]:
    """The patients the model may answer (:mod:`models.domain.answerable`); the others are
    counted by what they lack or why the label does not describe them
    (:func:`refuse_without_minimum_data` judges the whole cohort once every piece is in)."""
    verdict = judge(answer_rules(bundle.task, bundle.origin == "diagnosis",
                                 bundle.learned_features), rows, bundle.input_features)
    keep = np.array([verdict.answers(i) for i in range(len(rows))], dtype=bool)
    for i in np.flatnonzero(~keep):
        reason = (f"insufficient data: {' and '.join(verdict.missing[i])} missing"
                  if verdict.missing[i] else f"not applicable: {verdict.not_applicable[i]}")
        tally.exclusions[reason] += 1
        tally.lacking.update(verdict.missing[i])
    return X[keep], rows[keep]


def refuse_without_minimum_data(tally: Tally, task: str) -> None:
    """ValueError when the whole cohort (every piece merged) had patients the model could
    score by their setting and none with its minimum data: scoring them alike would be the
    missing inputs' answer."""
    if tally.n_scored == 0 and tally.lacking:
        raise ValueError(f"no patient of the cohort has the minimum data of the {task} model "
                         "(missing: " + ", ".join(f"{f} for {n}" for f, n in
                                                  tally.lacking.most_common()) + ")")


def _blocks(bundle: ModelBundle, scorer: BundleScorer, patients: pd.Index, rows: np.ndarray,
            top: int, details: dict[str, dict[str, str]], actionable: pd.DataFrame,
            tally: Tally) -> Iterator[pd.DataFrame]:
    # the applicability domain with its columns looked up once, as the API does
    domain = (None if bundle.applicability is None
              else bundle.applicability.compiled(bundle.input_features))
    columns = output_columns(bundle, top)
    if len(rows) == 0:
        yield pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in columns})
        return
    for start in range(0, len(rows), BLOCK_ROWS):
        block = rows[start:start + BLOCK_ROWS]
        ids = np.asarray(patients[start:start + BLOCK_ROWS].astype(str), dtype=object)
        scores = scorer.score(block, explain=top > 0)
        tally.moments.add(scores.features)
        reasons = (domain.check(block) if domain is not None
                   else [[] for _ in range(len(block))])
        frame = {"patient_id": ids,
                 "risk_score": scores.score,
                 "risk_score_meaning": np.full(len(block), bundle.score_meaning, dtype=object),
                 "risk_group": scores.risk_group.astype(object)}
        if bundle.kind == "survival":
            for k, column in enumerate(bundle.survival_columns):
                frame[column] = scores.survival[:, k]
        else:
            frame["probability"] = scores.score
        frame["in_domain"] = np.array([not r for r in reasons], dtype=bool)
        frame["out_of_domain_reasons"] = np.array(["; ".join(r) for r in reasons], dtype=object)
        averaged = (scores.averaged.sum(axis=1) if scores.averaged is not None
                    else np.zeros(len(block), dtype=int))
        frame["unprofiled_inputs"] = averaged.astype(np.int64)
        found = actionable.iloc[start:start + BLOCK_ROWS]
        for column in ACTIONABILITY_COLUMNS:
            frame[column] = found[column].to_numpy()
        tally.n_actionable += int(with_tier_i_or_ii(found).sum())
        if top:
            frame.update(_driver_columns(scores.explanation(), ids, top, details))
        tally.n_scored += len(block)
        tally.n_out_of_domain += sum(1 for r in reasons if r)
        tally.n_unprofiled += int((averaged > 0).sum())
        for patient_reasons in reasons:
            tally.out_of_domain_reasons.update({_reason_kind(r) for r in patient_reasons})
        yield pd.DataFrame(frame, columns=columns)


def _driver_columns(explanation: object, ids: np.ndarray, top: int,
                    details: dict[str, dict[str, str]]) -> dict[str, np.ndarray]:
    n = len(ids)
    order, values, lead = select_drivers(explanation, np.arange(n), top)
    out: dict[str, np.ndarray] = {}
    for rank in range(top):
        groups = np.full(n, None, dtype=object)
        shown = np.full(n, None, dtype=object)
        sentences = np.full(n, None, dtype=object)
        contributions = np.full(n, np.nan)
        for i in np.flatnonzero(order[:, rank] >= 0):
            record = driver_record(explanation, int(i), int(order[i, rank]),
                                   int(lead[i, rank]), float(values[i, rank]),
                                   details.get(ids[i]))
            groups[i], shown[i] = record["group"], record["value_shown"]
            sentences[i], contributions[i] = record["sentence"], record["contribution"]
        prefix = f"driver_{rank + 1}_"
        out.update({prefix + "group": groups, prefix + "value": shown,
                    prefix + "contribution": contributions, prefix + "sentence": sentences})
    return out


def _reason_kind(reason: str) -> str:
    """An out-of-domain reason without the patient's value: the feature outside its range, or
    the genomic coverage."""
    if reason.startswith("genomic profile covers"):
        return "genomic coverage below training's"
    return reason.split(" = ", 1)[0] + " outside the training range"


#: Output columns holding text (the drivers' group, value and sentence columns too).
_TEXT_COLUMNS = ("patient_id", "risk_score_meaning", "risk_group", "out_of_domain_reasons",
                 "escat_findings")


def _dtype(column: str) -> str:
    """The dtype of an output column in an empty table; every other column is a number."""
    if column == "in_domain":
        return "bool"
    if column in ("unprofiled_inputs", "escat_tier_i", "escat_tier_ii", "escat_not_tested"):
        return "int64"
    if column in _TEXT_COLUMNS or column.endswith(("_group", "_value", "_sentence")):
        return "object"
    return "float64"
