"""The synthetic metastatic-breast-cancer cohort (documented generative model, known truth)."""

from features.cohorts.synthetic.generator import SyntheticOptions, build_synthetic_cohort
from features.cohorts.synthetic.parameters import PLANTED_EFFECTS

__all__ = ["PLANTED_EFFECTS", "SyntheticOptions", "build_synthetic_cohort"]
