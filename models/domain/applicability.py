"""ApplicabilityDomain: is a patient like the training cohort?

Fitted on the training design: the range (1st to 99th percentile) of every continuous feature,
and how many of the model's genomic indicators training patients typically had profiled. A
patient outside a range, or profiled for far fewer genes than training patients (a different
panel), is flagged with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

GENOMIC_PREFIXES = ("mut__", "hot__", "cna__")
#: Quantiles bounding "seen in training" for continuous features.
RANGE_QUANTILES = (0.01, 0.99)


@dataclass
class ApplicabilityDomain:
    """Training ranges and genomic coverage; :meth:`check` says why a patient is out of domain."""

    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    genomic_features: list[str] = field(default_factory=list)
    min_profiled_share: float = 0.0

    @classmethod
    def fit(cls, X: pd.DataFrame, features: list[str]) -> ApplicabilityDomain:
        """Learn from the training design ``X`` restricted to the model's ``features``."""
        ranges = {}
        for name in features:
            values = X[name].dropna()
            if name.startswith(GENOMIC_PREFIXES) or values.nunique() <= 2:
                continue
            low, high = np.quantile(values, RANGE_QUANTILES)
            ranges[name] = (float(low), float(high))
        genomic = [f for f in features if f.startswith(GENOMIC_PREFIXES)]
        share = X[genomic].notna().mean(axis=1) if genomic else pd.Series(dtype=float)
        floor = float(np.quantile(share, 0.05)) if len(share) else 0.0
        return cls(ranges, genomic, floor)

    def compiled(self, columns: list[str]) -> DomainCheck:
        """The check of rows whose columns are ``columns``, with the columns' positions
        looked up once (a served model checks every answer against the same columns)."""
        position = {name: k for k, name in enumerate(columns)}
        bounded = [name for name in self.ranges if name in position]
        return DomainCheck(
            bounded, np.array([position[name] for name in bounded], dtype=int),
            np.array([self.ranges[name][0] for name in bounded], dtype=float),
            np.array([self.ranges[name][1] for name in bounded], dtype=float),
            np.array([position[name] for name in self.genomic_features if name in position],
                     dtype=int), len(self.genomic_features), self.min_profiled_share)


@dataclass(frozen=True)
class DomainCheck:
    """An applicability domain's check of numpy rows of one column layout (a column the
    domain knows but the layout lacks is unknown): the bounded features' names, positions
    and training ranges, and the genomic features' positions."""

    bounded: list[str]
    positions: np.ndarray
    low: np.ndarray
    high: np.ndarray
    genomic: np.ndarray  # positions of the domain's genomic features present in the rows
    n_genomic: int  # the domain's genomic features, present or not
    min_profiled_share: float

    def check(self, rows: np.ndarray) -> list[list[str]]:
        """Per row: the reasons it is out of domain (empty list: in domain)."""
        reasons: list[list[str]] = [[] for _ in range(len(rows))]
        if len(self.bounded):
            values = rows[:, self.positions]
            for i, j in zip(*np.nonzero((values < self.low) | (values > self.high)),
                            strict=True):
                reasons[i].append(
                    f"{self.bounded[j]} = {values[i, j]:g} is outside the training range "
                    f"{self.low[j]:g} to {self.high[j]:g}")
        if self.n_genomic:
            known = (~np.isnan(rows[:, self.genomic])).sum(axis=1) / self.n_genomic
            for i in np.flatnonzero(known < self.min_profiled_share):
                reasons[i].append(
                    f"genomic profile covers {known[i]:.0%} of the model's genomic features; "
                    f"training patients had at least {self.min_profiled_share:.0%} (a panel "
                    "unlike training's)")
        return reasons
