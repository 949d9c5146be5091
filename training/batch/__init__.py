"""Batch prediction: a registered model scores a whole cohort to a file, with a shift report."""
