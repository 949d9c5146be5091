"""Writing a table chunk by chunk to ``.parquet`` or ``.csv``, all or nothing: the chunks go to
a hidden file beside the target, renamed onto it only when every chunk is written, and removed
on any failure, so a failed run never leaves a half-written output."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: Output formats by file extension.
FORMATS = {".parquet": "parquet", ".csv": "csv"}


def output_format(path: Path) -> str:
    """``parquet`` or ``csv`` from ``path``'s extension; ValueError otherwise."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: the output must end in .parquet or .csv") from None


def partial_path(path: Path) -> Path:
    """The hidden file a table is written to before it is complete."""
    return path.with_name(f".{path.name}.partial")


class AtomicTableWriter:
    """``with AtomicTableWriter(path) as writer: writer.write(frame)``, chunk after chunk; the
    first chunk fixes the columns and types. ValueError at entry when ``path`` cannot be
    written (a missing folder, no permission, a folder of that name)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.format = output_format(self.path)
        self.partial = partial_path(self.path)
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._handle = None

    def __enter__(self) -> AtomicTableWriter:
        if self.path.is_dir():
            raise ValueError(f"{self.path}: is a folder; name the output file")
        try:
            self._handle = open(self.partial, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as error:
            raise ValueError(f"{self.path}: cannot be written ({error.strerror})") from error
        if self.format == "parquet":
            self._handle.close()
            self._handle = None
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` (its columns must equal the first chunk's)."""
        if self.format == "csv":
            frame.to_csv(self._handle, header=self.rows == 0, index=False)
        else:
            if self._schema is None:
                self._schema = _schema(frame)
                self._parquet = pq.ParquetWriter(self.partial, self._schema)
            self._parquet.write_table(pa.Table.from_pandas(frame, schema=self._schema,
                                                           preserve_index=False))
        self.rows += len(frame)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None:
            self._handle.close()
        if kind is None and self.format == "parquet" and self._schema is None:
            pq.write_table(pa.table({}), self.partial)  # no patient scored: an empty table
        if kind is None:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)


def _schema(frame: pd.DataFrame) -> pa.Schema:
    """Types from the columns' dtypes; text columns are strings even when a chunk has only
    missing values in them."""
    fields = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind = pa.bool_()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = pa.int64()
        elif pd.api.types.is_float_dtype(dtype):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(str(name), kind))
    return pa.schema(fields)
