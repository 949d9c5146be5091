"""Reading and writing the tab-separated tables of a study folder being rewritten (the dialect
writers start from the standard folder and rewrite its files)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.cohorts.tabular import read_text_table


def read_frame(path: Path) -> pd.DataFrame:
    """A study table as strings (header comments dropped)."""
    return read_text_table(path).frame


def write_frame(path: Path, frame: pd.DataFrame, *, missing: str = "", newline: str = "\n",
                header: list[str] | None = None) -> None:
    """``frame`` as a tab-separated table, missing cells written as ``missing``."""
    cells = frame.astype(object).where(frame.notna() & (frame != ""), missing)
    lines = [*(header or []), "\t".join(frame.columns)]
    lines += ["\t".join(str(v) for v in row) for row in cells.to_numpy()]
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))


def write_meta(path: Path, **values: str) -> None:
    """A ``meta_*.txt`` file of ``key: value`` lines."""
    path.write_text("".join(f"{k}: {v}\n" for k, v in values.items()), encoding="utf-8")
