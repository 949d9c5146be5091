"""The model and its baselines for a task, each one pipeline from raw design to prediction."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import Pipeline

from features.pipeline import (
    MissingnessOnly,
    linear_preprocessing,
    pandas_pipeline,
    tree_preprocessing,
)
from models.estimators.cox import PenalizedCox
from models.estimators.resistance import ResistanceModel
from models.estimators.risk import RiskModel

#: Pipelines compared for each kind of task; "model" is the one registered.
MODEL_NAMES = {
    "survival": ("model", "cox_clinical", "cox_all"),
    "binary": ("model", "logistic_clinical", "logistic_all"),
}
#: The boosted model on clinical features only: the ablation of the genomic features.
CLINICAL_ABLATION = "model_clinical"
#: The penalised linear model on missingness alone (which inputs are unknown: the panel, the
#: assay era): how much the outcome is predicted by how a patient was tested, not by her.
SHORTCUT_BASELINE = "shortcut"
#: The penalised linear model on the clinical features and the well-known resistance markers
#: (:data:`features.genes.RESISTANCE_MARKER_PREFIXES`), a baseline of the treatment tasks.
MARKER_BASELINES = {"survival": "cox_markers", "binary": "logistic_markers"}


def build_pipelines(kind: str, *, model_params: dict[str, Any], min_gene_frequency: float,
                    min_gene_count: int, cox_alphas: tuple[float, ...],
                    logistic_cs: tuple[float, ...], random_state: int,
                    ablation: bool = False, markers: bool = False,
                    shortcut: bool = False) -> dict[str, Pipeline]:
    """Unfitted pipelines of ``kind`` ("survival" or "binary"): the boosted model and the
    penalised linear baselines on clinical features only and on all features; with
    ``ablation``, also the boosted model on clinical features only
    (:data:`CLINICAL_ABLATION`), so the genomic features' contribution is measured on the same
    folds; with ``markers``, also the linear baseline on the clinical features and the known
    resistance markers (:data:`MARKER_BASELINES`); with ``shortcut``, also the linear model on
    missingness alone (:data:`SHORTCUT_BASELINE`)."""
    tree_steps = tree_preprocessing(min_gene_frequency, min_gene_count)
    pipelines: dict[str, Pipeline] = {}
    for columns, suffix in (("clinical", "clinical"), ("all", "all"), ("markers", "markers"),
                            (None, SHORTCUT_BASELINE)):
        steps = (linear_preprocessing(min_gene_frequency, min_gene_count, columns)
                 if columns is not None else [("missing", MissingnessOnly())])
        if kind == "survival":
            final = PenalizedCox(alphas=tuple(cox_alphas), random_state=random_state)
            name = f"cox_{suffix}" if columns is not None else suffix
        else:
            final = LogisticRegressionCV(Cs=list(logistic_cs), l1_ratios=(0.0,), cv=3,
                                         scoring="neg_log_loss", max_iter=5000,
                                         random_state=random_state,
                                         use_legacy_attributes=False)
            name = f"logistic_{suffix}" if columns is not None else suffix
        pipelines[name] = pandas_pipeline([*steps, ("model", final)])
    params = {"random_state": random_state, **model_params}
    booster = RiskModel(**params) if kind == "survival" else ResistanceModel(**params)
    pipelines["model"] = pandas_pipeline([*tree_steps, ("model", booster)])
    names = MODEL_NAMES[kind]
    if markers:
        names = (*names, MARKER_BASELINES[kind])
    if shortcut:
        names = (*names, SHORTCUT_BASELINE)
    if ablation:
        clinical = clone(booster)
        pipelines[CLINICAL_ABLATION] = pandas_pipeline([
            *tree_preprocessing(min_gene_frequency, min_gene_count, clinical_only=True),
            ("model", clinical)])
        names = (names[0], CLINICAL_ABLATION, *names[1:])
    return {name: pipelines[name] for name in names}


def predict_risk(pipeline: Pipeline, X: object) -> np.ndarray:
    """Log relative hazard of a survival pipeline (higher means worse)."""
    return np.asarray(pipeline.predict(X), dtype=float)


def predict_survival(pipeline: Pipeline, X: object, times_months: np.ndarray) -> np.ndarray:
    """S(t | x) at ``times_months`` from a survival pipeline, shape (n, n_times)."""
    return pipeline[-1].predict_survival(pipeline[:-1].transform(X), times_months)


def predict_probability(pipeline: Pipeline, X: object) -> np.ndarray:
    """Probability of the positive class (resistance) of a binary pipeline."""
    return np.asarray(pipeline.predict_proba(X)[:, 1], dtype=float)
