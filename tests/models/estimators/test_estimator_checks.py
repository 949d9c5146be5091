"""scikit-learn's estimator checks for our custom estimators, the ones that apply.

Every check expected to fail is listed with its reason (STYLE.md: the subset that applies, with
the reason for each skipped check written down). Checks not listed must pass.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from features.pipeline import GeneFrequencyFilter
from models.estimators.aft import AFTRiskModel
from models.estimators.cox import PenalizedCox
from models.estimators.resistance import ResistanceModel
from models.estimators.risk import RiskModel

_ONE_SAMPLE = "one sample cannot be fitted; our error says so in other words than the check's"
_SURVIVAL_TARGET = ("the target is a structured (event, time) survival array; this check fits "
                    "with a plain regression or classification target")
_BINARY_ONLY = ("resistance is binary by definition; this check fits with three or more "
                "classes")

#: Checks that fit with a target that is not a survival array.
_NEEDS_SURVIVAL_TARGET = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
)
#: Checks that fit a classifier on more than two classes.
_NEEDS_MULTICLASS = (
    "check_classifiers_classes", "check_classifiers_train", "check_dict_unchanged",
    "check_dont_overwrite_parameters", "check_dtype_object", "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params", "check_f_contiguous_array_estimator",
    "check_fit2d_predict1d", "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
    "check_supervised_y_2d",
)


def _expected_failures(estimator: object) -> dict[str, str]:
    failures: dict[str, str] = {}
    if isinstance(estimator, (RiskModel, AFTRiskModel, PenalizedCox)):
        failures |= dict.fromkeys(_NEEDS_SURVIVAL_TARGET, _SURVIVAL_TARGET)
        failures |= {"check_fit2d_1sample": _ONE_SAMPLE}
    if isinstance(estimator, PenalizedCox):
        failures["check_estimators_nan_inf"] = _SURVIVAL_TARGET
    if isinstance(estimator, ResistanceModel):
        failures |= dict.fromkeys(_NEEDS_MULTICLASS, _BINARY_ONLY)
        failures |= {"check_fit2d_1sample": _ONE_SAMPLE}
    return failures


@parametrize_with_checks(
    [GeneFrequencyFilter(), PenalizedCox(alphas=(1.0,)), RiskModel(n_estimators=5),
     AFTRiskModel(n_estimators=5),
     ResistanceModel(n_estimators=5, calibration_folds=2)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator: object, check: object) -> None:
    check(estimator)
