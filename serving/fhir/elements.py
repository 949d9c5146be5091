"""Small readers of FHIR data types shared by the mCODE mapping: codings, dates, quantities."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from serving.fhir.codes import UCUM

#: Days per month and per year, for durations in months and ages in years.
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25


def codings(concept: Any) -> Iterator[tuple[str | None, str | None, str | None]]:
    """(system, code, display) of every coding of a CodeableConcept (none when absent)."""
    for coding in (getattr(concept, "coding", None) or []):
        yield coding.system, coding.code, coding.display


def has_code(concept: Any, wanted: set[tuple[str, str]]) -> bool:
    return any((system, code) in wanted for system, code, _ in codings(concept))


def code_in(concept: Any, system: str) -> str | None:
    """The first code of ``system`` in the concept."""
    return next((code for s, code, _ in codings(concept) if s == system and code), None)


def words(concept: Any) -> str:
    """The concept's human text (``text`` and every coding's ``display``), lower case."""
    parts = [getattr(concept, "text", None) or ""]
    parts += [display or "" for _, _, display in codings(concept)]
    return " ".join(parts).lower()


def as_date(value: Any) -> date | None:
    """A FHIR date or dateTime as a date; a partial date (``YYYY`` or ``YYYY-MM``) is taken at
    the middle of its year or month (July 1, the 15th), the usual registry convention."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value)
        if match:
            year, month, day = match.groups()
            if month is None:
                return date(int(year), 7, 1)
            return date(int(year), int(month), int(day) if day else 15)
    return None


def months_between(start: date, end: date) -> float:
    """Months from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return (end - start).days / DAYS_PER_MONTH


def years_between(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_YEAR


def length_mm(quantity: Any) -> float | None:
    """A length Quantity in millimetres (UCUM ``mm`` or ``cm``, by code or unit); None for
    another or no unit."""
    if quantity is None or quantity.value is None:
        return None
    unit = (quantity.code if quantity.system in (None, UCUM) and quantity.code
            else quantity.unit or "")
    factor = {"mm": 1.0, "cm": 10.0}.get(str(unit).strip().lower())
    value = float(quantity.value)
    return None if factor is None or not math.isfinite(value) else value * factor


def number(observation: Any) -> float | None:
    """An Observation's numeric value: valueInteger, or valueQuantity's value (None when
    absent or not a finite number)."""
    value = getattr(observation, "valueInteger", None)
    if value is None:
        quantity = getattr(observation, "valueQuantity", None)
        value = None if quantity is None else quantity.value
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None

