"""The clinical course of synthetic patients: relapse, treatment lines, progression, death.

All times are whole days from diagnosis (int64); -1 marks "did not happen". Hazards are
proportional: an exponential time with median ``m`` for the reference patient is divided by the
patient's hazard ratio ``exp(linear predictor)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.cohorts.synthetic import parameters as p
from features.cohorts.units import DAYS_PER_MONTH

NEVER = -1
GAP_DAYS = 14  # between metastatic onset or progression and the next line's start


def exponential_days(rng: np.random.Generator, median_months: np.ndarray | float,
                     hazard_ratio: np.ndarray | float, size: int) -> np.ndarray:
    """Whole days (>= 1) of an exponential time with the given median and hazard ratio."""
    scale = np.asarray(median_months, dtype=float) / np.log(2) / np.asarray(hazard_ratio)
    return np.maximum(1, np.round(rng.exponential(1.0, size) * scale * DAYS_PER_MONTH)).astype(
        np.int64)


def effect_weights(process: str, overrides: dict[str, float]) -> dict[str, float]:
    """Log hazard ratios of ``process``'s planted effects (``overrides`` replace HRs by name)."""
    return {
        e.covariate: float(np.log(overrides.get(e.covariate, e.hazard_ratio)))
        for e in p.PLANTED_EFFECTS if e.process == process
    }


def relapse_linear_predictor(patients: pd.DataFrame, primary: dict[str, np.ndarray],
                             tmb_primary: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """Log relative hazard of relapse from diagnosis (higher means earlier relapse)."""
    subtype = patients["receptor_subtype"].to_numpy()
    covariates = {
        "tmb_high_hr_pos": (tmb_primary >= p.TMB_HIGH) & (subtype == "hr_pos_her2_neg"),
        "triple_negative": subtype == "triple_negative",
        "her2_pos": subtype == "her2_pos",
        "grade_3": patients["grade"].to_numpy() == 3,
        "log1p_nodes": np.log1p(patients["positive_nodes"].to_numpy(dtype=float)),
        "size_per_10mm": patients["tumor_size_mm"].to_numpy(dtype=float) / 10.0,
        "age_under_40": patients["age_years"].to_numpy() < 40,
        "myc_amplification": primary["MYC_amp"],
        "tp53_mutation": primary["TP53"],
    }
    return sum(weights[name] * np.asarray(value, dtype=float)
               for name, value in covariates.items())


@dataclass
class Lines:
    """Treatment lines accumulated as parallel lists, one entry per line."""

    rows: dict[str, list] = field(default_factory=lambda: {
        k: [] for k in ("patient", "line", "setting", "therapy_class", "agent", "start", "stop",
                        "reason")})

    def add(self, patients: np.ndarray, line: int, setting: str, therapy: np.ndarray | str,
            agent: np.ndarray | str, start: np.ndarray, stop: np.ndarray,
            reason: np.ndarray) -> None:
        """Append lines for ``patients`` (row positions); ``stop`` of NEVER means ongoing."""
        n = len(patients)
        self.rows["patient"].append(patients)
        self.rows["line"].append(np.full(n, line))
        self.rows["setting"].append(np.full(n, setting, dtype=object))
        self.rows["therapy_class"].append(np.broadcast_to(np.asarray(therapy, dtype=object), n))
        self.rows["agent"].append(np.broadcast_to(np.asarray(agent, dtype=object), n))
        self.rows["start"].append(start)
        self.rows["stop"].append(stop)
        self.rows["reason"].append(reason)

    def frame(self, ids: pd.Index) -> pd.DataFrame:
        """The lines as a treatments table (months), ordered by patient then start."""
        columns = {k: np.concatenate(v) if v else np.array([]) for k, v in self.rows.items()}
        frame = pd.DataFrame(columns)
        frame = frame.sort_values(["patient", "start", "line"], kind="stable")
        stop = frame["stop"].astype(float)
        return pd.DataFrame(
            {
                "patient_id": ids.to_numpy()[frame["patient"].to_numpy(dtype=int)],
                "line": frame["line"].to_numpy(),
                "setting": frame["setting"].to_numpy(),
                "therapy_class": frame["therapy_class"].to_numpy(),
                "agent": frame["agent"].to_numpy(),
                "start_months": frame["start"].to_numpy(dtype=float) / DAYS_PER_MONTH,
                "stop_months": np.where(stop == NEVER, np.nan, stop / DAYS_PER_MONTH),
                "reason_stopped": frame["reason"].to_numpy(),
            }
        ).reset_index(drop=True)


def stop_and_reason(planned_end: np.ndarray, progression: np.ndarray, death: np.ndarray,
                    censor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """When a line stops and why: the first of planned end (completed), progression, death,
    end of follow-up (ongoing: stop unknown)."""
    big = np.iinfo(np.int64).max
    candidates = np.stack([
        np.where(planned_end == NEVER, big, planned_end),
        np.where(progression == NEVER, big, progression),
        np.where(death == NEVER, big, death),
        censor,
    ])
    first = candidates.argmin(axis=0)
    reasons = np.array(["completed", "progression", "death", "ongoing"], dtype=object)[first]
    stop = candidates.min(axis=0)
    return np.where(first == 3, NEVER, stop), reasons
