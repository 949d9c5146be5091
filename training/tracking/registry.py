"""The model registry: names, aliases, and the promotion gate.

A new version gets the ``challenger`` alias. ``promote`` moves ``champion`` to it only when the
challenger is not worse than the champion on the same evaluation (same cohort digest and CV
design), overall and in every subgroup both report with enough patients, by at most a margin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

CHALLENGER = "challenger"
CHAMPION = "champion"
#: Run params that must agree for two evaluations to be "the same evaluation".
SAME_EVALUATION_KEYS = ("cv.n_splits", "cv.n_repeats", "cv.random_state", "task", "endpoint",
                        "therapy", "evaluation.tau_months", "evaluation.horizons_months")
PRIMARY_METRIC = {"relapse": "harrell_c"}


def model_name(task: str) -> str:
    """Registered name of a task's model: ``mbcrisk-relapse``, ``mbcrisk-resistance-endocrine``."""
    return "mbcrisk-" + task.replace("_", "-")


def primary_metric(task: str) -> str:
    """The metric the gate compares: Harrell's C for relapse, AUROC for resistance."""
    return PRIMARY_METRIC.get(task, "auroc")


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
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="subgroup_metrics.csv")
    return pd.read_csv(path)


def gate(name: str, challenger: str, champion: str, margin: float,
         min_subgroup_size: int) -> GateDecision:
    """Compare two versions' evaluations; see the module docstring for the rule."""
    new, old = _run_of(name, challenger), _run_of(name, champion)
    reasons = []
    for key in SAME_EVALUATION_KEYS:
        if new.data.params.get(key) != old.data.params.get(key):
            reasons.append(f"evaluations differ in {key}: {new.data.params.get(key)} vs "
                           f"{old.data.params.get(key)}")
    engines = [run.data.tags.get("mbcrisk.engine", "local") for run in (new, old)]
    if engines[0] != engines[1]:  # different models and fold plans (docs/distributed.md)
        reasons.append(f"evaluations differ in engine: {engines[0]} vs {engines[1]}")
    if new.data.tags.get("mbcrisk.cohort_digest") != old.data.tags.get("mbcrisk.cohort_digest"):
        reasons.append("evaluations differ in the training cohort (digest)")
    if reasons:
        return GateDecision(False, ["not the same evaluation: " + r for r in reasons])
    task = new.data.tags.get("mbcrisk.task", "")
    metric = primary_metric(task)
    comparisons = [{
        "scope": "overall", "n": None,
        "challenger": new.data.metrics[f"model.{metric}.mean"],
        "champion": old.data.metrics[f"model.{metric}.mean"],
    }]
    new_groups = _subgroups(new.info.run_id)
    old_groups = _subgroups(old.info.run_id)
    keys = ["factor", "level", "model"]
    both = new_groups.merge(old_groups, on=keys, suffixes=("_new", "_old"))
    both = both[(both["model"] == "model") & (both["n_new"] >= min_subgroup_size)]
    for row in both.itertuples(index=False):
        comparisons.append({"scope": f"{row.factor}={row.level}", "n": int(row.n_new),
                            "challenger": float(row.mean_new), "champion": float(row.mean_old)})
    failed = [c for c in comparisons if c["challenger"] < c["champion"] - margin]
    for c in comparisons:
        c["passed"] = c not in failed
    if failed:
        reasons = [f"{c['scope']}: {metric} {c['challenger']:.4f} < champion "
                   f"{c['champion']:.4f} - margin {margin}" for c in failed]
        return GateDecision(False, reasons, comparisons)
    return GateDecision(True, [f"not worse than the champion by more than {margin} on {metric} "
                               f"overall and in {len(comparisons) - 1} subgroups"], comparisons)


def promote(name: str, margin: float, min_subgroup_size: int) -> GateDecision:
    """Move ``champion`` to the challenger when it passes the gate (or when there is none).
    ValueError for a model that is not registered or has no challenger (nothing to decide)."""
    try:
        MlflowClient().get_registered_model(name)
    except MlflowException as error:
        known = sorted(m.name for m in MlflowClient().search_registered_models())
        raise ValueError(f"no registered model named {name!r} (registered: "
                         f"{', '.join(known) or 'none'})") from error
    challenger = alias_version(name, CHALLENGER)
    if challenger is None:
        raise ValueError(f"{name} has no {CHALLENGER} version: train one first")
    champion = alias_version(name, CHAMPION)
    if champion == challenger:
        return GateDecision(False, [f"version {challenger} is already the {CHAMPION}"])
    if champion is None:
        decision = GateDecision(True, [f"no {CHAMPION} yet: version {challenger} becomes it"])
    else:
        decision = gate(name, challenger, champion, margin, min_subgroup_size)
    if decision.promote:
        client = MlflowClient()
        client.set_registered_model_alias(name, CHAMPION, challenger)
        client.set_model_version_tag(name, challenger, "mbcrisk.gate",
                                     json.dumps(decision.reasons))
    return decision
