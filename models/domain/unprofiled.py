"""Unknown is unknown: how a model answers for a patient whose genes were not profiled.

A tree model trained on several gene panels learns what "not profiled" meant in its training
cohort (which panels, hence which hospitals and years), and would carry that into a new
patient's answer. The rule instead: a gene-level genomic input the patient's profile leaves
unknown (mutation, hotspot, copy number, pathway, resistance class, TMB) takes, in turn, the
values of a fixed reference set of training patients profiled for it, and the patient's risk
score (the model's margin) is the average over them. The explanation is the same average of
the exact TreeSHAP contributions (so base + contributions = averaged margin still holds); the
averaged inputs are reported together as one "not profiled (averaged)" entry, never as drivers.

The primary-to-metastasis changes (``evo__*``) follow the same rule: they exist only for a
patient with a profiled primary and metastasis, and a patient without that pair (every API
request: a profile carries one sample) has them unknown, ``evo__paired`` included, so they take
the reference patients' values instead of whatever "not paired" meant in training.

Listing a gene in ``profiled_genes`` therefore changes an answer only by replacing that average
with the patient's own value (0 when no alteration is reported). The reference set is the
``REFERENCE_SIZE`` training patients with the most complete genomic profiles (their gene-level
indicators only: no clinical value, no identifier), drawn with a fixed seed at fit time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

#: Prefixes of the inputs the rule averages (``tmb`` too).
UNPROFILED_PREFIXES = ("mut__", "hot__", "cna__", "path__", "rclass__", "evo__")
#: Whether both a primary and a metastasis were profiled (1) or not (0): without the pair,
#: every ``evo__`` input is unknown.
PAIRED = "evo__paired"
#: Training patients in the reference set.
REFERENCE_SIZE = 24


def averaged_input(feature: str) -> bool:
    """True for the gene-level genomic inputs, TMB and the primary-to-metastasis changes that
    the rule averages."""
    return feature == "tmb" or feature.startswith(UNPROFILED_PREFIXES)


@lru_cache(maxsize=64)
def _layout(features: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Positions of the averaged inputs, of the ``evo__`` inputs and of ``evo__paired`` (None
    when absent) among ``features``: computed once per model, not per request."""
    averaged = np.array([k for k, f in enumerate(features) if averaged_input(f)], dtype=int)
    evolution = np.array([k for k, f in enumerate(features) if f.startswith("evo__")],
                         dtype=int)
    for cached in (averaged, evolution):  # shared by every caller: never written to
        cached.setflags(write=False)
    return averaged, evolution, (features.index(PAIRED) if PAIRED in features else None)


def evolution_inputs(features: tuple[str, ...]) -> np.ndarray:
    """Positions of the primary-to-metastasis changes (``evo__``) among ``features`` (cached
    per model; read-only)."""
    return _layout(features)[1]


def unknown_cells(X: np.ndarray, features: tuple[str, ...] | list[str]) -> np.ndarray:
    """Patients x features: True where an averaged input is unknown for the patient (NaN; and
    every ``evo__`` input, ``evo__paired`` included, when the pair is missing)."""
    columns, evolution, paired = _layout(tuple(features))
    unknown = np.zeros(X.shape, dtype=bool)
    unknown[:, columns] = np.isnan(X[:, columns])
    if paired is not None:
        pairs = X[:, paired]
        unpaired = np.flatnonzero((pairs == 0) | np.isnan(pairs))
        if len(unpaired):
            unknown[unpaired[:, None], evolution] = True
    return unknown


@dataclass(frozen=True)
class UnprofiledReference:
    """The reference values of a model's averaged inputs: ``values`` (reference patients x
    ``features``, the model's features in order; NaN for the inputs the rule never averages)."""

    features: tuple[str, ...]
    values: np.ndarray

    @classmethod
    def fit(cls, X: pd.DataFrame, features: list[str], size: int = REFERENCE_SIZE,
            seed: int = 0) -> UnprofiledReference | None:
        """From the training design ``X`` and the model's ``features``: the ``size`` patients
        with the fewest unknown averaged inputs (ties drawn at random with ``seed``). None when
        the model has no averaged input."""
        averaged = [f for f in features if averaged_input(f)]
        if not averaged or not len(X):
            return None
        genomic = X.reindex(columns=averaged).to_numpy(dtype=float)
        unknown = np.isnan(genomic).sum(axis=1)
        order = np.lexsort((np.random.default_rng(seed).random(len(X)), unknown))
        chosen = genomic[order[:size]]
        values = np.full((len(chosen), len(features)), np.nan)
        position = {f: k for k, f in enumerate(features)}
        values[:, [position[f] for f in averaged]] = chosen
        return cls(tuple(features), values)

    @cached_property
    def _has_values(self) -> np.ndarray:
        """Per feature: whether the reference set has values for it (computed once)."""
        return ~np.isnan(self.values).all(axis=0)

    def averaged_cells(self, X: np.ndarray) -> np.ndarray:
        """Patients x ``features``: True where the rule replaces the patient's value of the
        model rows ``X`` by each reference patient's (:func:`unknown_cells`; a value the
        patient has, ``evo__paired`` = 0, is replaced only where the reference set has values:
        a bundle fitted before the evolution inputs were averaged has none for them).
        :class:`models.explanation.averaged_booster.AveragedBooster` computes the mean in one
        pass."""
        return unknown_cells(X, self.features) & (np.isnan(X) | self._has_values)
