"""Evaluation: survival and binary metrics (pure functions of arrays), patient-grouped folds,
interval summaries, the informative-missingness check and the cross-validated comparison."""
