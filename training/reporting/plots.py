"""Evaluation plots (PNG), drawn from out-of-fold predictions of the first CV repeat."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from features.labels import Labels  # noqa: E402
from training.evaluation.binary_metrics import calibration_table, net_benefit  # noqa: E402
from training.evaluation.cross_validation import Evaluation  # noqa: E402
from training.evaluation.survival_metrics import horizon_status, kaplan_meier  # noqa: E402

_DPI = 110


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def survival_plots(evaluation: Evaluation, labels: Labels, folder: Path,
                   synthetic: bool) -> list[Path]:
    """Kaplan-Meier by predicted risk group, calibration at horizons, td-AUC over time."""
    note = " (SYNTHETIC data)" if synthetic else ""
    time = labels.y["time_months"].to_numpy()
    event = labels.y["event"].to_numpy(dtype=bool)
    risk = evaluation.oof["model"][0]
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    cut = np.quantile(risk, [1 / 3, 2 / 3])
    groups = np.digitize(risk, cut)
    for g, name in enumerate(("low", "intermediate", "high")):
        knots, surv = kaplan_meier(time[groups == g], event[groups == g])
        ax.step(np.r_[0, knots], np.r_[1, surv], where="post", label=f"{name} risk")
    ax.set(xlabel="months", ylabel="event-free probability",
           title=f"Kaplan-Meier by out-of-fold risk tertile{note}")
    ax.legend()
    paths.append(_save(fig, folder / "km_by_risk_group.png"))
    horizons = evaluation.horizons_months
    fig, axes = plt.subplots(1, len(horizons), figsize=(3.2 * len(horizons), 3.4))
    for k, (ax, h) in enumerate(zip(np.atleast_1d(axes), horizons, strict=True)):
        predicted = 1.0 - evaluation.oof_survival[0, :, k]
        status, weight = horizon_status(time, event, time, event, h)
        table = calibration_table(status, predicted, weight, groups=10)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.plot([r["predicted"] for r in table], [r["observed"] for r in table], "o-")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted risk", ylabel="observed (IPCW)",
               title=f"{h:g} months")
    fig.suptitle(f"Calibration at horizons{note}")
    paths.append(_save(fig, folder / "calibration_at_horizons.png"))
    fig, ax = plt.subplots(figsize=(6, 4))
    metrics = evaluation.fold_metrics
    for model in evaluation.oof:
        rows = metrics[(metrics["model"] == model) & metrics["metric"].str.startswith("td_auc_")]
        if rows.empty:
            continue
        by_h = rows.groupby("metric")["value"].agg(["mean", "std"])
        hs = np.array([float(m.removeprefix("td_auc_")) for m in by_h.index])
        order = np.argsort(hs)
        ax.errorbar(hs[order], by_h["mean"].to_numpy()[order], by_h["std"].to_numpy()[order],
                    marker="o", capsize=3, label=model)
    ax.set(xlabel="months", ylabel="cumulative/dynamic AUC",
           title=f"Time-dependent AUC (mean, sd over folds){note}")
    ax.legend()
    paths.append(_save(fig, folder / "td_auc.png"))
    return paths


def binary_plots(evaluation: Evaluation, labels: Labels, folder: Path,
                 synthetic: bool) -> list[Path]:
    """ROC, precision-recall, calibration and decision curve of out-of-fold probabilities."""
    note = " (SYNTHETIC data)" if synthetic else ""
    y = labels.y["label"].to_numpy(dtype=int)
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for model, oof in evaluation.oof.items():
        fpr, tpr, _ = roc_curve(y, oof[0])
        precision, recall, _ = precision_recall_curve(y, oof[0])
        roc_ax.plot(fpr, tpr, label=model)
        pr_ax.plot(recall, precision, label=model)
    roc_ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC{note}")
    pr_ax.axhline(y.mean(), color="grey", lw=0.8)
    pr_ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall{note}")
    roc_ax.legend()
    paths = [_save(fig, folder / "roc_pr.png")]
    fig, (cal_ax, nb_ax) = plt.subplots(1, 2, figsize=(10, 4))
    thresholds = np.linspace(0.02, 0.6, 30)
    for model, oof in evaluation.oof.items():
        table = calibration_table(y, oof[0], groups=10)
        cal_ax.plot([r["predicted"] for r in table], [r["observed"] for r in table], "o-",
                    label=model)
        nb_ax.plot(thresholds, net_benefit(y, oof[0], thresholds), label=model)
    prevalence = y.mean()
    nb_ax.plot(thresholds, prevalence - (1 - prevalence) * thresholds / (1 - thresholds),
               color="grey", lw=0.8, label="treat all")
    nb_ax.axhline(0, color="black", lw=0.8)
    cal_ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    cal_ax.set(xlabel="predicted probability", ylabel="observed", title=f"Calibration{note}")
    nb_ax.set(xlabel="threshold probability", ylabel="net benefit",
              ylim=(-0.05, max(0.05, prevalence * 1.1)), title="Decision curve")
    cal_ax.legend()
    nb_ax.legend()
    paths.append(_save(fig, folder / "calibration_decision_curve.png"))
    return paths
