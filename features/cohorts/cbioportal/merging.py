"""Merging a study's supplementary clinical attribute files into one table by identifier.

cBioPortal studies may split patient or sample attributes over several files (each named by
its own meta file). Each file is read and parsed on its own (so errors name that file); the
tables are then merged by identifier: a column only one file has is taken from it, a value two
files both give must agree, identifiers only a later file has are added. The report lists each
merged file with what it contributed.
"""

from __future__ import annotations

import pandas as pd

from features.cohorts.report import LoadReport
from features.cohorts.tabular import TextTable

Parsed = tuple[pd.DataFrame, ...]


def merge_attribute_files(tables: list[TextTable], parsed: list[Parsed],
                          report: LoadReport) -> Parsed:
    """Merge the frames parsed from each file of ``tables`` (same order), position by position
    (e.g. patients and outcomes). A value that differs between two files is a CohortError
    naming the later file, its line and the column."""
    merged = list(parsed[0])
    for table, frames in zip(tables[1:], parsed[1:], strict=True):
        contributed: list[str] = []
        filled = 0
        new_ids = 0
        for position, frame in enumerate(frames):
            merged[position], cells, columns, added = _merge_one(merged[position], frame, table,
                                                                 report)
            filled += cells
            new_ids = max(new_ids, added)
            contributed += columns
        report.warn(f"{table.name}: supplementary attribute file merged by identifier: "
                    f"{len(table.frame)} rows ({new_ids} new identifiers), {filled} values "
                    f"filled, columns {sorted(set(contributed))}")
    return tuple(merged)


def _merge_one(base: pd.DataFrame, extra: pd.DataFrame, table: TextTable,
               report: LoadReport) -> tuple[pd.DataFrame, int, list[str], int]:
    """``base`` with ``extra``'s rows and values; the number of values filled, the columns
    that received values and the number of new identifiers."""
    common = base.index.intersection(extra.index)
    for column in base.columns.intersection(extra.columns):
        first, second = base.loc[common, column], extra.loc[common, column]
        both_given = (first.notna() & second.notna()).to_numpy(dtype=bool)
        unequal = (first.astype("string") != second.astype("string")).fillna(False)
        differ = both_given & unequal.to_numpy(dtype=bool)
        if differ.any():
            identifier = common[differ.argmax()]
            spelled = next((c for file, c, field in report.columns_read
                            if file == table.name and field == column), column)
            raise table.error(
                f"{column} of {identifier!r} is {second[identifier]} here but "
                f"{first[identifier]} in an earlier attribute file",
                row=int(extra.index.get_loc(identifier)), column=spelled,
                expected="the same value in every file that gives one")
    new = extra.index.difference(base.index)
    merged = base.reindex(base.index.append(new))
    filled = 0
    columns = []
    for column in extra.columns:
        values = extra[column].reindex(merged.index)
        if column not in merged.columns:
            merged[column] = values
            gained = int(values.notna().sum())
        else:
            gap = merged[column].isna() & values.notna()
            gained = int(gap.sum())
            if gained:
                merged.loc[gap, column] = values[gap]
        if gained:
            filled += gained
            columns.append(column)
    return merged, filled, columns, len(new)
