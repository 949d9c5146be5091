"""A proposed target for a clinical column nobody mapped yet, from its name and its values, with
the evidence: ``validate --suggest-mapping`` writes it so that the researcher edits the mapping
rather than writes it. A proposal is a starting point to check, never applied by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from features.cohorts.vocab import CODINGS, MISSING_TOKENS

#: Share of a column's non-missing values that must fit a kind for it to be proposed.
AGREEMENT = 0.8
_ROMAN = r"(?:iv|i{1,3}|[0-4])"
_STAGE = re.compile(rf"^(?:(?:ajcc|pathologic|clinical)\s*)?(?:stage\s*)?{_ROMAN}[abc]?\d?$")
#: A grade written in words around a numeral: "Grade II", "G3", "grade 2 of 3",
#: "Grade II (moderately differentiated)", "II - intermediate".
_GRADE = re.compile(r"^(?:(?:histologic(?:al)?|nottingham|elston)\s*)?(?:grade\s*|g)?"
                    r"(?:i{1,3}|[1-3])\b(?:\s*(?:/|of)\s*(?:iii|3))?(?:\s*[-(:,].*)?$")
_GRADE_WORDS = ("well differentiated", "moderately differentiated", "poorly differentiated",
                "low grade", "intermediate grade", "high grade")
_TNM = {letter: re.compile(rf"^[cpy]{{0,2}}{letter}(?:is|x|[0-4])(?:mi|[a-d])?(?:\(.*\))?$")
        for letter in "tnm"}
_RECEPTORS = {
    "er_status": re.compile(r"(?:^|_)(?:ER|ESR1?|ESTROGEN|OESTROGEN)(?:_|$)"),
    "pr_status": re.compile(r"(?:^|_)(?:PR|PGR|PROGESTERONE)(?:_|$)"),
    "her2_status": re.compile(r"(?:^|_)(?:HER2|ERBB2|NEU|HER_2)(?:_|$)"),
}
_MENOPAUSE = {"pre", "post", "peri", "premenopausal", "postmenopausal", "perimenopausal"}


@dataclass(frozen=True)
class Guess:
    """A proposed mapping target (a cohort field, or "" for none) and why."""

    target: str
    evidence: str


def guess_target(column: str, raw: pd.Series) -> Guess | None:
    """The proposal for study column ``column`` (its normalised, upper-case name) with values
    ``raw`` (strings), or None when neither name nor values point anywhere."""
    values = raw[~raw.str.strip().str.lower().isin(MISSING_TOKENS)].str.strip()
    if values.empty:
        return None
    lower = values.str.lower()
    for guess in (_receptor(column, lower), _staging(column, lower), _numeric(column, values)):
        if guess is not None:
            return guess
    if _share(lower.isin(_MENOPAUSE)) >= AGREEMENT:
        return Guess("menopausal_status", "values are pre-, peri- or postmenopausal")
    return None


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def _receptor(column: str, lower: pd.Series) -> Guess | None:
    coding = CODINGS["receptor_status"]
    readable = lower.map(lambda v: v in coding or v.rstrip("+-") in coding or v in {"+", "-"})
    if _share(readable) < AGREEMENT:
        return None
    for field, pattern in _RECEPTORS.items():
        if pattern.search(column):
            return Guess(field, f"the name says {field.split('_')[0].upper()}; "
                         f"{_share(readable):.0%} of values read as receptor results")
    return None


def _staging(column: str, lower: pd.Series) -> Guess | None:
    grade = lower.str.match(_GRADE) | lower.apply(lambda v: any(w in v for w in _GRADE_WORDS))
    stage = lower.str.match(_STAGE)
    if "GRADE" in column and _share(grade) >= AGREEMENT:
        return Guess("grade", f"the name says grade; {_share(grade):.0%} of values are grades "
                     "(a numeral 1-3 or I-III, in words or not)")
    if _share(lower.str.contains("stage") & stage) >= AGREEMENT or (
            "STAGE" in column and _share(stage) >= AGREEMENT):
        return Guess("stage", f"{_share(stage):.0%} of values are AJCC stage groups "
                     "(0, I-IV with sub-stages)")
    if _share(lower.str.contains("grade") & grade) >= AGREEMENT:
        return Guess("grade", f"{_share(grade):.0%} of values are written as grades")
    for letter, pattern in _TNM.items():
        if _share(lower.str.match(pattern)) >= AGREEMENT:
            return Guess(f"{letter}_category", f"values are AJCC {letter.upper()} categories "
                         f"({', '.join(sorted(set(lower))[:4])})")
    return None


def _numeric(column: str, values: pd.Series) -> Guess | None:
    numbers = pd.to_numeric(values, errors="coerce")
    if _share(numbers.notna()) < AGREEMENT:
        return None
    numbers = numbers.dropna()
    low, high = float(numbers.min()), float(numbers.max())
    span = f"numbers {low:g} to {high:g}"
    aged = re.search(r"(?:^|_)(?:AGE|BIRTH|DOB|YEARS_OLD)(?:_|$)", column) is not None
    if aged and 12 * 15 <= low and high <= 12 * 110 and ("MONTH" in column or low > 110):
        return Guess("", f"{span}: months since birth ({low / 12:.0f} to {high / 12:.0f} "
                     "years); no field reads months since birth: give years "
                     "(AGE_AT_DIAGNOSIS) or, for a sample, months from diagnosis "
                     "(COLLECTION_MONTHS)")
    if aged and 15 <= low and high <= 110:
        return Guess("age_years", f"{span}: the name says age, the values are years")
    if "SIZE" in column:
        unit = "cm" if high <= 20 else "mm"
        return Guess("tumor_size_mm" if unit == "mm" else "TUMOR_SIZE_CM",
                     f"{span}: the name says size; read as {unit}")
    if re.search(r"NODE|(?:^|_)LN(?:_|$)", column) and numbers.eq(numbers.round()).all():
        return Guess("positive_nodes", f"{span}, whole numbers: the name says nodes")
    return None
