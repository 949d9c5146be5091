"""Cross-validated evaluation of a model and its baselines on identical folds.

Every pipeline is cloned and fitted on the training rows of each fold only; predictions on the
test rows feed pure metric functions. Out-of-fold predictions of each repeat are kept for
subgroup metrics and plots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from features.labels import Labels, survival_target
from models.estimators.factory import predict_probability, predict_risk, predict_survival
from training.config import TrainConfig
from training.evaluation.binary_metrics import (
    auroc_within,
    binary_metrics,
    calibration_slope_intercept,
)
from training.evaluation.splits import Fold, patient_folds
from training.evaluation.summary import Stat, corrected_interval
from training.evaluation.survival_metrics import (
    cumulative_dynamic_auc,
    harrell_c,
    harrell_c_within,
    horizon_status,
    integrated_brier_score,
    kaplan_meier,
    observed_risk,
    step_at,
    uno_c,
)
from training.parallel import in_workers

KM_REFERENCE = "kaplan_meier"
IBS_GRID_POINTS = 50
#: The metric that ranks models of each kind (and gates promotion).
PRIMARY_METRIC = {"survival": "harrell_c", "binary": "auroc"}


@dataclass
class Evaluation:
    """Fold metrics, their summaries, out-of-fold predictions and subgroup results."""

    kind: str
    fold_metrics: pd.DataFrame  # columns: repeat, fold, model, metric, value
    summary: dict[str, dict[str, Stat]]
    oof: dict[str, np.ndarray]  # model -> (n_repeats, n_patients) risk or probability
    oof_survival: np.ndarray | None  # (n_repeats, n_patients, n_horizons) of "model"
    subgroups: pd.DataFrame
    tau_months: float | None
    horizons_months: tuple[float, ...] = field(default_factory=tuple)
    #: The registered model minus each other model on the primary metric, paired by fold.
    differences: dict[str, Stat] = field(default_factory=dict)

    def metric(self, model: str, name: str) -> Stat:
        """Summary of one metric of one model."""
        return self.summary[model][name]


def evaluate(X: pd.DataFrame, labels: Labels, pipelines: dict[str, Pipeline],
             config: TrainConfig, subgroup_factors: pd.DataFrame,
             on_fold: Callable[[Fold, dict[str, dict[str, float]]], None] | None = None,
             ) -> Evaluation:
    """Repeated K-fold evaluation of every pipeline on the same patient-grouped folds.

    Each (fold, pipeline) fit is independent of the others: ``config.cv.n_jobs`` of them run at
    once, in worker processes (:mod:`training.parallel`), and the results are the same for any
    ``n_jobs``. ``on_fold`` is called in fold order, in the calling process, as each fold
    completes."""
    survival = labels.kind == "survival"
    y = labels.y
    strata = (y["event"] if survival else y["label"]).to_numpy(dtype=int)
    cv = config.cv
    n = len(y)
    oof = {name: np.full((cv.n_repeats, n), np.nan) for name in pipelines}
    horizons = tuple(config.evaluation.horizons_months) if survival else ()
    oof_survival = np.full((cv.n_repeats, n, len(horizons)), np.nan) if survival else None
    tau = truncation_time(y, config) if survival else None
    folds = list(patient_folds(y.index.to_numpy(), strata, cv.n_splits, cv.n_repeats,
                               cv.random_state))
    results = in_workers(_fold_fit, [(X, labels, fold, pipelines[name], name == "model",
                                      horizons, tau) for fold in folds for name in pipelines],
                         cv.n_jobs)
    rows: list[dict] = []
    strata = stratum_codes(subgroup_factors)
    for fold in folds:
        fold_results: dict[str, dict[str, float]] = {}
        for name in pipelines:
            result = next(results)
            oof[name][fold.repeat, fold.test] = result.prediction
            if strata is not None:
                result.metrics[WITHIN_PANEL[labels.kind]] = _within(
                    labels, fold.test, result.prediction, strata[fold.test])
            if result.curves is not None:
                oof_survival[fold.repeat, fold.test] = result.curves
            fold_results[name] = result.metrics
            rows.extend({"repeat": fold.repeat, "fold": fold.fold, "model": name,
                         "metric": metric, "value": value}
                        for metric, value in result.metrics.items())
        if survival:
            fold_results[KM_REFERENCE] = {"ibs": km_reference_ibs(y, fold, tau)}
            rows.append({"repeat": fold.repeat, "fold": fold.fold, "model": KM_REFERENCE,
                         "metric": "ibs", "value": fold_results[KM_REFERENCE]["ibs"]})
        if on_fold is not None:
            on_fold(fold, fold_results)
    fold_metrics = pd.DataFrame(rows)
    summary = summarise(fold_metrics, 1.0 / cv.n_splits, config.evaluation.interval_level_percent)
    subgroups = subgroup_metrics(labels, oof, subgroup_factors,
                                 config.evaluation.min_subgroup_size)
    differences = paired_differences(fold_metrics, PRIMARY_METRIC[labels.kind],
                                     1.0 / cv.n_splits, config.evaluation.interval_level_percent)
    return Evaluation(labels.kind, fold_metrics, summary, oof, oof_survival, subgroups, tau,
                      horizons, differences)


#: The primary metric counted within each panel stratum only (a pair of patients is compared
#: only when their samples were sequenced on the same panels).
WITHIN_PANEL = {kind: f"{metric}_within_panel" for kind, metric in PRIMARY_METRIC.items()}


def stratum_codes(subgroup_factors: pd.DataFrame) -> np.ndarray | None:
    """Each patient's panel stratum (the panels of her eligible samples), or None when the
    cohort has one panel stratum or none."""
    if "panel" not in subgroup_factors.columns or subgroup_factors["panel"].nunique() < 2:
        return None
    return subgroup_factors["panel"].astype(str).to_numpy()


def _within(labels: Labels, rows: np.ndarray, prediction: np.ndarray,
            strata: np.ndarray) -> float:
    y = labels.y.iloc[rows]
    if labels.kind == "survival":
        return harrell_c_within(y["time_months"].to_numpy(), y["event"].to_numpy(),
                                prediction, strata)
    return auroc_within(y["label"].to_numpy(), prediction, strata)


@dataclass(frozen=True)
class _FoldFit:
    """One pipeline fitted on one fold's training rows, read on its test rows: the metrics,
    the prediction (risk score, higher = worse, or probability of resistance) and, for the
    registered survival model, the survival curves at the horizons."""

    metrics: dict[str, float]
    prediction: np.ndarray
    curves: np.ndarray | None


def _fold_fit(X: pd.DataFrame, labels: Labels, fold: Fold, pipeline: Pipeline,
              keep_curves: bool, horizons: tuple[float, ...], tau: float | None) -> _FoldFit:
    """Fit a clone of ``pipeline`` on ``fold``'s training rows only and score its test rows."""
    fitted = clone(pipeline).fit(X.iloc[fold.train], _target(labels, fold.train))
    X_test = X.iloc[fold.test]
    if labels.kind != "survival":
        probability = predict_probability(fitted, X_test)
        return _FoldFit(binary_metrics(labels.y["label"].to_numpy()[fold.test], probability),
                        probability, None)
    risk = predict_risk(fitted, X_test)
    metrics = survival_fold_metrics(labels.y, fold, risk,
                                    partial(predict_survival, fitted, X_test), horizons, tau)
    curves = predict_survival(fitted, X_test, np.asarray(horizons)) if keep_curves else None
    return _FoldFit(metrics, risk, curves)


def paired_differences(fold_metrics: pd.DataFrame, metric: str, test_fraction: float,
                       level_percent: float, reference: str = "model") -> dict[str, Stat]:
    """``reference`` minus every other model on ``metric``, fold by fold (the same test
    patients), with the corrected resampled-t interval: positive means ``reference`` is
    better for a metric where higher is better (C, AUROC)."""
    table = fold_metrics[fold_metrics["metric"] == metric].pivot_table(
        index=["repeat", "fold"], columns="model", values="value")
    if reference not in table.columns:
        return {}
    return {other: corrected_interval((table[reference] - table[other]).to_numpy(),
                                      test_fraction, level_percent)
            for other in table.columns if other != reference}


def summarise(fold_metrics: pd.DataFrame, test_fraction: float,
              level_percent: float) -> dict[str, dict[str, Stat]]:
    """Mean and corrected resampled-t interval of every (model, metric) over the folds."""
    summary: dict[str, dict[str, Stat]] = {}
    for (model, metric), values in fold_metrics.groupby(["model", "metric"], sort=False)["value"]:
        summary.setdefault(model, {})[metric] = corrected_interval(
            values.to_numpy(), test_fraction, level_percent)
    return summary


def _target(labels: Labels, rows: np.ndarray) -> np.ndarray:
    y = labels.y.iloc[rows]
    if labels.kind == "survival":
        return survival_target(y["time_months"].to_numpy(), y["event"].to_numpy())
    return y["label"].to_numpy(dtype=int)


def truncation_time(y: pd.DataFrame, config: TrainConfig) -> float:
    """Uno's truncation time: the configured tau, capped at the 95th percentile of follow-up."""
    return float(min(config.evaluation.tau_months, np.quantile(y["time_months"], 0.95)))


def _ibs_grid(train_time: np.ndarray, test_time: np.ndarray, tau: float) -> np.ndarray | None:
    low = max(1.0, float(test_time.min()))
    high = min(tau, float(test_time.max()) - 1e-6, float(train_time.max()))
    if high <= low:
        return None
    return np.linspace(low, high, IBS_GRID_POINTS)


#: S(t | x) of the test patients at the given times (months), shape (n_test, n_times).
SurvivalAt = Callable[[np.ndarray], np.ndarray]


def survival_fold_metrics(y: pd.DataFrame, fold: Fold, risk: np.ndarray,
                          survival_at: SurvivalAt, horizons: tuple[float, ...],
                          tau: float) -> dict[str, float]:
    """Discrimination, calibration and Brier metrics of one fitted survival model, from its
    test risk scores (higher = worse) and its survival curves ``survival_at``."""
    t_train = y["time_months"].to_numpy()[fold.train]
    e_train = y["event"].to_numpy(dtype=bool)[fold.train]
    t_test = y["time_months"].to_numpy()[fold.test]
    e_test = y["event"].to_numpy(dtype=bool)[fold.test]
    metrics = {"harrell_c": harrell_c(t_test, e_test, risk),
               "uno_c": uno_c(t_train, e_train, t_test, e_test, risk, tau)}
    valid = [h for h in horizons if t_test.min() <= h < t_test.max() and h < t_train.max()]
    if valid:
        auc, mean_auc = cumulative_dynamic_auc(t_train, e_train, t_test, e_test, risk,
                                               np.asarray(valid))
        metrics.update({f"td_auc_{h:g}": float(a) for h, a in zip(valid, auc, strict=True)})
        metrics["mean_td_auc"] = mean_auc
    grid = _ibs_grid(t_train, t_test, tau)
    if grid is not None:
        surv_grid = survival_at(grid)
        metrics["ibs"] = integrated_brier_score(t_train, e_train, t_test, e_test, surv_grid, grid)
    surv_h = survival_at(np.asarray(valid)) if valid else None
    for k, h in enumerate(valid):
        predicted = 1.0 - surv_h[:, k]
        status, weight = horizon_status(t_train, e_train, t_test, e_test, h)
        slope, intercept = calibration_slope_intercept(status, predicted, weight)
        metrics[f"cal_slope_{h:g}"] = slope
        metrics[f"cal_intercept_{h:g}"] = intercept
        expected = float(predicted.mean())
        metrics[f"cal_oe_{h:g}"] = observed_risk(t_test, e_test, h) / expected
    return metrics


def km_reference_ibs(y: pd.DataFrame, fold: Fold, tau: float) -> float:
    """IBS of the training Kaplan-Meier curve used for every test patient (the reference)."""
    t_train = y["time_months"].to_numpy()[fold.train]
    e_train = y["event"].to_numpy(dtype=bool)[fold.train]
    t_test = y["time_months"].to_numpy()[fold.test]
    e_test = y["event"].to_numpy(dtype=bool)[fold.test]
    grid = _ibs_grid(t_train, t_test, tau)
    if grid is None:
        return float("nan")
    knots, values = kaplan_meier(t_train, e_train)
    surv = np.tile(step_at(knots, values, grid), (len(t_test), 1))
    return integrated_brier_score(t_train, e_train, t_test, e_test, surv, grid)


def subgroup_metrics(labels: Labels, oof: dict[str, np.ndarray], factors: pd.DataFrame,
                     min_size: int) -> pd.DataFrame:
    """Primary metric per subgroup level on pooled out-of-fold predictions of each repeat:
    mean and sd over repeats, with the subgroup's size and events."""
    survival = labels.kind == "survival"
    metric = PRIMARY_METRIC[labels.kind]
    y = labels.y
    outcome = (y["event"] if survival else y["label"]).to_numpy(dtype=bool)
    rows = []
    for factor in factors.columns:
        levels = factors[factor].astype("object").fillna("unknown").to_numpy()
        for level in pd.unique(levels):
            mask = levels == level
            n_events = int(outcome[mask].sum())
            if mask.sum() < min_size or n_events < 5 or n_events == mask.sum():
                continue
            for model, predictions in oof.items():
                values = [_primary(y, mask, predictions[r], survival)
                          for r in range(predictions.shape[0])]
                rows.append({"factor": factor, "level": str(level), "model": model,
                             "metric": metric, "mean": float(np.nanmean(values)),
                             "sd": float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0,
                             "n": int(mask.sum()), "n_events": n_events})
    return pd.DataFrame(rows, columns=["factor", "level", "model", "metric", "mean", "sd", "n",
                                       "n_events"])


def _primary(y: pd.DataFrame, mask: np.ndarray, prediction: np.ndarray,
             survival: bool) -> float:
    if survival:
        return harrell_c(y["time_months"].to_numpy()[mask],
                         y["event"].to_numpy(dtype=bool)[mask], prediction[mask])
    labels = y["label"].to_numpy()[mask]
    return float(roc_auc_score(labels, prediction[mask]))


def subgroup_factors(cohort_patients: pd.DataFrame, samples: pd.DataFrame,
                     index: pd.Index, drop_constant: bool = True) -> pd.DataFrame:
    """Receptor subtype, age band, and (where it varies, unless not ``drop_constant``: a
    partition's factors are pooled before) eligible sample types and panels."""
    patients = cohort_patients.loc[index]
    age = patients["age_years"].astype(float)
    factors = pd.DataFrame({
        "receptor_subtype": patients["receptor_subtype"].astype("object"),
        "age_band": pd.cut(age, [0, 50, 70, 200], right=False,
                           labels=["under_50", "50_to_69", "70_plus"]).astype("object"),
    }, index=index)
    if not samples.empty or not drop_constant:
        types = samples.groupby("patient_id")["sample_type"].agg(
            lambda s: "+".join(sorted(set(map(str, s)))))
        panels = samples.groupby("patient_id")["mutation_panel"].agg(
            lambda s: "+".join(sorted(set(map(str, s.dropna())))) or "none")
        for name, values in (("sample_type", types), ("panel", panels)):
            column = values.reindex(index).fillna("none")
            if column.nunique() > 1 or not drop_constant:
                factors[name] = column
    return factors
