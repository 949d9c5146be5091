"""The one error type for cohort data that cannot be used."""

from __future__ import annotations


class CohortError(ValueError):
    """A cohort file or table that cannot be used.

    The message names where the problem is: the file (or table), the line (1-based, as an
    editor shows it) and the column, then what was found and what was expected.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.column = column
        self.expected = expected
        super().__init__(self._message())

    def _message(self) -> str:
        where = [part for part in (self.file,) if part]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        text = f"{', '.join(where)}: {self.problem}" if where else self.problem
        if self.expected:
            text += f" (expected {self.expected})"
        return text
