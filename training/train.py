"""One training run: labels, design, cross-validated evaluation against baselines, the final
refit, MLflow logging and registration as the ``challenger``."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.models import infer_signature
from sklearn.base import clone

from features.cohort import Cohort
from features.design import build_design
from features.labels import (
    Labels,
    eligible_samples,
    relapse_labels,
    resistance_labels,
    survival_target,
)
from features.registry import load_cohort
from features.report import LoadReport
from models.applicability import ApplicabilityDomain
from models.bundle import ModelBundle, file_sha256
from models.explain import check_additivity, explain
from models.factory import build_pipelines
from training import plots
from training.card_command import publish_card
from training.config import TrainConfig
from training.evaluation import Evaluation, evaluate, subgroup_factors
from training.explain_plots import highest_risk_row, write_cohort_views, write_waterfall
from training.missingness import informative_missingness
from training.registry import model_name, register_version
from training.splits import Fold
from training.tracking import (
    artifact_dir,
    connect,
    finite_metrics,
    metric_key,
    write_csv,
    write_json,
)

#: The "models from code" file MLflow runs to build the pyfunc model.
PYFUNC_ENTRY = Path(__file__).resolve().parents[1] / "models" / "pyfunc_entry.py"
#: Runtime requirements of a logged model (exact versions of this environment).
MODEL_REQUIREMENTS = ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "xgboost-cpu")


@dataclass
class TrainResult:
    """What a run produced: ids, sizes and the evaluation."""

    run_id: str
    model_name: str | None
    model_version: str | None
    n_patients: int
    n_events: int
    evaluation: Evaluation
    bundle_sha256: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``train --json`` object."""
        return {
            "run_id": self.run_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "n_patients": self.n_patients,
            "n_events": self.n_events,
            "bundle_sha256": self.bundle_sha256,
            "metrics": {model: {metric: stat.as_dict() for metric, stat in metrics.items()}
                        for model, metrics in self.evaluation.summary.items()},
        }


def task_labels(cohort: Cohort, config: TrainConfig) -> Labels:
    """The labels of the configured task."""
    if config.task == "relapse":
        return relapse_labels(cohort, config.endpoint)
    if config.task == "resistance":
        return resistance_labels(cohort, config.therapy)
    raise ValueError(f"unknown task {config.task!r}; choose relapse or resistance")


def train(source: str, config: TrainConfig, *, register: bool = True,
          on_fold: Callable[[Fold], None] | None = None,
          on_start: Callable[[int], None] | None = None) -> TrainResult:
    """Train and evaluate the configured task on cohort ``source``; log it to MLflow and, if
    ``register``, register the refitted model as the new ``challenger``."""
    cohort, report = load_cohort(source)
    digest = cohort.digest()  # hashing every table: once per run
    labels = task_labels(cohort, config)
    X = build_design(cohort, labels.time_origin)
    samples = eligible_samples(cohort, labels.eligible_sample_types, labels.origin_months)
    factors = subgroup_factors(cohort.patients, samples, X.index)
    pipelines = _pipelines(labels, config)
    connect()
    mlflow.set_experiment(f"mbcrisk-{labels.task}")
    if on_start is not None:
        on_start(config.cv.n_splits * config.cv.n_repeats)
    with mlflow.start_run(run_name=f"{labels.task} on {cohort.metadata.get('name', source)}",
                          nested=mlflow.active_run() is not None) as run:
        _log_context(cohort, digest, report, labels, X, config, source)

        def log_fold(fold: Fold, results: dict[str, dict[str, float]]) -> None:
            with mlflow.start_run(run_name=f"repeat {fold.repeat} fold {fold.fold}",
                                  nested=True):
                mlflow.log_params({"repeat": fold.repeat, "fold": fold.fold,
                                   "n_train": len(fold.train), "n_test": len(fold.test)})
                mlflow.log_metrics(finite_metrics({
                    metric_key(model, metric): value
                    for model, metrics in results.items() for metric, value in metrics.items()
                }))
            if on_fold is not None:
                on_fold(fold)

        evaluation = evaluate(X, labels, pipelines, config, factors, on_fold=log_fold)
        _log_evaluation(evaluation, labels, cohort.synthetic)
        name = version_number = sha = None
        _log_effective_params(pipelines["model"])
        if register:
            bundle = _final_bundle(pipelines["model"], X, labels, cohort, digest, evaluation,
                                   config)
            _log_explanations(bundle, X, cohort.synthetic)
            name, version_number, sha = _log_and_register(bundle, X, labels, run.info.run_id)
    if register:
        publish_card(f"{name}/{version_number}")
    return TrainResult(run.info.run_id, name, version_number, len(labels.y), labels.n_events,
                       evaluation, sha)


def _pipelines(labels: Labels, config: TrainConfig) -> dict:
    params = config.model.relapse if labels.kind == "survival" else config.model.resistance
    return build_pipelines(
        labels.kind, model_params=dict(params),
        min_gene_frequency=config.features.min_gene_frequency,
        min_gene_count=config.features.min_gene_count, cox_alphas=config.model.cox_alphas,
        logistic_cs=config.model.logistic_cs, random_state=config.cv.random_state)


def _cohort_summary(cohort: Cohort, digest: str, labels: Labels,
                    X: pd.DataFrame) -> dict[str, Any]:
    patients = cohort.patients.loc[labels.y.index]
    return {
        "cohort": cohort.metadata.get("name"),
        "title": cohort.metadata.get("title"),
        "synthetic": cohort.synthetic,
        "digest": digest,
        "task": labels.task,
        "definition": labels.definition,
        "origin": labels.origin,
        "proxy": labels.proxy,
        "n_patients": len(labels.y),
        "n_events": labels.n_events,
        "median_follow_up_months": float(labels.y["time_months"].median()),
        "receptor_subtype": patients["receptor_subtype"].astype("object").value_counts()
        .to_dict(),
        "age_years": patients["age_years"].astype(float).describe().round(2).to_dict(),
        "missing_share": X.isna().mean().round(4).to_dict(),
        "exclusions": [{"reason": e.reason, "count": e.count} for e in labels.exclusions],
        "cohort_size": cohort.summary(),
    }


def _log_context(cohort: Cohort, digest: str, report: LoadReport, labels: Labels,
                 X: pd.DataFrame, config: TrainConfig, source: str) -> None:
    mlflow.log_params(config.flatten())
    mlflow.set_tags({
        "mbcrisk.task": labels.task,
        "mbcrisk.cohort": str(cohort.metadata.get("name", source)),
        "mbcrisk.synthetic": str(cohort.synthetic).lower(),
        "mbcrisk.cohort_digest": digest,
        "mbcrisk.label_definition": labels.definition,
        "mbcrisk.code_version": version("mbcrisk"),
    })
    if cohort.synthetic:
        mlflow.set_tag("mbcrisk.notice", "trained on SYNTHETIC data")
    target = "label" if labels.kind == "binary" else "event"
    dataset = mlflow.data.from_pandas(
        X.reset_index(drop=True).assign(**{target: labels.y[target].to_numpy(dtype=float)}),
        source=CodeDatasetSource({"mbcrisk.cohort_source": str(source)}), targets=target,
        name=str(cohort.metadata.get("name", source)), digest=digest[:32])
    mlflow.log_input(dataset, context="training")
    with artifact_dir() as folder:
        write_json(folder / "cohort_summary.json", _cohort_summary(cohort, digest, labels, X))
        write_json(folder / "load_report.json", report.to_dict())
        write_json(folder / "labels.json", {
            "task": labels.task, "definition": labels.definition, "origin": labels.origin,
            "proxy": labels.proxy, "horizon_months": labels.horizon_months,
            "eligible_sample_types": list(labels.eligible_sample_types),
            "exclusions": [{"reason": e.reason, "count": e.count} for e in labels.exclusions],
        })
        write_json(folder / "config.json", config.flatten())
        missingness = informative_missingness(X, labels)
        write_csv(folder / "missingness_check.csv", missingness)
    flagged = missingness.loc[missingness["flagged"], "feature"].tolist()
    mlflow.set_tag("mbcrisk.missingness_flagged", ", ".join(flagged) or "none")


def _log_evaluation(evaluation: Evaluation, labels: Labels, synthetic: bool) -> None:
    metrics = {}
    for model, stats in evaluation.summary.items():
        for metric, stat in stats.items():
            for field_name in ("mean", "sd", "ci_low", "ci_high"):
                metrics[metric_key(model, metric, field_name)] = getattr(stat, field_name)
    for row in evaluation.subgroups.itertuples(index=False):
        base = metric_key("subgroup", row.factor, row.level, row.model, row.metric)
        metrics[f"{base}.mean"] = row.mean
        metrics[f"{base}.sd"] = row.sd
        metrics[metric_key("subgroup", row.factor, row.level, "n")] = row.n
        metrics[metric_key("subgroup", row.factor, row.level, "n_events")] = row.n_events
    mlflow.log_metrics(finite_metrics(metrics))
    if evaluation.tau_months is not None:
        mlflow.log_param("evaluation.tau_effective_months", round(evaluation.tau_months, 3))
    with artifact_dir() as folder:
        write_csv(folder / "cv_fold_metrics.csv", evaluation.fold_metrics)
        write_csv(folder / "subgroup_metrics.csv", evaluation.subgroups)
        plot_folder = folder / "plots"
        plot_folder.mkdir()
        if labels.kind == "survival":
            plots.survival_plots(evaluation, labels, plot_folder, synthetic)
        else:
            plots.binary_plots(evaluation, labels, plot_folder, synthetic)


def _final_bundle(pipeline: Any, X: pd.DataFrame, labels: Labels, cohort: Cohort, digest: str,
                  evaluation: Evaluation, config: TrainConfig) -> ModelBundle:
    """The model refitted on every patient, with its meaning and evaluation attached."""
    if labels.kind == "survival":
        target = survival_target(labels.y["time_months"].to_numpy(),
                                 labels.y["event"].to_numpy())
    else:
        target = labels.y["label"].to_numpy(dtype=int)
    fitted = clone(pipeline).fit(X, target)
    oof = evaluation.oof["model"][0]
    model_features = list(fitted[:-1].get_feature_names_out())
    return ModelBundle(
        task=labels.task, kind=labels.kind, pipeline=fitted, input_features=list(X.columns),
        label_definition=labels.definition, origin=labels.origin,
        origin_sample_types=tuple(labels.eligible_sample_types),
        horizons_months=tuple(config.evaluation.horizons_months) if labels.kind == "survival"
        else (labels.horizon_months or 0.0,),
        training_digest=digest,
        cohort={"name": cohort.metadata.get("name"), "synthetic": cohort.synthetic,
                "n_patients": len(labels.y), "n_events": labels.n_events},
        metrics={model: {m: round(s.mean, 6) for m, s in stats.items()}
                 for model, stats in evaluation.summary.items()},
        risk_group_cutpoints=tuple(float(q) for q in np.quantile(oof, [1 / 3, 2 / 3])),
        applicability=ApplicabilityDomain.fit(X, model_features),
        explainer={"method": "TreeSHAP via xgboost pred_contribs",
                   "scale": "log relative hazard" if labels.kind == "survival"
                   else "log odds (before calibration)"},
    )


def _log_explanations(bundle: ModelBundle, X: pd.DataFrame, synthetic: bool) -> None:
    """Global importance, beeswarm, dependence and one waterfall of the final model, under
    ``explanations/`` (the waterfall's patient is not named)."""
    explanation = explain(bundle, X)
    check_additivity(explanation)
    note = " (SYNTHETIC data)" if synthetic else ""
    with artifact_dir() as folder:
        views = folder / "explanations"
        write_cohort_views(explanation, views, note)
        write_waterfall(explanation, highest_risk_row(explanation),
                        views / "waterfall_highest_risk.png", note)


def _log_and_register(bundle: ModelBundle, X: pd.DataFrame, labels: Labels,
                      run_id: str) -> tuple[str, str, str]:
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bundle-") as folder:
        path = bundle.save(folder)
        sha = file_sha256(path)
        example = X.head(3).reset_index(drop=True)
        signature = infer_signature(example, bundle.predict(example))
        name = model_name(labels.task)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(PYFUNC_ENTRY),
            artifacts={"bundle": str(path)},
            signature=signature, input_example=example,
            pip_requirements=[f"{p}=={version(p)}" for p in MODEL_REQUIREMENTS],
            code_paths=[str(Path(__file__).resolve().parents[1] / p)
                        for p in ("features", "models")],
        )
    mlflow.log_param("model.bundle_sha256", sha)
    version_number = register_version(name, info.model_uri, run_id, sha, labels.task)
    return name, version_number, sha


def _log_effective_params(pipeline: Any) -> None:
    """The boosted model's hyperparameters as used (defaults included), for the card."""
    params = pipeline[-1].get_params()
    mlflow.log_params({f"model.effective.{k}": v for k, v in sorted(params.items())})
