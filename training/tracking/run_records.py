"""One training run's MLflow record, whichever engine trained it: context (config, cohort
summary, labels, load report, missingness check), fold runs, evaluation, explanations, the
bundle logged as a pyfunc model and registered as ``challenger``, and the model card.

The engines (:mod:`training.train` on one machine, :mod:`training.distributed.train` on Dask)
compute; this module records, so a served model does not care where it was trained.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.models import infer_signature
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

import features
import models
from features.labels import Labels
from models.bundles.bundle import ModelBundle
from models.bundles.storage import file_sha256, save_bundle
from models.domain.applicability import ApplicabilityDomain
from models.domain.moments import FeatureMoments
from models.domain.unprofiled import UnprofiledReference
from models.estimators.constraints import ADVERSE_FACTORS
from models.scoring import explain_rows, predict
from training.config import TrainConfig
from training.evaluation.cross_validation import PRIMARY_METRIC, Evaluation
from training.evaluation.missingness import informative_missingness
from training.evaluation.splits import Fold
from training.reporting import plots
from training.reporting.card_source import CONSTRAINTS_FILE, FORMS_FILE
from training.reporting.explain_plots import highest_risk_row, write_cohort_views, write_waterfall
from training.reporting.publish import publish_card
from training.tracking.registry import model_name, register_version
from training.tracking.store import (
    COHORT_SOURCE_TAG,
    artifact_dir,
    connect,
    finite_metrics,
    metric_key,
    write_csv,
    write_json,
)

#: The "models from code" file MLflow runs to build the pyfunc model.
PYFUNC_ENTRY = Path(models.__file__).resolve().parent / "pyfunc_entry.py"
#: Runtime requirements of a logged model (exact versions of this environment).
MODEL_REQUIREMENTS = ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "xgboost-cpu")

FoldCallback = Callable[[Fold, dict[str, dict[str, float]]], None]


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
    #: What a user should know of the run (the events per candidate feature, a small cohort).
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The ``train --json`` object."""
        return {
            "run_id": self.run_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "n_patients": self.n_patients,
            "n_events": self.n_events,
            "bundle_sha256": self.bundle_sha256,
            "notes": list(self.notes),
            "metrics": {model: {metric: stat.as_dict() for metric, stat in metrics.items()}
                        for model, metrics in self.evaluation.summary.items()},
            "primary_metric": PRIMARY_METRIC[self.evaluation.kind],
            # the model minus each other model on the primary metric, paired by fold
            "differences": {other: stat.as_dict()
                            for other, stat in self.evaluation.differences.items()},
        }


@dataclass
class RunContext:
    """What a run records before evaluating: the cohort's name, digest and summary, the
    labels, the load report, and design rows (all of them, or a bounded random sample on
    Dask) with their labels for the dataset record and the missingness check."""

    source: str
    cohort_name: str
    synthetic: bool
    digest: str
    labels: Labels
    config: TrainConfig
    summary: dict[str, Any]
    load_report: dict[str, Any]
    design_rows: pd.DataFrame
    design_labels: Labels
    tags: dict[str, str]


def cohort_summary(metadata: dict[str, Any], synthetic: bool, digest: str, labels: Labels,
                   patients: pd.DataFrame, missing_share: pd.Series,
                   cohort_size: dict[str, Any]) -> dict[str, Any]:
    """The ``cohort_summary.json`` of a run; ``patients`` (receptor subtype, age) are the
    labelled patients, ``missing_share`` the share of them missing each design column."""
    return {
        "cohort": metadata.get("name"),
        "title": metadata.get("title"),
        "synthetic": synthetic,
        "digest": digest,
        "task": labels.task,
        "definition": labels.definition,
        "origin": labels.origin,
        "proxy": labels.proxy,
        "n_patients": len(labels.y),
        "n_events": labels.n_events,
        "median_follow_up_months": float(labels.y["time_months"].median()),
        "latest_event_months": _latest_event(labels),
        "receptor_subtype": patients["receptor_subtype"].astype("object").value_counts()
        .to_dict(),
        "age_years": patients["age_years"].astype(float).describe().round(2).to_dict(),
        "missing_share": missing_share.round(4).to_dict(),
        "exclusions": [{"reason": e.reason, "count": e.count} for e in labels.exclusions],
        "cohort_size": cohort_size,
    }


def _latest_event(labels: Labels) -> float | None:
    """Months from the origin to the cohort's last event (None for a binary task or no event):
    whether a fitting horizon censors any event."""
    if labels.kind != "survival" or not labels.y["event"].any():
        return None
    return float(labels.y.loc[labels.y["event"].astype(bool), "time_months"].max())


def enter_project_run(task: str) -> None:
    """Under ``mlflow run`` (``MLFLOW_RUN_ID`` set), make the run it opened the active run, in
    its experiment, so mbcrisk's runs nest under it (the variable is then cleared: MLflow
    would otherwise resume that run instead of starting the nested ones); otherwise use the
    task's experiment (``mbcrisk-<task>``). Inside an active run (the project's, entered for an
    earlier task of ``main``), nothing changes."""
    if mlflow.active_run() is not None:
        return
    project_run = os.environ.pop("MLFLOW_RUN_ID", None)
    if project_run is None:
        mlflow.set_experiment(f"mbcrisk-{task}")
    else:
        mlflow.start_run(run_id=project_run)  # `mlflow run` ends it when the command exits


def record_run(context: RunContext, n_folds: int,
               evaluate: Callable[[FoldCallback], Evaluation],
               final_bundle: Callable[[Evaluation], tuple[ModelBundle, pd.DataFrame]] | None,
               model: BaseEstimator, on_fold: Callable[[Fold], None] | None = None,
               on_start: Callable[[int], None] | None = None) -> TrainResult:
    """Run ``evaluate`` (then, unless ``final_bundle`` is None, fit the bundle and get the
    design rows to explain) inside one MLflow run with nested fold runs; register the bundle
    as ``challenger`` and publish its card. ``model``: the boosted model whose
    hyperparameters (defaults included) the run records."""
    labels = context.labels
    connect()
    enter_project_run(labels.task)
    if on_start is not None:
        on_start(n_folds)
    with mlflow.start_run(run_name=f"{labels.task} on {context.cohort_name}",
                          nested=mlflow.active_run() is not None) as run:
        log_context(context)

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

        log_effective_params(model)
        evaluation = evaluate(log_fold)
        log_evaluation(evaluation, labels, context.synthetic)
        name = version_number = sha = None
        if final_bundle is not None:
            bundle, explained_rows = final_bundle(evaluation)
            mlflow.log_param("model.risk_group_cutpoints", str(
                [float(format(q, ".4g")) for q in bundle.risk_group_cutpoints]))
            log_recalibration(bundle)
            log_linear_forms(bundle)
            log_explanations(bundle, explained_rows, context.synthetic)
            name, version_number, sha = log_and_register(bundle, explained_rows, labels,
                                                         run.info.run_id)
    if final_bundle is not None:
        publish_card(f"{name}/{version_number}")
    return TrainResult(run.info.run_id, name, version_number, len(labels.y), labels.n_events,
                       evaluation, sha)


def log_context(context: RunContext) -> None:
    """Params, tags, the dataset record and the cohort, label, load and missingness files."""
    labels = context.labels
    mlflow.log_params(context.config.flatten())
    mlflow.set_tags({
        "mbcrisk.task": labels.task,
        "mbcrisk.cohort": context.cohort_name,
        "mbcrisk.synthetic": str(context.synthetic).lower(),
        "mbcrisk.cohort_digest": context.digest,
        "mbcrisk.label_definition": labels.definition,
        "mbcrisk.code_version": version("mbcrisk"),
        "mbcrisk.engine": context.config.engine,
        COHORT_SOURCE_TAG: _source_reference(context.source),
        **context.tags,
    })
    if context.synthetic:
        mlflow.set_tag("mbcrisk.notice", "trained on SYNTHETIC data")
    target = "label" if labels.kind == "binary" else "event"
    rows = context.design_rows
    dataset = mlflow.data.from_pandas(
        rows.reset_index(drop=True).assign(
            **{target: context.design_labels.y[target].to_numpy(dtype=float)}),
        source=CodeDatasetSource({"mbcrisk.cohort_source": context.source}), targets=target,
        name=context.cohort_name, digest=context.digest[:32])
    mlflow.log_input(dataset, context="training")
    with artifact_dir() as folder:
        write_json(folder / "cohort_summary.json", context.summary)
        write_json(folder / "load_report.json", context.load_report)
        write_json(folder / "labels.json", {
            "task": labels.task, "definition": labels.definition, "origin": labels.origin,
            "proxy": labels.proxy, "horizon_months": labels.horizon_months,
            "eligible_sample_types": list(labels.eligible_sample_types),
            "exclusions": [{"reason": e.reason, "count": e.count} for e in labels.exclusions],
            "samples_not_used": labels.samples_not_used,
        })
        write_json(folder / "config.json", context.config.flatten())
        missingness = informative_missingness(rows, context.design_labels)
        write_csv(folder / "missingness_check.csv", missingness)
    flagged = missingness.loc[missingness["flagged"], "feature"].tolist()
    mlflow.set_tag("mbcrisk.missingness_flagged", ", ".join(flagged) or "none")


def _source_reference(source: str) -> str:
    """A cohort source that can be read again from elsewhere: an existing path made absolute,
    a built-in cohort's name as it is."""
    path = Path(source)
    return str(path.resolve()) if path.exists() else source


def log_evaluation(evaluation: Evaluation, labels: Labels, synthetic: bool) -> None:
    """Summary and subgroup metrics, fold and subgroup tables, and the evaluation plots."""
    metrics = {}
    for model, stats in evaluation.summary.items():
        for metric, stat in stats.items():
            for field_name in ("mean", "sd", "ci_low", "ci_high"):
                metrics[metric_key(model, metric, field_name)] = getattr(stat, field_name)
    primary = PRIMARY_METRIC[evaluation.kind]
    for other, stat in evaluation.differences.items():
        for field_name in ("mean", "ci_low", "ci_high"):
            metrics[metric_key("difference", f"model_minus_{other}", primary, field_name)] = (
                getattr(stat, field_name))
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


def build_bundle(fitted: Pipeline, input_features: list[str], labels: Labels,
                 cohort: dict[str, Any], digest: str, evaluation: Evaluation,
                 config: TrainConfig, domain_rows: pd.DataFrame) -> ModelBundle:
    """The deployable bundle of a pipeline fitted on every patient, with its meaning and
    evaluation; the applicability domain and the reference set of the unknown-is-unknown rule
    are learnt from ``domain_rows`` of the design."""
    model_features = list(fitted[:-1].get_feature_names_out())
    survival = labels.kind == "survival"
    return ModelBundle(
        task=labels.task, kind=labels.kind, pipeline=fitted, input_features=input_features,
        label_definition=labels.definition, origin=labels.origin,
        origin_sample_types=tuple(labels.eligible_sample_types),
        horizons_months=tuple(config.evaluation.horizons_months) if survival
        else (labels.horizon_months or 0.0,),
        training_digest=digest,
        cohort={**cohort, "n_patients": len(labels.y), "n_events": labels.n_events},
        metrics={model: {m: round(s.mean, 6) for m, s in stats.items()}
                 for model, stats in evaluation.summary.items()},
        risk_group_cutpoints=tuple(float(q) for q in np.quantile(evaluation.oof["model"][0],
                                                                  [1 / 3, 2 / 3])),
        applicability=ApplicabilityDomain.fit(domain_rows, model_features),
        unprofiled=UnprofiledReference.fit(domain_rows, model_features),
        training_moments=FeatureMoments.of(
            domain_rows.reindex(columns=model_features).to_numpy(dtype=float), model_features),
        explainer={"method": "exact path-dependent TreeSHAP (per-leaf tables; equal to xgboost "
                            "pred_contribs)",
                   "scale": fitted[-1].risk_scale if survival
                   else "log odds (before calibration)"},
    )


def log_recalibration(bundle: ModelBundle) -> None:
    """The registered survival model's recalibration (:mod:`models.estimators.recalibration`) as
    ``model.recalibration.*`` params (4 significant digits, as the card shows them), for the
    card."""
    recalibration = getattr(bundle.pipeline[-1], "recalibration_", None)
    if recalibration is None:
        return
    mlflow.log_params({f"model.recalibration.{key}": value if isinstance(value, str)
                       else format(float(value), ".4g")
                       for key, value in asdict(recalibration).items()})


def log_linear_forms(bundle: ModelBundle) -> None:
    """The functional forms of the registered survival model's linear part, those of the
    features it uses, with their sources (``linear_forms.json``), for the card; nothing for a
    model without a linear part."""
    linear = getattr(bundle.pipeline[-1], "linear_", None)
    forms = (linear.forms([str(n) for n in bundle.pipeline[-1].feature_names_in_])
             if linear is not None else [])
    if forms:
        with artifact_dir() as folder:
            write_json(folder / FORMS_FILE, [asdict(form) for form in forms])


def log_explanations(bundle: ModelBundle, X: pd.DataFrame, synthetic: bool) -> None:
    """Global importance, beeswarm and dependence plots of the final model on the training
    rows, and the waterfall of the highest-risk patient, all as the API explains them (unknown
    gene-level inputs averaged, one entry), under ``explanations/`` (the patient is not
    named)."""
    _, explanation, _ = explain_rows(bundle, X)
    note = " (SYNTHETIC data)" if synthetic else ""
    with artifact_dir() as folder:
        views = folder / "explanations"
        write_cohort_views(explanation, views, note)
        write_waterfall(explanation, highest_risk_row(explanation),
                        views / "waterfall_highest_risk.png", note)


def log_and_register(bundle: ModelBundle, X: pd.DataFrame, labels: Labels,
                     run_id: str) -> tuple[str, str, str]:
    """Log the bundle as the run's pyfunc model and register it; returns name, version and
    the bundle's SHA-256."""
    with tempfile.TemporaryDirectory(prefix="mbcrisk-bundle-") as folder:
        path = save_bundle(bundle, folder)
        sha = file_sha256(path)
        example = X.head(3).reset_index(drop=True)
        signature = infer_signature(example, predict(bundle, example))
        name = model_name(labels.task)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(PYFUNC_ENTRY),
            artifacts={"bundle": str(path)},
            signature=signature, input_example=example,
            pip_requirements=[f"{p}=={version(p)}" for p in MODEL_REQUIREMENTS],
            code_paths=[str(Path(package.__file__).resolve().parent)
                        for package in (features, models)],
        )
    mlflow.log_param("model.bundle_sha256", sha)
    version_number = register_version(name, info.model_uri, run_id, sha, labels.task)
    return name, version_number, sha


def log_effective_params(model: BaseEstimator) -> None:
    """The boosted model's hyperparameters as used (defaults included), and, when it is
    constrained, the adverse factors it is constrained on with their sources
    (``monotone_constraints.json``), for the card."""
    params = model.get_params()
    mlflow.log_params({f"model.effective.{k}": v for k, v in sorted(params.items())})
    if params.get("monotone"):
        with artifact_dir() as folder:
            write_json(folder / CONSTRAINTS_FILE,
                       [asdict(factor) for factor in ADVERSE_FACTORS])
