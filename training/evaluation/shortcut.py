"""Shortcuts in a cohort: when how patients were tested (the panel, the assay era, which inputs
are unknown) predicts the outcome by itself, as in retrospective cohorts whose archival
primaries were sequenced because the patient later relapsed, the pooled discrimination
overstates what a model knows about the patient. The shortcut model (a linear model on
missingness alone, :data:`models.estimators.factory.SHORTCUT_BASELINE`) measures it; the
model's discrimination within each panel stratum is what it knows beyond it."""

from __future__ import annotations

from collections.abc import Mapping

from models.estimators.factory import SHORTCUT_BASELINE
from training.evaluation.cross_validation import PRIMARY_METRIC, WITHIN_PANEL, Evaluation

#: Above this lower end of the shortcut model's interval (Harrell's C or AUROC), the shortcut
#: is clear: the pooled figure overstates what the model knows.
SHORTCUT_LIMIT = 0.55


def shortcut_is_clear(metrics: Mapping[str, float], kind: str) -> bool:
    """Whether a run's logged ``metrics`` show a clear shortcut (``kind``: survival or
    binary)."""
    return metrics.get(f"{SHORTCUT_BASELINE}.{PRIMARY_METRIC[kind]}.ci_low", 0.0) > SHORTCUT_LIMIT


def within_panel_metric(kind: str) -> str:
    """The logged name of the model's mean primary metric within panel strata."""
    return f"model.{WITHIN_PANEL[kind]}.mean"


def shortcut_notes(evaluation: Evaluation) -> list[str]:
    """The run's note on the shortcut check (empty without a shortcut model)."""
    metric = PRIMARY_METRIC[evaluation.kind]
    if SHORTCUT_BASELINE not in evaluation.summary:
        return []
    found = evaluation.summary[SHORTCUT_BASELINE][metric]
    model = evaluation.summary["model"]
    within = model.get(WITHIN_PANEL[evaluation.kind])
    beside = (f"; the model's {metric} within panel strata {within.mean:.3f} beside "
              f"{model[metric].mean:.3f} pooled" if within is not None else "")
    if found.ci_low > SHORTCUT_LIMIT:
        return [f"SHORTCUT: missingness alone (the panel, the assay era) predicts the outcome, "
                f"{metric} {found.mean:.3f} ({found.ci_low:.3f} to {found.ci_high:.3f}){beside}: "
                "the pooled figure overstates what the model knows; the gate compares within "
                "panel strata where both versions have that figure"]
    return [f"shortcut check: missingness alone reaches {metric} {found.mean:.3f} "
            f"({found.ci_low:.3f} to {found.ci_high:.3f}){beside}: no clear shortcut"]
