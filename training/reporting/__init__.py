"""Reporting: the model card (rendered from the MLflow run alone) and the plots."""
