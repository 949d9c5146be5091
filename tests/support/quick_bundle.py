"""A bundle of the default boosted model fitted directly on a cohort, without MLflow, cross-
validation or registration: for tests and benchmarks (not shipped). Deployable bundles come from
``mbcrisk train``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.cohort import Cohort
from features.design import build_design
from features.labels import Labels, labels_for_task, survival_target
from models.bundles.bundle import ModelBundle
from models.domain.applicability import ApplicabilityDomain
from models.domain.moments import FeatureMoments
from models.domain.unprofiled import UnprofiledReference
from models.estimators.factory import build_pipelines

#: The short task names of the helpers -> task names of :func:`labels_for_task`.
TASK_NAMES = {"relapse": "relapse", "progression": "progression",
              "resistance": "resistance_endocrine"}


def fit_bundle(cohort: Cohort, task: str, rows: np.ndarray | None = None,
               **params: object) -> tuple[ModelBundle, pd.DataFrame, Labels]:
    """A bundle of the default boosted model fitted on ``rows`` (default all) of the task."""
    labels = labels_for_task(cohort, TASK_NAMES[task])
    X = build_design(cohort, labels.time_origin)
    rows = np.arange(len(X)) if rows is None else rows
    pipeline = build_pipelines(labels.kind, model_params=dict(params), min_gene_frequency=0.02,
                               min_gene_count=5, cox_alphas=(1.0,), logistic_cs=(1.0,),
                               random_state=0)["model"]
    y = labels.y.iloc[rows]
    target = (y["label"].to_numpy() if labels.kind == "binary"
              else survival_target(y["time_months"].to_numpy(), y["event"].to_numpy()))
    pipeline.fit(X.iloc[rows], target)
    features = list(pipeline[:-1].get_feature_names_out())
    bundle = ModelBundle(
        task=labels.task, kind=labels.kind, pipeline=pipeline, input_features=list(X.columns),
        label_definition=labels.definition, origin=labels.origin,
        origin_sample_types=labels.eligible_sample_types,
        horizons_months=(12.0, 24.0, 36.0, 60.0), training_digest=cohort.digest(),
        cohort={}, risk_group_cutpoints=(0.0, 0.5),
        applicability=ApplicabilityDomain.fit(X.iloc[rows], features),
        unprofiled=UnprofiledReference.fit(X.iloc[rows], features),
        training_moments=FeatureMoments.of(X.iloc[rows][features].to_numpy(dtype=float),
                                           features),
        explainer={"scale": pipeline[-1].risk_scale if labels.kind == "survival" else "log odds"})
    return bundle, X, labels
