"""Reading the tab-separated text files of cancer-genomics exports, robustly and traceably.

Handles a UTF-8 byte-order mark, LF / CRLF / old-Mac CR line endings, leading ``#`` lines
(cBioPortal's four metadata header lines, a MAF's ``#version`` or ``#Sequenced_Samples:``),
blank lines, and keeps the 1-based line number of every data row so errors can point at it.
"""

from __future__ import annotations

import errno
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_FILE_BYTES = 2 * 1024**3
_MAX_CELL_CHARS = 100_000


@dataclass(frozen=True)
class TextTable:
    """A tab-separated file read as strings.

    ``frame`` has one column per header field (all ``object`` dtype, ``None``-free: empty cells
    are ``""``); ``lines[i]`` is the 1-based line number of ``frame`` row ``i``; ``comments`` are
    the leading ``#`` lines without their ``#``.
    """

    path: Path
    frame: pd.DataFrame
    lines: list[int]
    comments: list[str]
    header_line: int
    #: Column name in ``frame`` -> as the file spells it, when the frame's names were changed.
    spelled: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file name, as used in messages."""
        return self.path.name

    def line_of(self, row: int) -> int:
        """1-based line number of data row ``row`` (0-based position in ``frame``)."""
        return self.lines[row]

    def error(self, problem: str, *, row: int | None = None, column: str | None = None,
              expected: str | None = None) -> CohortError:
        """A :class:`CohortError` pointing at ``row``/``column`` of this file."""
        line = self.line_of(row) if row is not None else None
        return CohortError(problem, file=self.name, line=line, column=self.spelling(column),
                           expected=expected)

    def spelling(self, column: str | None) -> str | None:
        """``column`` as the file spells it."""
        return self.spelled.get(column, column) if column is not None else None


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, or a :class:`CohortError` saying why the file cannot be read."""
    try:
        if path.is_dir():
            raise CohortError("is a directory", file=str(path), expected="a text file")
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise CohortError("not a regular file (a FIFO, device or socket); not read",
                              file=str(path), expected="a text file")
        size = status.st_size
        if size > _MAX_FILE_BYTES:
            raise CohortError(f"file of {size} bytes is too large", file=str(path),
                              expected=f"at most {_MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise CohortError("file not found", file=str(path)) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CohortError("symbolic link loop", file=str(path)) from exc
        raise CohortError(f"cannot be read ({exc.strerror})", file=str(path)) from exc


def decode_text(data: bytes, name: str, report: LoadReport | None) -> str:
    """Decode file bytes as UTF-8 (BOM removed); refuse binary data.

    Text that is not valid UTF-8 is read as Latin-1 (the usual spreadsheet export) and the
    report says so, with the line of the first undecodable byte.
    """
    if b"\x00" in data[:65536] or b"\x00" in data[-65536:]:
        raise CohortError("binary data (NUL bytes)", file=name, expected="tab-separated text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if report is not None:
            report.warn(
                f"{name}: not valid UTF-8 (first bad byte on line {line}); read as Latin-1"
            )
        return data.decode("latin-1")


def split_lines(text: str) -> tuple[list[str], bool]:
    """Lines of ``text`` under any line-ending convention, and whether the text ended with one."""
    lines = _LINE_BREAK.split(text)
    ends_with_newline = bool(lines) and lines[-1] == ""
    if ends_with_newline:
        lines.pop()
    return lines, ends_with_newline


def read_text_table(path: Path, report: LoadReport | None = None) -> TextTable:
    """Read a tab-separated file with a header row, after any leading ``#`` lines.

    Raises :class:`CohortError` naming the file and line for: no header, a header that is not
    tab-separated, duplicate column names, a row with the wrong number of fields (a truncated
    last line among them), and cells of absurd length.
    """
    name = path.name
    text = decode_text(read_bytes(path), name, report)
    lines, ends_with_newline = split_lines(text)
    comments: list[str] = []
    index = 0
    while index < len(lines) and lines[index].startswith("#"):
        comments.append(lines[index][1:])
        index += 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index >= len(lines):
        raise CohortError("no header row (the file is empty)", file=name,
                          expected="a tab-separated header row")
    header_line = index + 1
    header = [field.strip() for field in lines[index].split("\t")]
    _check_header(header, name, header_line)
    rows: list[list[str]] = []
    row_lines: list[int] = []
    width = len(header)
    last = len(lines) - 1
    for number in range(index + 1, len(lines)):
        line = lines[number]
        if not line.strip():
            continue
        if len(line) > _MAX_CELL_CHARS:
            _check_cell_sizes(line.split("\t"), header, name, number + 1)
        fields = line.split("\t")
        if " " in line:
            fields = [field.strip() for field in fields]
        if len(fields) != width:
            truncated = number == last and not ends_with_newline and len(fields) < width
            problem = "truncated last line: " if truncated else ""
            raise CohortError(
                f"{problem}{len(fields)} tab-separated fields",
                file=name, line=number + 1, column=header[min(len(fields), width) - 1],
                expected=f"{width} fields as in the header on line {header_line}",
            )
        rows.append(fields)
        row_lines.append(number + 1)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return TextTable(path, frame, row_lines, comments, header_line)


def _check_header(header: list[str], name: str, line: int) -> None:
    if len(header) == 1 and ("," in header[0] or ";" in header[0]):
        sep = "commas" if "," in header[0] else "semicolons"
        raise CohortError(f"header is separated by {sep}, not tabs", file=name, line=line,
                          expected="tab-separated columns")
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            raise CohortError(f"empty column name at position {position}", file=name,
                              line=line, expected="a name for every column")
        if column in seen:
            raise CohortError("duplicate column name", file=name, line=line, column=column)
        seen.add(column)


def _check_cell_sizes(fields: list[str], header: list[str], name: str, line: int) -> None:
    for position, cell in enumerate(fields):
        if len(cell) > _MAX_CELL_CHARS:
            column = header[position] if position < len(header) else f"#{position + 1}"
            raise CohortError(f"cell of {len(cell)} characters", file=name, line=line,
                              column=column, expected=f"at most {_MAX_CELL_CHARS} characters")


def read_key_value_file(path: Path) -> dict[str, str]:
    """Read a cBioPortal ``meta_*.txt`` or gene-panel file of ``key: value`` lines."""
    text = decode_text(read_bytes(path), path.name, None)
    lines, _ = split_lines(text)
    values: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise CohortError("line without 'key: value'", file=path.name, line=number,
                              expected="'key: value'")
        values[key.strip()] = value.strip()
    return values
