"""A starting column mapping for a study: the clinical columns the alias table cannot place,
each with a target proposed from its name and values (:mod:`column_guess`), the evidence and a
few of its values, as a TOML file for ``--columns`` (``validate --suggest-mapping``).
"""

from __future__ import annotations

from pathlib import Path

from features.cohorts.cbioportal.column_guess import guess_target
from features.cohorts.cbioportal.dialects import (
    DIAGNOSIS_FIELDS,
    NOT_USED,
    PATIENT_FIELDS,
    SAMPLE_AGE_FIELD,
    SAMPLE_FIELDS,
    normalise_name,
)
from features.cohorts.cbioportal.files import locate_study_files
from features.cohorts.cbioportal.mapping import FIELD_IDS
from features.cohorts.report import LoadReport
from features.cohorts.tabular import read_text_table

_PLACED = {source for rule in (*PATIENT_FIELDS, *SAMPLE_FIELDS, *DIAGNOSIS_FIELDS,
                               SAMPLE_AGE_FIELD) for source in rule.sources}
_IDENTIFIERS = {"PATIENT_ID", "SAMPLE_ID"}
_EXAMPLES = 5


def suggest_mapping(folder: str | Path) -> str:
    """The TOML text: a commented ``[columns]`` line per clinical column not placed (fill in a
    cohort field, an attribute ID, or ``""`` to leave it unread)."""
    study = Path(folder)
    report = LoadReport(source=str(study))
    files = locate_study_files(study, report)
    lines = [f"# Column mapping for {study.name}: give each column a cohort field, an attribute",
             "# ID (such as RFS_MONTHS / RFS_STATUS), or \"\" to leave it unread. Targets filled",
             "# in are proposals from each column's name and values: check each. Fields:",
             *(f"#   {', '.join(sorted(FIELD_IDS)[k:k + 6])}"
               for k in range(0, len(FIELD_IDS), 6)),
             "", "[columns]"]
    names = {normalise_name(c) for role in ("patient", "sample") for p in files.all(role)
             for c in read_text_table(p).frame.columns}
    for role in ("patient", "sample"):
        for path in files.all(role):
            table = read_text_table(path)
            for column in table.frame.columns:
                if _placed(normalise_name(column), names):
                    continue
                cells = table.frame[column]
                values = cells[cells != ""].unique()[:_EXAMPLES]
                shown = ", ".join(str(v) for v in values)
                guess = guess_target(normalise_name(column), cells)
                target, why = (guess.target, f"proposed: {guess.evidence}; " if guess
                               else ("", ""))
                lines.append(f'"{column}" = "{target}"  # {path.name}; {why}values: {shown}')
    lines += ["", "# [values.<field>] tables map value spellings, e.g.",
              "# [values.er_status]", '# "ER+" = "positive"']
    return "\n".join(lines) + "\n"


def _placed(name: str, names: set[str]) -> bool:
    """Whether the alias table reads (or deliberately skips) the normalised column ``name``."""
    if name in _PLACED or name in _IDENTIFIERS or name in NOT_USED:
        return True
    if name.endswith("_MONTHS"):
        stem = name.removesuffix("_MONTHS")
        return bool({f"{stem}_STATUS", f"{stem}_EVENT", stem} & names)
    return any(name == f"{other.removesuffix('_MONTHS')}{suffix}" for other in names
               if other.endswith("_MONTHS") for suffix in ("_STATUS", "_EVENT", ""))
