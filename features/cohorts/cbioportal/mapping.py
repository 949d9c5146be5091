"""A user's column mapping: a study's own column names and value spellings placed onto the
Cohort model, for what the alias table (:mod:`features.cohorts.cbioportal.dialects`) does not know.

The file is TOML (``--columns FILE``, or ``cohort.columns`` in the config)::

    [columns]                       # the study's column = a cohort field (or an attribute ID)
    "Dx Age (yrs)" = "age_years"
    "ER Primary" = "er_status"
    "Relapse (mo)" = "RFS_MONTHS"   # endpoints by their cBioPortal IDs
    "Relapse" = "RFS_STATUS"
    "Site code" = ""                # known, deliberately not read

    [values.er_status]              # spellings of one field's values -> what mbcrisk reads
    "ER+" = "positive"

Each mapped column must exist in one of the study's clinical files, and each target must be a
cohort field or an attribute ID; otherwise the error names the mapping file, line and key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from features.cohorts.cbioportal.dialects import (
    DIAGNOSIS_FIELDS,
    PATIENT_FIELDS,
    SAMPLE_AGE_FIELD,
    SAMPLE_FIELDS,
    normalise_name,
)
from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable, decode_text, read_bytes

_ATTRIBUTE_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Cohort field -> the attribute ID the alias table reads it from first.
FIELD_IDS = {rule.field: rule.sources[0]
             for rule in reversed((*PATIENT_FIELDS, *SAMPLE_FIELDS, SAMPLE_AGE_FIELD))}


@dataclass
class ColumnMapping:
    """A parsed mapping file: column -> attribute ID ("" = not read), and per attribute ID the
    value spellings to replace."""

    path: Path
    columns: dict[str, str]
    values: dict[str, dict[str, str]]
    lines: dict[str, int]
    found: set[str] = field(default_factory=set)

    def line_of(self, key: str) -> int | None:
        """The 1-based line of the file where ``key`` is written."""
        return self.lines.get(key)


def load_mapping(path: Path) -> ColumnMapping:
    """Read and check a mapping file; CohortError naming the file, line and key."""
    text = decode_text(read_bytes(Path(path)), Path(path).name, None)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CohortError(f"not valid TOML ({error})", file=str(path)) from error
    lines = {key: number for number, line in enumerate(text.splitlines(), start=1)
             for key in re.findall(r'^\s*"?([^"=]+?)"?\s*=', line)}
    columns = data.get("columns", {})
    unknown_sections = set(data) - {"columns", "values"}
    if unknown_sections or not isinstance(columns, dict):
        raise CohortError(f"unknown sections {sorted(unknown_sections)}", file=str(path),
                          expected="[columns] and [values.<field>] tables")
    targets: dict[str, str] = {}
    for column, target in columns.items():
        if not isinstance(target, str) or not (target == "" or target in FIELD_IDS
                                               or _ATTRIBUTE_ID.match(target)):
            raise CohortError(f"{target!r} is not a cohort field or an attribute ID",
                              file=str(path), line=lines.get(column), column=column,
                              expected=f"one of {sorted(FIELD_IDS)}, an ID such as "
                              "RFS_MONTHS, or \"\" for a column not to read")
        targets[column] = FIELD_IDS.get(target, target)
    values = {name: {str(k): str(v) for k, v in spellings.items()}
              for name, spellings in data.get("values", {}).items()}
    return ColumnMapping(Path(path), targets, values, lines)


def apply_mapping(table: TextTable, mapping: ColumnMapping | None,
                  report: LoadReport) -> TextTable:
    """``table`` with mapped columns renamed to their attribute IDs (or dropped, for ``""``)
    and mapped value spellings replaced (counted as recodings)."""
    if mapping is None:
        return table
    frame = table.frame
    present = [c for c in frame.columns if c in mapping.columns]
    mapping.found.update(present)
    renames = {c: mapping.columns[c] for c in present if mapping.columns[c]}
    dropped = [c for c in present if not mapping.columns[c]]
    for column in dropped:
        report.not_used.append((table.name, column, f"not read, by {mapping.path.name}"))
    frame = frame.drop(columns=dropped).rename(columns=renames)
    for target, spellings in mapping.values.items():
        for column in [c for c in frame.columns if normalise_name(c) in _sources(target)]:
            for raw, value in spellings.items():
                report.recode(column, raw, value, int((frame[column] == raw).sum()))
            frame[column] = frame[column].replace(spellings)
    spelled = {**table.spelled, **{new: old for old, new in renames.items()}}
    return replace(table, frame=frame, spelled=spelled)


def _sources(target: str) -> set[str]:
    """The attribute IDs a field (or an attribute ID) is read from."""
    rules = [r for r in (*PATIENT_FIELDS, *SAMPLE_FIELDS, *DIAGNOSIS_FIELDS, SAMPLE_AGE_FIELD)
             if r.field == target]
    return {source for rule in rules for source in rule.sources} or {normalise_name(target)}


def check_mapping_used(mapping: ColumnMapping | None) -> None:
    """Every column the mapping names must exist in one of the study's clinical files."""
    if mapping is None:
        return
    absent = [column for column in mapping.columns if column not in mapping.found]
    if absent:
        raise CohortError(f"maps column {absent[0]!r}, which no clinical file of the study "
                          "has", file=str(mapping.path), line=mapping.line_of(absent[0]),
                          column=absent[0], expected="a column name as the study writes it")
