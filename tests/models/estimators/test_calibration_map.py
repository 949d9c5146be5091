"""The resistance model's calibrator as a plain map: equal to scikit-learn's own predict."""

from __future__ import annotations

import numpy as np
import pytest

from models.estimators.calibration_map import CalibrationMap, CalibrationMapError
from models.estimators.resistance import ResistanceModel


def _fitted(calibration: str) -> ResistanceModel:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=400) > 0).astype(int)
    return ResistanceModel(n_estimators=30, calibration=calibration).fit(X, y)


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic"])
def test_the_map_equals_the_calibrator_everywhere(calibration: str) -> None:
    calibrator = _fitted(calibration).calibrator_
    mapped = CalibrationMap.of(calibrator)
    probabilities = np.concatenate([np.random.default_rng(0).uniform(size=500),
                                    [0.0, 1e-9, 0.5, 1.0 - 1e-9, 1.0]])
    tolerance = 1e-12 if calibration == "sigmoid" else 1e-7  # isotonic: float32's last digit
    assert mapped(probabilities) == pytest.approx(calibrator.predict(probabilities),
                                                  abs=tolerance)
    assert (mapped.thresholds is None) == (calibration == "sigmoid")


def test_a_calibrator_of_another_shape_is_refused() -> None:
    class Squared:
        def predict(self, t: np.ndarray) -> np.ndarray:
            return np.asarray(t) ** 2

    with pytest.raises(CalibrationMapError, match="neither Platt nor isotonic"):
        CalibrationMap.of(Squared())
