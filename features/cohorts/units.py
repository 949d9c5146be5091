"""Unit conversions used across cohort sources."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

#: Average days per month (365.25 / 12): cBioPortal timelines count days, cohorts use months.
DAYS_PER_MONTH = 30.4375

Quantity = TypeVar("Quantity", float, np.ndarray, pd.Series)


def days_to_months(days: Quantity) -> Quantity:
    """Days -> months (of 30.4375 days)."""
    return days / DAYS_PER_MONTH


def months_to_days(months: Quantity) -> Quantity:
    """Months (of 30.4375 days) -> days."""
    return months * DAYS_PER_MONTH
