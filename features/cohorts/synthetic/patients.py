"""Synthetic patients at diagnosis: subtype, receptors, age, histology, grade, size, nodes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.cohorts.derived import derive_receptor_subtype
from features.cohorts.synthetic import parameters as p


def _choice(rng: np.random.Generator, options: tuple, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs`` (rows sum to 1) among ``options``."""
    cumulative = probs.cumsum(axis=1)
    u = rng.random(len(probs))[:, None]
    index = (u > cumulative).sum(axis=1).clip(0, len(options) - 1)
    return np.asarray(options, dtype=object)[index]


def _by_subtype(subtype: np.ndarray, table: dict[str, float]) -> np.ndarray:
    return pd.Series(subtype).map(table).to_numpy(dtype=float)


def _receptors(rng: np.random.Generator, subtype: np.ndarray) -> dict[str, np.ndarray]:
    n = len(subtype)
    u = rng.random((n, 3))
    er = np.full(n, None, dtype=object)
    pr = np.full(n, None, dtype=object)
    her2 = np.full(n, None, dtype=object)
    hr = subtype == "hr_pos_her2_neg"
    er[hr] = np.where(u[hr, 0] < 0.97, "positive", "negative")
    pr[hr] = np.where((u[hr, 1] < 0.75) | (er[hr] == "negative"), "positive", "negative")
    her2[hr] = "negative"
    h2 = subtype == "her2_pos"
    er[h2] = np.where(u[h2, 0] < 0.5, "positive", "negative")
    pr[h2] = np.where((u[h2, 1] < 0.7) & (er[h2] == "positive"), "positive", "negative")
    her2[h2] = "positive"
    tn = subtype == "triple_negative"
    er[tn], pr[tn], her2[tn] = "negative", "negative", "negative"
    unknown = subtype == "unknown"
    er[unknown] = np.where(u[unknown, 0] < 0.6, "positive", "negative")
    return {"er_status": er, "pr_status": pr, "her2_status": her2}


def _histology(rng: np.random.Generator, subtype: np.ndarray) -> np.ndarray:
    lobular = rng.random(len(subtype)) < _by_subtype(subtype, p.LOBULAR)
    others = ("ductal", "mixed_ductal_lobular", "mucinous", "medullary", "other")
    probs = np.tile([0.86, 0.06, 0.03, 0.01, 0.04], (len(subtype), 1))
    histology = _choice(rng, others, probs)
    histology[lobular] = "lobular"
    return histology


def _stage(size_mm: np.ndarray, nodes: np.ndarray, de_novo: np.ndarray) -> np.ndarray:
    """AJCC anatomic stage from T (size) and N (positive nodes); 4 when metastatic."""
    t = np.select([size_mm <= 20, size_mm <= 50], [1, 2], default=3)
    n = np.select([nodes == 0, nodes <= 3, nodes <= 9], [0, 1, 2], default=3)
    stage = np.select(
        [(t == 1) & (n == 0), (n <= 1) & (t <= 2), (t == 3) & (n == 0)], [1, 2, 2], default=3
    )
    return np.where(de_novo, 4, stage)


def draw_patients(rng: np.random.Generator, n: int, subtype_mix: dict[str, float],
                  de_novo_fraction: float) -> pd.DataFrame:
    """Patients at diagnosis, indexed ``SYN-000001``...; receptor subtype derived from status."""
    subtype = rng.choice(p.SUBTYPES, size=n, p=[subtype_mix[s] for s in p.SUBTYPES])
    age = np.clip(rng.normal(_by_subtype(subtype, p.AGE_MEAN), 12.0), 25, 90).round(1)
    peri = (age >= 45) & (age < 55)
    menopause = np.where(age >= 55, "post", "pre").astype(object)
    menopause[peri] = rng.choice(["pre", "peri", "post"], size=int(peri.sum()),
                                 p=[0.3, 0.3, 0.4])
    de_novo = rng.random(n) < de_novo_fraction
    grade_probs = np.stack([p.GRADE[s] for s in subtype]) if n else np.zeros((0, 3))
    grade = _choice(rng, (1, 2, 3), grade_probs).astype(int)
    size = np.clip(np.exp(rng.normal(np.log(22.0) + 0.3 * de_novo, 0.5)), 2, 150).round(0)
    node_positive = rng.random(n) < np.where(de_novo, 0.8, 0.5)
    nodes = np.where(node_positive, np.minimum(rng.geometric(0.3, n), 40), 0)
    ecog = rng.choice([0, 1, 2], size=n, p=p.ECOG)
    index = pd.Index([f"SYN-{i:06d}" for i in range(1, n + 1)], name="patient_id")
    patients = pd.DataFrame(
        {
            "age_years": age,
            "sex": "female",
            "menopausal_status": menopause,
            **_receptors(rng, subtype),
            "histology": _histology(rng, subtype),
            "grade": grade,
            "stage": _stage(size, nodes, de_novo),
            "tumor_size_mm": size,
            "positive_nodes": nodes,
            "de_novo_metastatic": de_novo,
            "performance_status": ecog,
        },
        index=index,
    )
    patients["receptor_subtype"] = derive_receptor_subtype(patients)
    return patients
