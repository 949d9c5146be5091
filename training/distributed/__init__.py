"""Distributed training on Dask: partition-wise cohorts, evaluation over partition folds and
the xgboost.dask training run."""
