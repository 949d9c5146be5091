"""A resistance model's fitted calibrator as a few numbers and one numpy expression.

scikit-learn's calibrators validate their input on every call (``check_array``,
``column_or_1d``): about a tenth of a millisecond per answer, more than the arithmetic. The
map below is built once per loaded model from the calibrator's documented behaviour and
checked against it on a grid before it is used:

- Platt (``method="sigmoid"``): ``p = 1 / (1 + exp(a * t + b))`` of the booster's probability
  ``t``; ``a`` and ``b`` are read back from two of the calibrator's own predictions;
- isotonic: piecewise-linear interpolation between ``IsotonicRegression``'s fitted
  ``X_thresholds_`` and ``y_thresholds_``, clipped outside them (how
  ``CalibratedClassifierCV`` fits it: ``out_of_bounds="clip"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

#: Booster probabilities the map is checked on against the calibrator.
CHECK_GRID = np.linspace(0.0, 1.0, 101)
#: Largest difference in probability tolerated between the map and the calibrator: an
#: isotonic calibrator fitted on xgboost's float32 probabilities answers in float32, and
#: scipy's interpolation and numpy's round its last digit differently (1 float32 ulp, under
#: 1e-7); Platt's map agrees to about 1e-15.
TOLERANCE = 1e-6


class CalibrationMapError(ValueError):
    """The calibrator does not behave as a Platt or isotonic calibration."""


@dataclass(frozen=True)
class CalibrationMap:
    """Booster probability (0-1) -> calibrated probability of resistance (0-1, higher means
    more likely resistant), equal to the calibrator's ``predict`` within :data:`TOLERANCE`."""

    slope: float  # Platt's a
    intercept: float  # Platt's b
    thresholds: np.ndarray | None  # isotonic: the fitted x thresholds, their own dtype
    # (float32 from xgboost's probabilities; None for Platt)
    values: np.ndarray | None  # isotonic: the calibrated value at each threshold

    @classmethod
    def of(cls, calibrator: object) -> CalibrationMap:
        """The map of a fitted calibrator of ``CalibratedClassifierCV``; raises
        :class:`CalibrationMapError` when it does not reproduce the calibrator."""
        if isinstance(calibrator, IsotonicRegression):
            built = cls(0.0, 0.0, np.asarray(calibrator.X_thresholds_),
                        np.asarray(calibrator.y_thresholds_))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.log(1.0 / _predict(calibrator, np.array([0.0, 1.0])) - 1.0)
            built = cls(float(z[1] - z[0]), float(z[0]), None, None)
        with np.errstate(invalid="ignore", over="ignore"):
            gap = float(np.max(np.abs(built(CHECK_GRID) - _predict(calibrator, CHECK_GRID))))
        if not gap <= TOLERANCE:
            raise CalibrationMapError(
                f"the calibrator {type(calibrator).__name__} is neither Platt nor isotonic as "
                f"scikit-learn fits them (differs by {gap:.2e})")
        return built

    def __call__(self, probability: np.ndarray) -> np.ndarray:
        """The calibrated probabilities of the booster's probabilities ``probability``."""
        if self.thresholds is not None:  # in the thresholds' precision, as scikit-learn does
            precision = self.thresholds.dtype
            return np.interp(np.asarray(probability, dtype=precision), self.thresholds,
                             self.values).astype(float)
        return 1.0 / (1.0 + np.exp(self.slope * probability + self.intercept))


def _predict(calibrator: object, probability: np.ndarray) -> np.ndarray:
    return np.asarray(calibrator.predict(probability), dtype=float)
