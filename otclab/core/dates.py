"""Dates and day counts: parsing, month arithmetic (clipped to month end) and ACT/365F."""
from __future__ import annotations

import calendar as _cal
import datetime as _dt

from .errors import TermsError

Date = _dt.date


def parse_date(value, field: str = "date") -> Date:
    """A ``datetime.date`` from an ISO string (YYYY-MM-DD), date, datetime or numpy datetime64."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if hasattr(value, "astype") and "datetime64" in str(getattr(value, "dtype", "")):
        return _dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise TermsError(f"expected a date as YYYY-MM-DD; got {value!r}", field=field)


def add_months(d: Date, months: int) -> Date:
    """``d`` plus ``months`` calendar months, the day clipped to the end of the target month."""
    y, m0 = divmod(d.month - 1 + int(months), 12)
    year, month = d.year + y, m0 + 1
    return Date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


def act365(start: Date, end: Date) -> float:
    """ACT/365F year fraction from ``start`` to ``end`` (negative if end is earlier)."""
    return (end - start).days / 365.0
