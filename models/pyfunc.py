"""The MLflow pyfunc face of a ModelBundle."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from models.bundles.storage import load_bundle
from models.scoring import predict


class BundleModel(mlflow.pyfunc.PythonModel):
    """Loads ``artifacts["bundle"]`` and predicts with it (:func:`models.scoring.predict`).

    Inputs are checked against the logged signature (the design's float columns), so MLflow's
    type-hint validation is switched off rather than run on ``pd.DataFrame`` hints.
    """

    _skip_type_hint_validation = True

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Read the bundle file logged with the model."""
        self.bundle = load_bundle(context.artifacts["bundle"])

    def predict(self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame,
                params: dict[str, str] | None = None) -> pd.DataFrame:
        """Risk score, risk group and probabilities for each row of design features."""
        return predict(self.bundle, model_input)
