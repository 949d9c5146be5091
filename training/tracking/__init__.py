"""Tracking: the MLflow store, the model registry with its promotion gate, and the record of
one training run."""
