"""The Cohort: a small set of validated, typed pandas tables keyed by stable identifiers.

Units: ages in years, tumour size in mm, times in months (since diagnosis unless a column says
otherwise), TMB in mutations per megabase. Events are booleans (True = the event happened).
Identifiers (patient, sample) are the index or an id column, never a feature. The tables'
schemas are in :mod:`features.cohorts.schema`, the whole-cohort checks in
:mod:`features.cohorts.validation`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.cohorts.schema import (
    ENDPOINT_EVENT_SUFFIX,
    ENDPOINT_TIME_SUFFIX,
    SCHEMAS,
    TABLES,
)


@dataclass
class Cohort:
    """Validated cohort tables plus metadata (``name``, ``source``, ``synthetic``...).

    Build one with :func:`features.cohorts.validation.build_cohort`, which types and validates
    the tables.
    """

    patients: pd.DataFrame
    samples: pd.DataFrame
    mutations: pd.DataFrame
    copy_number: pd.DataFrame
    panels: pd.DataFrame
    outcomes: pd.DataFrame
    treatments: pd.DataFrame
    structural_variants: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """The table called ``name`` (one of :data:`TABLES`)."""
        if name not in SCHEMAS:
            raise KeyError(f"no cohort table {name!r}; tables are {list(SCHEMAS)}")
        return getattr(self, name)

    @property
    def synthetic(self) -> bool:
        """True when the cohort was generated, not observed."""
        return bool(self.metadata.get("synthetic", False))

    @property
    def has_samples(self) -> bool:
        """Whether the cohort has genomic samples at all (decides whether patients without a
        profiled sample are excluded and whether genomic features exist). A partition of a
        larger cohort answers for the whole cohort: metadata ``cohort_has_samples``."""
        return bool(self.metadata.get("cohort_has_samples", not self.samples.empty))

    @property
    def has_treatment_lines(self) -> bool:
        """Whether the cohort records treatment lines (else adjuvant treatment comes from the
        patients' flags); a partition answers for the whole cohort:
        metadata ``cohort_has_treatment_lines``."""
        return bool(self.metadata.get("cohort_has_treatment_lines",
                                      not self.treatments.empty))

    @property
    def endpoints(self) -> list[str]:
        """Endpoint names with a time and an event column in ``outcomes`` (e.g. ``rfs``, ``os``)."""
        names = [c[: -len(ENDPOINT_TIME_SUFFIX)] for c in self.outcomes.columns
                 if c.endswith(ENDPOINT_TIME_SUFFIX)]
        return [n for n in names if f"{n}{ENDPOINT_EVENT_SUFFIX}" in self.outcomes.columns]

    def endpoint(self, name: str) -> pd.DataFrame:
        """``time_months`` and ``event`` of one endpoint for every patient with outcomes."""
        if name not in self.endpoints:
            raise KeyError(f"no endpoint {name!r}; this cohort has {self.endpoints}")
        return pd.DataFrame(
            {
                "time_months": self.outcomes[f"{name}{ENDPOINT_TIME_SUFFIX}"],
                "event": self.outcomes[f"{name}{ENDPOINT_EVENT_SUFFIX}"],
            }
        )

    def outcome_summary(self) -> dict[str, dict[str, float | int | None]]:
        """Per endpoint: patients with both time and status known (``n_known``) and their
        events (``n_events``); status and time counts before pairing; median follow-up (months,
        the median observed time of censored patients)."""
        summary = {}
        for name in self.endpoints:
            frame = self.endpoint(name)
            event, time = frame["event"], frame["time_months"]
            known = time.notna() & event.notna()
            censored_times = time[known & ~event.fillna(True)]
            summary[name] = {
                "n_known": int(known.sum()),
                "n_events": int(event[known].sum()),
                "n_status_event": int(event.fillna(False).sum()),
                "n_status_censored": int((~event.fillna(True)).sum()),
                "n_status_missing": int(event.isna().sum()),
                "n_time_missing": int(time.isna().sum()),
                "median_followup_censored_months": (
                    round(float(censored_times.median()), 2) if len(censored_times) else None
                ),
            }
        return summary

    def summary(self) -> dict[str, Any]:
        """Sizes of the cohort: patients, samples, mutations, CNA calls, outcomes."""
        return {
            "n_patients": len(self.patients),
            "n_samples": len(self.samples),
            "n_mutations": len(self.mutations),
            "n_cna_calls": len(self.copy_number),
            "n_treatment_lines": len(self.treatments),
            "outcomes": self.outcome_summary(),
        }

    def digest(self, tables: Iterable[str] = TABLES) -> str:
        """SHA-256 of the contents of ``tables`` (by default all): equal cohorts give equal
        digests."""
        hasher = hashlib.sha256()
        for name in tables:
            table = self.table(name)
            hasher.update(name.encode())
            hasher.update(",".join(map(str, table.columns)).encode())
            hashed = pd.util.hash_pandas_object(table, index=True).to_numpy()
            hasher.update(hashed.tobytes())
        return hasher.hexdigest()

