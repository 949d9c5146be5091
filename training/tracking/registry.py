"""The model registry: names, aliases, and the promotion gate.

A new version gets the ``challenger`` alias. ``promote`` moves ``champion`` to it only when the
challenger is not worse than the champion, overall and in every subgroup both report with
enough patients, by at most a margin: on the same evaluation (same cohort digest and CV design)
when both were trained on one cohort; on the challenger's cohort and folds, the champion scored
as trained, when the challenger was trained on another (:mod:`training.tracking.new_cohort`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from models.bundles.run_artifacts import read_run_artifact
from models.loading import load_registered_bundle
from training.config import SURVIVAL_TASKS
from training.evaluation.cross_validation import PRIMARY_METRIC
from training.evaluation.shortcut import shortcut_is_clear, within_panel_metric
from training.tracking.new_cohort import (
    CohortComparison,
    compare_on_challenger_cohort,
    comparison_tag,
)

CHALLENGER = "challenger"
CHAMPION = "champion"
#: Run params that must agree for two evaluations to be "the same evaluation" (the horizons do
#: not change the C or AUROC the gate compares).
SAME_EVALUATION_KEYS = ("cv.n_splits", "cv.n_repeats", "cv.random_state", "task", "endpoint",
                        "therapy", "evaluation.tau_months")
#: Run params that must agree for a challenger of another cohort to answer the same question.
SAME_QUESTION_KEYS = ("task", "endpoint", "therapy")


def model_name(task: str) -> str:
    """Registered name of a task's model: ``mbcrisk-relapse``, ``mbcrisk-resistance-endocrine``."""
    return "mbcrisk-" + task.replace("_", "-")


def primary_metric(task: str) -> str:
    """The metric the gate compares: Harrell's C for relapse and progression, AUROC for
    resistance (and any other task name, or none)."""
    return PRIMARY_METRIC["survival" if task in SURVIVAL_TASKS else "binary"]


def register_version(name: str, model_uri: str, run_id: str, bundle_sha256: str,
                     task: str) -> str:
    """Register ``model_uri`` under ``name``, tag it, and give it the challenger alias."""
    client = MlflowClient()
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description=f"mbcrisk {task} model")
    registered = mlflow.register_model(model_uri, name, tags={
        "mbcrisk.task": task, "mbcrisk.run_id": run_id, "mbcrisk.bundle_sha256": bundle_sha256})
    client.set_registered_model_alias(name, CHALLENGER, registered.version)
    return str(registered.version)


def alias_version(name: str, alias: str) -> str | None:
    """The version holding ``alias``, or None."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


@dataclass
class GateDecision:
    """Whether to promote, why, and the comparisons made."""

    promote: bool
    reasons: list[str] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)


def _run_of(name: str, version: str) -> mlflow.entities.Run:
    run_id = MlflowClient().get_model_version(name, version).run_id
    return MlflowClient().get_run(run_id)


def _subgroups(run_id: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(read_run_artifact(run_id, "subgroup_metrics.csv")))


def gate(name: str, challenger: str, champion: str, margin: float,
         min_subgroup_size: int) -> GateDecision:
    """Compare two versions' evaluations of the same cohort; see the module docstring."""
    new, old = _run_of(name, challenger), _run_of(name, champion)
    reasons = _evaluation_differences(new, old, SAME_EVALUATION_KEYS)
    engines = [run.data.tags.get("mbcrisk.engine", "local") for run in (new, old)]
    if engines[0] != engines[1]:  # different models and fold plans (docs/distributed.md)
        reasons.append(f"evaluations differ in engine: {engines[0]} vs {engines[1]}")
    if reasons:
        return GateDecision(False, ["not the same evaluation: " + r for r in reasons])
    task = new.data.tags.get("mbcrisk.task", "")
    metric = primary_metric(task)
    overall, note = f"model.{metric}.mean", None
    kind = "survival" if task in SURVIVAL_TASKS else "binary"
    if shortcut_is_clear(new.data.metrics, kind):
        within = within_panel_metric(kind)
        if within in old.data.metrics and within in new.data.metrics:
            overall = within
            note = (f"the cohort shows a shortcut (missingness alone predicts the outcome): "
                    f"compared on {metric} within panel strata, not the pooled figure")
        else:  # one panel stratum, or a champion from before the figure
            note = ("the cohort shows a shortcut (missingness alone predicts the outcome) but "
                    "a version has no within-panel figure: compared on the pooled figure, "
                    "which overstates what both models know")
    comparisons = [{
        "scope": "overall, within panel strata" if overall != f"model.{metric}.mean"
        else "overall", "n": None,
        "challenger": new.data.metrics[overall], "champion": old.data.metrics[overall],
    }]
    new_groups = _subgroups(new.info.run_id)
    old_groups = _subgroups(old.info.run_id)
    keys = ["factor", "level", "model"]
    both = new_groups.merge(old_groups, on=keys, suffixes=("_new", "_old"))
    both = both[(both["model"] == "model") & (both["n_new"] >= min_subgroup_size)]
    for row in both.itertuples(index=False):
        comparisons.append({"scope": f"{row.factor}={row.level}", "n": int(row.n_new),
                            "challenger": float(row.mean_new), "champion": float(row.mean_old)})
    decision = _decide(comparisons, metric, margin)
    if note is not None:
        decision.reasons.insert(0, note)
    return decision


def new_cohort_gate(name: str, challenger: str, champion: str, margin: float,
                    min_subgroup_size: int) -> tuple[GateDecision, CohortComparison]:
    """The gate for a challenger trained on another cohort than the champion: both on the
    challenger's cohort and folds (:mod:`training.tracking.new_cohort`). ValueError when
    the two answer different questions or the challenger cannot be re-evaluated."""
    new, old = _run_of(name, challenger), _run_of(name, champion)
    reasons = _evaluation_differences(new, old, SAME_QUESTION_KEYS)
    if reasons:
        raise ValueError("champion and challenger answer different questions: "
                         + "; ".join(reasons))
    champion_bundle = load_registered_bundle(f"{name}/{champion}").bundle
    comparison = compare_on_challenger_cohort(champion_bundle, new, min_subgroup_size)
    comparisons = [{"scope": "overall", "n": None, "challenger": comparison.challenger_mean,
                    "champion": comparison.champion_mean}, *comparison.subgroups]
    interval = comparison.difference
    where = (f"compared on the challenger's cohort {comparison.cohort} over its "
             f"{len(comparison.folds)} folds, the champion scored as trained (not refitted): "
             f"{comparison.metric} difference {interval.mean:+.4f}, interval "
             f"{interval.ci_low:+.4f} to {interval.ci_high:+.4f}")
    decision = _decide(comparisons, comparison.metric, margin)
    decision.reasons.insert(0, where)
    return decision, comparison


def _evaluation_differences(new: mlflow.entities.Run, old: mlflow.entities.Run,
                            keys: tuple[str, ...]) -> list[str]:
    differences = [f"evaluations differ in {key}: {new.data.params.get(key)} vs "
                   f"{old.data.params.get(key)}"
                   for key in keys if new.data.params.get(key) != old.data.params.get(key)]
    if new.data.tags.get("mbcrisk.task") != old.data.tags.get("mbcrisk.task"):
        differences.append("the tasks differ")
    return differences


def _decide(comparisons: list[dict], metric: str, margin: float) -> GateDecision:
    failed = [c for c in comparisons if c["challenger"] < c["champion"] - margin]
    for c in comparisons:
        c["passed"] = c not in failed
    if failed:
        reasons = [f"{c['scope']}: {metric} {c['challenger']:.4f} < champion "
                   f"{c['champion']:.4f} - margin {margin}" for c in failed]
        return GateDecision(False, reasons, comparisons)
    return GateDecision(True, [f"not worse than the champion by more than {margin} on {metric} "
                               f"overall and in {len(comparisons) - 1} subgroups"],
                        comparisons)


def same_cohort(name: str, challenger: str, champion: str) -> bool:
    """Whether two versions were trained on the same cohort (equal digests)."""
    new, old = _run_of(name, challenger), _run_of(name, champion)
    return new.data.tags.get("mbcrisk.cohort_digest") == old.data.tags.get(
        "mbcrisk.cohort_digest")


def _check_registered(name: str) -> None:
    """ValueError naming the registered models when ``name`` is not one."""
    try:
        MlflowClient().get_registered_model(name)
    except MlflowException as error:
        known = sorted(m.name for m in MlflowClient().search_registered_models())
        raise ValueError(f"no registered model named {name!r} (registered: "
                         f"{', '.join(known) or 'none'})") from error


def promote(name: str, margin: float, min_subgroup_size: int,
            accept_new_cohort: str | None = None,
            recorded: dict[str, str] | None = None,
            blockers: list[str] | None = None) -> GateDecision:
    """Move ``champion`` to the challenger when it passes the gate (or when there is none).

    A challenger trained on another cohort than the champion faces the new-cohort gate; if it
    fails, a non-empty ``accept_new_cohort`` (the user's reason) promotes it all the same, and
    the reason is recorded. The decision is recorded as version tags (``mbcrisk.gate``,
    ``mbcrisk.promotion``...), which the model card shows. ValueError for a model that is not
    registered, has no challenger, or an acceptance given where the cohorts agree.
    ``recorded``: further version tags set when it is promoted (an override and its reason);
    ``blockers``: reasons found by the caller that refuse it whatever the gate says (the gate
    still runs, so its verdict is reported beside them)."""
    _check_registered(name)
    if accept_new_cohort is not None and not accept_new_cohort.strip():
        raise ValueError("--accept-new-cohort needs a --reason (it is recorded)")
    challenger = alias_version(name, CHALLENGER)
    if challenger is None:
        raise ValueError(f"{name} has no {CHALLENGER} version: train one first")
    champion = alias_version(name, CHAMPION)
    if champion == challenger:
        return GateDecision(False, [f"version {challenger} is already the {CHAMPION}"])
    tags: dict[str, str] = dict(recorded or {})
    if champion is None:
        decision = GateDecision(True, [f"no {CHAMPION} yet: version {challenger} becomes it"])
        tags["mbcrisk.promotion"] = "first champion"
    elif same_cohort(name, challenger, champion):
        if accept_new_cohort is not None:
            raise ValueError("the challenger was trained on the champion's cohort: there is no "
                             "new cohort to accept; the gate compares their evaluations")
        decision = gate(name, challenger, champion, margin, min_subgroup_size)
        tags["mbcrisk.promotion"] = "same-cohort gate"
    else:
        decision, comparison = new_cohort_gate(name, challenger, champion, margin,
                                               min_subgroup_size)
        tags.update({"mbcrisk.promotion": "new-cohort gate",
                     "mbcrisk.new_cohort_comparison": comparison_tag(comparison)})
        if not decision.promote and accept_new_cohort is not None:
            decision.promote = True
            decision.reasons.append(f"accepted by the user over the gate's refusal: "
                                    f"{accept_new_cohort.strip()}")
            tags.update({"mbcrisk.promotion": "new cohort accepted by the user",
                         "mbcrisk.accepted_reason": accept_new_cohort.strip()})
        elif not decision.promote:
            decision.reasons.append("to promote it all the same, accept the new cohort "
                                    "explicitly: --accept-new-cohort --reason TEXT")
    if blockers:
        decision.promote = False
        decision.reasons.extend(blockers)
    if decision.promote:
        client = MlflowClient()
        client.set_registered_model_alias(name, CHAMPION, challenger)
        tags.update({"mbcrisk.gate": json.dumps(decision.reasons),
                     "mbcrisk.promoted_over": champion or "none"})
        for key, value in tags.items():
            client.set_model_version_tag(name, challenger, key, value)
    return decision


def rollback(name: str) -> tuple[str, str]:
    """Give ``champion`` back to the version the current champion was promoted over, and
    record it on both; returns (restored, retired). ValueError when there is none to restore
    (no champion, or a first champion)."""
    _check_registered(name)
    champion = alias_version(name, CHAMPION)
    if champion is None:
        raise ValueError(f"{name} has no {CHAMPION} to roll back")
    client = MlflowClient()
    previous = client.get_model_version(name, champion).tags.get("mbcrisk.promoted_over")
    if previous in (None, "none"):
        raise ValueError(f"{name} version {champion} was the first {CHAMPION}: there is no "
                         "previous one to restore")
    client.set_registered_model_alias(name, CHAMPION, previous)
    if alias_version(name, CHALLENGER) == champion:  # not offered to the gate again
        client.delete_registered_model_alias(name, CHALLENGER)
    client.set_model_version_tag(name, champion, "mbcrisk.rolled_back",
                                 f"replaced by version {previous} (rollback)")
    client.set_model_version_tag(name, previous, "mbcrisk.promotion",
                                 f"restored by rollback of version {champion}")
    return previous, champion
