"""One registry of cohort sources: built-in cohorts by name, study folders by path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from features.cohorts.cbioportal.reader import load_cbioportal_study
from features.cohorts.cohort import Cohort
from features.cohorts.errors import CohortError
from features.cohorts.gbsg2 import load_gbsg2
from features.cohorts.options import LoadOptions
from features.cohorts.parquet import is_parquet_cohort, load_parquet_cohort
from features.cohorts.report import LoadReport
from features.cohorts.synthetic import build_synthetic_cohort
from features.cohorts.synthetic.generator import SYNTHETIC_NOTICE

#: Size and seed of the built-in ``synthetic`` cohort (the embedded default of ``make run``).
SYNTHETIC_DEFAULT_N = 2000
SYNTHETIC_DEFAULT_SEED = 0


@dataclass(frozen=True)
class BuiltinCohort:
    """A cohort mbcrisk can produce without any file: a loader and a one-line description."""

    load: Callable[[], tuple[Cohort, LoadReport]]
    description: str


def load_synthetic(n_patients: int = SYNTHETIC_DEFAULT_N,
                   random_state: int = SYNTHETIC_DEFAULT_SEED) -> tuple[Cohort, LoadReport]:
    """The synthetic cohort with a load report that says, first, that it is synthetic."""
    cohort = build_synthetic_cohort(n_patients, random_state)
    report = LoadReport(source=f"features.cohorts.synthetic (n={n_patients}, seed={random_state})")
    report.warn(SYNTHETIC_NOTICE)
    report.counts = {"patients": len(cohort.patients), "samples": len(cohort.samples),
                     "mutations": len(cohort.mutations), "cna_calls": len(cohort.copy_number),
                     "treatment_lines": len(cohort.treatments)}
    return cohort, report


BUILTIN_COHORTS: dict[str, BuiltinCohort] = {
    "synthetic": BuiltinCohort(
        load_synthetic,
        f"SYNTHETIC metastatic breast cancer cohort, n={SYNTHETIC_DEFAULT_N}, "
        f"seed={SYNTHETIC_DEFAULT_SEED}, paired samples, treatment lines, known effects",
    ),
    "gbsg2": BuiltinCohort(
        load_gbsg2, "GBSG2 trial, 686 patients, recurrence-free survival (real; lifelines)"
    ),
}


def load_cohort(source: str | Path,
                options: LoadOptions | None = None) -> tuple[Cohort, LoadReport]:
    """Load ``source``: a built-in cohort name (see :data:`BUILTIN_COHORTS`), a partitioned
    Parquet cohort folder (:mod:`features.cohorts.parquet`) or a cBioPortal study folder (read with
    ``options``: a panel folder, a column mapping).

    A bare name that is both a built-in cohort and an existing path here is ambiguous and an
    error (write ``./NAME`` for the folder); a name with a path separator is always a path.
    Raises CohortError when the source is none of these.
    """
    text = str(source)
    path = Path(text)
    if text in BUILTIN_COHORTS:
        if path.exists() or path.is_symlink():
            raise CohortError(
                f"{text!r} is both a built-in cohort and a path in {Path.cwd()}",
                expected=f"'./{text}' for the folder, or run from another folder for the "
                         "built-in cohort")
        return BUILTIN_COHORTS[text].load()
    if is_parquet_cohort(path):
        return load_parquet_cohort(path)
    if path.exists() or "/" in text or "\\" in text:
        return load_cbioportal_study(path, options)
    raise CohortError(
        f"{text!r} is neither a built-in cohort nor a folder",
        expected=f"one of {sorted(BUILTIN_COHORTS)} or the path of a cBioPortal study folder",
    )
