"""FeatureMoments: the first two moments and the missingness of each model feature over a set of
patients, accumulated chunk by chunk (so a cohort larger than memory can be described), and
kept in the bundle for its training patients: the reference a shift report compares a scored
cohort against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FeatureMoments:
    """Per feature (``features``): rows seen, known values, their sum and sum of squares, and
    whether every known value was 0 or 1 (an indicator)."""

    features: list[str]
    n_rows: int
    n_known: np.ndarray
    total: np.ndarray
    total_squares: np.ndarray
    binary: np.ndarray

    @classmethod
    def empty(cls, features: list[str]) -> FeatureMoments:
        """Moments of no patient yet."""
        k = len(features)
        return cls(list(features), 0, np.zeros(k, dtype=np.int64), np.zeros(k), np.zeros(k),
                   np.ones(k, dtype=bool))

    @classmethod
    def of(cls, rows: np.ndarray, features: list[str]) -> FeatureMoments:
        """Moments of ``rows`` (patients x ``features``, NaN = unknown)."""
        moments = cls.empty(features)
        moments.add(rows)
        return moments

    def add(self, rows: np.ndarray) -> None:
        """Accumulate more patients (rows x features, NaN = unknown)."""
        rows = np.asarray(rows, dtype=float)
        known = ~np.isnan(rows)
        values = np.where(known, rows, 0.0)
        self.n_rows += len(rows)
        self.n_known += known.sum(axis=0)
        self.total += values.sum(axis=0)
        self.total_squares += (values * values).sum(axis=0)
        self.binary &= ((values == 0.0) | (values == 1.0)).all(axis=0)

    def merge(self, other: FeatureMoments) -> None:
        """Accumulate another set of moments of the same features (a partition's)."""
        if other.features != self.features:
            raise ValueError("moments of different features cannot be merged")
        self.n_rows += other.n_rows
        self.n_known += other.n_known
        self.total += other.total
        self.total_squares += other.total_squares
        self.binary &= other.binary

    @property
    def mean(self) -> np.ndarray:
        """Mean of the known values (NaN where none is known); a prevalence for indicators."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_known > 0, self.total / np.maximum(self.n_known, 1), np.nan)

    @property
    def sd(self) -> np.ndarray:
        """Standard deviation of the known values (population form; NaN where none known)."""
        mean = self.mean
        with np.errstate(invalid="ignore"):
            variance = self.total_squares / np.maximum(self.n_known, 1) - mean * mean
        return np.sqrt(np.clip(variance, 0.0, None))

    @property
    def missing_share(self) -> np.ndarray:
        """Share of rows whose value is unknown."""
        return 1.0 - self.n_known / max(self.n_rows, 1)
