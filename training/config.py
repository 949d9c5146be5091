"""The typed configuration of a training run, read from TOML and flattened for MLflow."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from features.cohorts.options import LoadOptions
from features.cohorts.treatments.lines import LineRules
from training.parallel import check_n_jobs


@dataclass(frozen=True)
class CVConfig:
    """Repeated, stratified K-fold cross-validation; ``n_jobs`` fold fits at once (-1: one
    per core; the results do not depend on it)."""

    n_splits: int = 5
    n_repeats: int = 5
    random_state: int = 0
    n_jobs: int = -1

    def __post_init__(self) -> None:
        check_n_jobs(self.n_jobs, "n_jobs")


@dataclass(frozen=True)
class EvaluationConfig:
    """Horizons (months) a survival model answers and is calibrated at (empty: the task's own,
    :data:`training.horizons.TASK_HORIZONS`; either way only those within the follow-up),
    Uno's truncation tau (months, capped at the 95th percentile of follow-up), subgroup minimum
    size for reporting, the level of the intervals, and the drop below the overall metric at
    which a subgroup is flagged."""

    horizons_months: tuple[float, ...] = ()
    tau_months: float = 120.0
    min_subgroup_size: int = 30
    interval_level_percent: int = 95
    fairness_drop: float = 0.05


@dataclass(frozen=True)
class CohortConfig:
    """How a study folder is read: ``panels``, a folder of gene-panel definitions for panels
    the study names by ID only; ``columns``, a TOML column mapping (docs/cohorts.md);
    ``lines``, the rules that derive lines of therapy from agent-level timelines
    (``[cohort.lines]``: ``regimen_window_days``, ``gap_days``; docs/treatments.md)."""

    panels: str | None = None
    columns: str | None = None
    lines: LineRules = field(default_factory=LineRules)

    def load_options(self) -> LoadOptions:
        """The options of :func:`features.cohorts.sources.load_cohort`."""
        return LoadOptions(Path(self.panels) if self.panels else None,
                           Path(self.columns) if self.columns else None, self.lines)


@dataclass(frozen=True)
class FeatureConfig:
    """Gene indicators kept when altered in this share and count of profiled training rows."""

    min_gene_frequency: float = 0.02
    min_gene_count: int = 5


@dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of the boosted model; empty means the tuned defaults of the class.
    ``relapse_aft`` is the relapse model of the Dask engine
    (:class:`models.estimators.aft.AFTRiskModel`)."""

    relapse: dict[str, Any] = field(default_factory=dict)
    relapse_aft: dict[str, Any] = field(default_factory=dict)
    resistance: dict[str, Any] = field(default_factory=dict)
    cox_alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)
    logistic_cs: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)


@dataclass(frozen=True)
class GateConfig:
    """Promotion gate: the challenger may be at most ``margin`` below the champion on
    ``metric`` overall and in every subgroup of at least ``min_subgroup_size`` patients."""

    margin: float = 0.01
    min_subgroup_size: int = 50

#: The tasks a run can train.
TASKS = ("relapse", "progression", "resistance")
#: The tasks whose outcome is a time to event (the others are binary).
SURVIVAL_TASKS = ("relapse", "progression")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a ``train`` run depends on besides the cohort. ``engine``: ``local`` (one
    process, Cox model, repeated stratified CV) or ``dask`` (a Dask cluster, AFT model, folds
    of whole partitions; docs/distributed.md)."""

    task: str = "relapse"
    engine: str = "local"
    endpoint: str | None = None
    therapy: str = "endocrine"
    cohort: CohortConfig = field(default_factory=CohortConfig)
    cv: CVConfig = field(default_factory=CVConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    gate: GateConfig = field(default_factory=GateConfig)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS)}")

    @property
    def task_name(self) -> str:
        """``relapse``, ``progression`` or ``resistance_<therapy>``."""
        return self.task if self.task != "resistance" else f"resistance_{self.therapy}"

    def flatten(self) -> dict[str, str]:
        """``section.key -> value`` strings, for MLflow params."""
        flat: dict[str, str] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                if not value:
                    flat[prefix] = "{}"
                for key, item in sorted(value.items()):
                    walk(f"{prefix}.{key}", item)
            else:
                flat[prefix] = str(list(value) if isinstance(value, tuple) else value)

        for key, value in asdict(self).items():
            walk(key, value)
        return flat


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"{where}: unknown setting {key!r}; known: {sorted(known)}")
        default = getattr(cls(), key)
        if is_dataclass(default):
            if not isinstance(value, dict):
                raise ValueError(f"{where}.{key}: expected a table")
            kwargs[key] = _build(type(default), value, f"{where}.{key}")
        elif isinstance(default, tuple):
            if not isinstance(value, list):
                raise ValueError(f"{where}.{key}: expected a list")
            kwargs[key] = tuple(_like(default[0], v, f"{where}.{key}") if default else v
                                for v in value)
        else:
            kwargs[key] = _like(default, value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except ValueError as error:  # a setting checked by the section itself
        raise ValueError(f"{where}: {error}") from error


def _like(default: Any, value: Any, where: str) -> Any:
    """``value`` as the type of ``default`` where TOML spells it otherwise (``120`` for a
    float setting), so one setting has one spelling in the run's parameters."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    wrong_type = not isinstance(value, type(default)) or (  # TOML's true is no count
        isinstance(value, bool) and not isinstance(default, bool))
    if (default is not None and not isinstance(default, dict) and value is not None
            and wrong_type):
        raise ValueError(f"{where}: expected {type(default).__name__}, got {value!r}")
    return value


def with_cohort_options(config: TrainConfig, panels: Path | None,
                        columns: Path | None) -> TrainConfig:
    """``config`` with the command line's ``--panels`` and ``--columns`` (when given) in place
    of the config file's."""
    cohort = replace(config.cohort, **{k: str(v) for k, v in
                                       (("panels", panels), ("columns", columns)) if v})
    return replace(config, cohort=cohort)


def load_config(path: Path | None, **overrides: Any) -> TrainConfig:
    """The config in TOML file ``path`` (defaults where silent), then ``overrides`` (the CLI's
    ``task``, ``therapy``...). Unknown settings raise ValueError naming them."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ValueError(f"{path}: cannot read the config ({error})") from error
    config = _build(TrainConfig, values, str(path) if path else "config")
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})
