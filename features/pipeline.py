"""Fitted feature steps (scikit-learn transformers, pandas in and out) and feature groups.

Everything here is fitted on training rows only, inside a model pipeline, so no information
from a test fold reaches it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_array, check_is_fitted

from features.genes import PATHWAY_NAMES, RESISTANCE_MARKER_PREFIXES

#: Prefixes of alteration indicators filtered by frequency.
ALTERATION_PREFIXES = ("mut__", "hot__", "cna__", "path__", "rclass__")


def _check_frame(X: object, estimator: BaseEstimator) -> pd.DataFrame:
    """``X`` as a DataFrame; a bare array gets the names ``x0, x1, ...``."""
    if isinstance(X, pd.DataFrame):
        return X
    array = check_array(X, ensure_all_finite="allow-nan", dtype=np.float64)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


class GeneFrequencyFilter(TransformerMixin, BaseEstimator):
    """Keep alteration indicators frequent enough in the training rows, and drop columns that
    carry nothing there (all missing, or constant).

    An indicator (``mut__``, ``hot__``, ``cna__``, ``path__``, ``rclass__``) is kept when at
    least ``min_frequency`` of the training patients profiled for it, and at least ``min_count``
    patients, are altered. Other columns are kept unless all-missing or constant. With
    ``prefixes``, only columns starting with one of them are considered (``("clin__",)`` for a
    clinical-only model).
    """

    def __init__(self, min_frequency: float = 0.02, min_count: int = 5,
                 prefixes: tuple[str, ...] | None = None) -> None:
        self.min_frequency = min_frequency
        self.min_count = min_count
        self.prefixes = prefixes

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN means "not profiled" or "unknown"
        return tags

    def fit(self, X: pd.DataFrame, y: object = None) -> GeneFrequencyFilter:
        """Learn which columns to keep from the training rows ``X``."""
        X = _check_frame(X, self)
        return self.fit_statistics(column_statistics(X))

    def fit_statistics(self, statistics: pd.DataFrame) -> GeneFrequencyFilter:
        """Learn which columns to keep from :func:`column_statistics` of the training rows
        (summed over partitions with :func:`combine_statistics`: the same result as ``fit``
        on all rows at once)."""
        n_observed = statistics["n_observed"].to_numpy(dtype=float)
        altered = statistics["altered"].to_numpy(dtype=float)
        spread = (statistics["maximum"] - statistics["minimum"]).to_numpy(dtype=float)
        informative = (n_observed > 0) & (spread > 0)
        frequency = np.divide(altered, n_observed, out=np.zeros(len(statistics)),
                              where=n_observed > 0)
        columns = list(statistics.index)
        is_alteration = np.array([c.startswith(ALTERATION_PREFIXES) for c in columns])
        frequent = (frequency >= self.min_frequency) & (altered >= self.min_count)
        keep = informative & (~is_alteration | frequent)
        if self.prefixes is not None:
            keep &= np.array([c.startswith(tuple(self.prefixes)) for c in columns])
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.n_features_in_ = len(columns)
        self.frequency_ = pd.Series(frequency, index=statistics.index)
        self.kept_ = self.feature_names_in_[keep]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """The kept columns of ``X``, in training order (a DataFrame in, a DataFrame out)."""
        check_is_fitted(self, "kept_")
        is_frame = isinstance(X, pd.DataFrame)
        X = _check_frame(X, self)
        if not is_frame and X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but GeneFrequencyFilter is "
                             f"expecting {self.n_features_in_} features as input")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"columns seen in fit are missing: {missing[:5]}")
        kept = X.loc[:, list(self.kept_)]
        return kept if is_frame else kept.to_numpy()

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the kept columns."""
        check_is_fitted(self, "kept_")
        return np.asarray(self.kept_, dtype=object)


#: The columns a linear baseline takes, as prefixes (None: all).
LINEAR_COLUMNS = {"clinical": ("clin__",), "all": None,
                  "markers": ("clin__", *RESISTANCE_MARKER_PREFIXES)}


def linear_preprocessing(min_frequency: float, min_count: int,
                         columns: str) -> list[tuple[str, object]]:
    """Steps before a linear model on ``columns`` (:data:`LINEAR_COLUMNS`: ``clinical``,
    ``all`` or ``markers``): select, impute the median with missing indicators, scale."""
    select = GeneFrequencyFilter(min_frequency, min_count, LINEAR_COLUMNS[columns])
    return [
        ("select", select),
        ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                 keep_empty_features=False)),
        ("scale", StandardScaler()),
    ]


class MissingnessOnly(TransformerMixin, BaseEstimator):
    """What is missing, and nothing else: one indicator (1 = missing) per distinct pattern of
    missingness in the training rows (the gene columns a panel leaves unprofiled share one),
    columns always or never missing dropped. The input of the shortcut baseline, which
    measures how much the assay (the panel, which genes are unprofiled) and missingness alone
    predict the outcome."""

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: pd.DataFrame, y: object = None) -> MissingnessOnly:
        """Learn the distinct missingness patterns of the training rows ``X``."""
        X = _check_frame(X, self)
        missing = X.isna().to_numpy()
        varying = missing.any(axis=0) & ~missing.all(axis=0)
        _, first = np.unique(missing[:, varying], axis=1, return_index=True)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.kept_ = self.feature_names_in_[np.flatnonzero(varying)[np.sort(first)]]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The missingness indicators of the kept columns of ``X`` (one column of zeros when
        nothing was ever partly missing: the shortcut then knows nothing, a C of 0.5)."""
        check_is_fitted(self, "kept_")
        X = _check_frame(X, self)
        values = (X.loc[:, list(self.kept_)].isna().to_numpy(dtype=float) if len(self.kept_)
                  else np.zeros((len(X), 1)))
        return pd.DataFrame(values, columns=self.get_feature_names_out(), index=X.index)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """``missingindicator_<column>`` of each kept column (``missingindicator_none``
        when none is kept)."""
        check_is_fitted(self, "kept_")
        names = [f"missingindicator_{c}" for c in self.kept_] or ["missingindicator_none"]
        return np.asarray(names, dtype=object)


def column_statistics(X: pd.DataFrame) -> pd.DataFrame:
    """Per column of the design ``X``: rows observed (not NaN), rows equal to 1 (altered),
    smallest and largest observed value: what :class:`GeneFrequencyFilter` is fitted from."""
    values = X.to_numpy(dtype=float)
    observed = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        return pd.DataFrame({
            "n_observed": observed.sum(axis=0),
            "altered": np.nansum(values == 1.0, axis=0),
            "minimum": np.min(np.where(observed, values, np.inf), axis=0, initial=np.inf),
            "maximum": np.max(np.where(observed, values, -np.inf), axis=0, initial=-np.inf),
        }, index=pd.Index(X.columns, name="feature"))


def combine_statistics(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`column_statistics` of several partitions as if of their rows together (a column
    absent from a partition counts as unobserved there); columns in first-seen order."""
    columns = list(dict.fromkeys(c for part in parts for c in part.index))
    aligned = [part.reindex(columns) for part in parts]
    return pd.DataFrame({
        "n_observed": sum(a["n_observed"].fillna(0) for a in aligned),
        "altered": sum(a["altered"].fillna(0) for a in aligned),
        "minimum": pd.concat([a["minimum"] for a in aligned], axis=1).min(axis=1),
        "maximum": pd.concat([a["maximum"] for a in aligned], axis=1).max(axis=1),
    }, index=pd.Index(columns, name="feature"))


def tree_preprocessing(min_frequency: float, min_count: int,
                       clinical_only: bool = False) -> list[tuple[str, object]]:
    """Steps before a tree model: frequency selection only (trees take NaN as missing); with
    ``clinical_only``, the clinical columns only (the ablation of the genomic features)."""
    return [("select", GeneFrequencyFilter(min_frequency, min_count,
                                           ("clin__",) if clinical_only else None))]


def pandas_pipeline(steps: list[tuple[str, object]]) -> Pipeline:
    """A Pipeline whose transformers output DataFrames with feature names."""
    return Pipeline(steps).set_output(transform="pandas")


_CLINICAL_GROUPS = (
    (r"clin__age", "age"),
    (r"clin__(tumor_size|t_category)", "tumour size"),  # T: by size when derived
    (r"clin__(positive_nodes|n_category)", "lymph nodes"),  # N: by nodes when derived
    (r"clin__npi", "Nottingham prognostic index"),
    (r"clin__intclust_", "integrative cluster"),
    (r"clin__grade", "grade"),
    (r"clin__stage", "stage"),
    (r"clin__(er|pr|her2)_|clin__subtype_", "receptor status"),
    (r"clin__pam50_", "PAM50 subtype"),
    (r"clin__lobular", "histology"),
    (r"clin__postmenopausal", "menopausal status"),
    (r"clin__performance", "performance status"),
    (r"clin__(adjuvant|prior|radiotherapy|with_cdk46|current)", "treatment"),  # TREATMENT_GROUP
    (r"clin__(site_|n_sites|visceral|de_novo)", "metastatic disease"),
    (r"clin__months_from_diagnosis", "time since diagnosis"),
)
#: Pathway and resistance-class indicators that read as one finding.
_COMBINED_GROUPS = {"rclass__esr1": "ESR1", "rclass__mapk": "MAPK pathway",
                    "path__mapk": "MAPK pathway", "rclass__er_tf": "ER transcriptional pathway",
                    "path__er_machinery": "ER transcriptional pathway"}


#: The group of the treatment inputs (therapy received before the origin, or given with the
#: line): markers of the clinicians' judgement of risk, never effects (confounding by
#: indication); explanations and model cards flag them.
TREATMENT_GROUP = "treatment"
#: The treatment inputs, for people (the model card).
TREATMENT_INPUTS = ("adjuvant chemotherapy, endocrine and anti-HER2 therapy, radiotherapy "
                    "(at diagnosis); prior therapy classes, the number of prior lines, the "
                    "therapy class of the line and a CDK4/6 inhibitor with it (at a treatment "
                    "line)")


def is_treatment(name: str) -> bool:
    """True for a treatment input (:data:`TREATMENT_GROUP`)."""
    return feature_group(name) == TREATMENT_GROUP


@lru_cache(maxsize=4096)
def feature_group(name: str) -> str:
    """The group a feature belongs to, so one finding reads as one: ``mut__ESR1``,
    ``hot__ESR1_LBD`` and ``rclass__esr1`` are all ``ESR1``."""
    name = re.sub(r"^missingindicator_", "", name)
    for prefix in ("mut__", "hot__", "cna__"):
        if name.startswith(prefix):
            return name[len(prefix):].split("_")[0]
    if name in _COMBINED_GROUPS:
        return _COMBINED_GROUPS[name]
    if name.startswith("path__"):
        key = name[len("path__"):]
        return f"{PATHWAY_NAMES.get(key, key.replace('_', ' '))} pathway"
    if name == "tmb":
        return "TMB"
    if name.startswith("evo__"):
        return "tumour evolution"
    for pattern, group in _CLINICAL_GROUPS:
        if re.match(pattern, name):
            return group
    raise ValueError(f"feature {name!r} has no group: add it to features/pipeline.py "
                     "(every feature is explained under a group people understand)")
