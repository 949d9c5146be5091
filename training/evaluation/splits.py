"""Repeated, patient-level, outcome-stratified K-fold splits, the same for every model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold


@dataclass(frozen=True)
class Fold:
    """One split: positions of training and test rows."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def patient_folds(patients: np.ndarray, strata: np.ndarray, n_splits: int, n_repeats: int,
                  random_state: int) -> Iterator[Fold]:
    """Folds grouped by patient (no patient on both sides) and stratified by the outcome
    (event or label), repeated with different shuffles; deterministic for a seed."""
    patients = np.asarray(patients)
    strata = np.asarray(strata, dtype=int)
    _, groups = np.unique(patients, return_inverse=True)
    rng = np.random.default_rng(random_state)
    for repeat in range(n_repeats):
        seed = int(rng.integers(0, 2**31 - 1))
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for fold, (train, test) in enumerate(splitter.split(patients, strata, groups)):
            yield Fold(repeat, fold, train, test)
