"""MLflow "models from code" entry point: the logged model is a BundleModel.

MLflow runs this file when loading the model; the bundle itself is an artifact.
"""

import mlflow

from models.pyfunc import BundleModel

mlflow.models.set_model(BundleModel())
