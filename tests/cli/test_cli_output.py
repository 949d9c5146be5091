"""Every command's ``--json`` is one strict JSON document (cli/output.py)."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli.output import print_json, strict_json


def _refuse(constant: str) -> None:
    raise AssertionError(f"not strict JSON: {constant}")


def test_a_number_that_is_not_finite_is_written_as_a_string() -> None:
    assert strict_json({"a": math.nan, "b": [-math.inf, 0.5], "c": {"d": math.inf}, "e": 3}
                       ) == {"a": "nan", "b": ["-inf", 0.5], "c": {"d": "inf"}, "e": 3}


def test_numpy_and_pandas_values_become_json_values(capsys: pytest.CaptureFixture) -> None:
    print_json({"float": np.float64(0.25), "nan": np.float32("nan"), "int": np.int64(3),
                "array": np.array([1.0, np.nan]), "missing": pd.NA, "no_date": pd.NaT,
                "path": Path("/tmp/run"), "day": date(2026, 12, 2)})
    out = json.loads(capsys.readouterr().out, parse_constant=_refuse)
    assert out == {"float": 0.25, "nan": "nan", "int": 3, "array": [1.0, "nan"],
                   "missing": None, "no_date": None, "path": "/tmp/run", "day": "2026-12-02"}
    assert isinstance(out["int"], int)


def test_an_unknown_type_is_an_error_not_a_string() -> None:
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        print_json({"value": object()})
