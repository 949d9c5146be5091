"""Cohorts (``features.cohorts``: reading and validating them) and feature building: endpoint
labels, the design and its compiled profile encoder, the feature pipeline."""
