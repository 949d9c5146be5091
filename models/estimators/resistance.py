"""ResistanceModel: probability of resistance to a therapy class, calibrated boosted trees."""

from __future__ import annotations

import numpy as np
import xgboost as xgb
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from models.estimators.boosting import BoostedTrees

#: The probability calibrations a resistance model can fit (scikit-learn's methods whose
#: calibrator maps the booster's probability to a calibrated one).
CALIBRATIONS = ("sigmoid", "isotonic")


class ResistanceModel(ClassifierMixin, BoostedTrees):
    """XGBoost binary classifier whose probabilities are calibrated (Platt, by default) on
    out-of-fold predictions within the training data (``CalibratedClassifierCV``,
    ``ensemble=False``: one booster fitted on all training rows, one calibrator).

    ``predict_proba[:, 1]`` is the calibrated probability of resistance (higher = worse);
    ``predict_margin`` is the booster's log odds, the scale explanations are additive on.
    Defaults come from the nested tuning in ``docs/tuning.md``.
    ``monotone`` (on by default): the established adverse factors of
    :mod:`models.estimators.constraints` never lower the risk.
    """

    _fitted_attribute = "calibrated_"
    #: The booster is fitted by ``XGBClassifier`` on unnamed arrays.
    _named_matrix = False

    def __init__(self, n_estimators: int = 100, max_depth: int = 2,
                 learning_rate: float = 0.05, subsample: float = 0.8,
                 colsample_bytree: float = 0.5, min_child_weight: float = 5.0,
                 reg_lambda: float = 5.0, calibration: str = "sigmoid",
                 calibration_folds: int = 5, monotone: bool = True,
                 random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.monotone = monotone
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _booster(self) -> xgb.XGBClassifier:
        return xgb.XGBClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            learning_rate=self.learning_rate, subsample=self.subsample,
            colsample_bytree=self.colsample_bytree, min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda, random_state=self.random_state, n_jobs=self.n_jobs,
            tree_method="hist", eval_metric="logloss", **self.monotone_params(),
        )

    def fit(self, X: object, y: object) -> ResistanceModel:
        """Fit on features ``X`` (NaN allowed) and binary labels ``y`` (1 = resistant)."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(f"ResistanceModel needs two classes, got {len(self.classes_)}")
        encoded = (y == self.classes_[1]).astype(int)
        if self.calibration not in CALIBRATIONS:  # scoring applies the calibrator to one margin
            raise ValueError(f"calibration must be one of {', '.join(CALIBRATIONS)}, "
                             f"got {self.calibration!r}")
        folds = StratifiedKFold(self.calibration_folds, shuffle=True,
                                random_state=self.random_state)
        self.calibrated_ = CalibratedClassifierCV(self._booster(), method=self.calibration,
                                                  cv=folds, ensemble=False)
        self.calibrated_.fit(X, encoded)
        return self

    @property
    def booster_(self) -> xgb.Booster:
        """The booster fitted on all training rows."""
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.calibrated_classifiers_[0].estimator.get_booster()

    @property
    def calibrator_(self) -> object:
        """The fitted calibrator: booster probability of resistance -> calibrated one."""
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.calibrated_classifiers_[0].calibrators[0]

    def predict_proba(self, X: object) -> np.ndarray:
        """Calibrated probabilities of each class, columns in ``classes_`` order."""
        rows = self._rows(X)
        return self.calibrated_.predict_proba(rows)

    def predict(self, X: object) -> np.ndarray:
        """The more probable class."""
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def predict_margin(self, X: object) -> np.ndarray:
        """Uncalibrated log odds of resistance from the booster."""
        rows = self._rows(X)
        return self.booster_.predict(self._matrix(rows), output_margin=True)

    def contributions(self, X: object) -> np.ndarray:
        """Exact TreeSHAP contributions to the log odds, shape (n, n_features + 1), bias last."""
        return self._booster_contributions(X)
