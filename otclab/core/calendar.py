"""SSE trading calendar: weekends and the exchange's official holidays, shipped as data.

Holidays live in ``otclab/core/data/sse_holidays.csv`` (one ISO date per line, header ``date``).
To add a year, append its holiday dates to that file when the exchange publishes them, or point
``OTCLAB_HOLIDAYS`` at extra CSV files (``os.pathsep``-separated) of the same shape. Dates past
the last year covered are treated as weekdays-only and raise a ``CalendarWarning`` once per year
and process, naming the first trade that reached that year (``dates_of``) and what is assumed; it
prints as one plain line (no file name, no source line).
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import warnings
from pathlib import Path

import numpy as np

from .dates import Date, parse_date

DATA_FILE = Path(__file__).with_name("data") / "sse_holidays.csv"


_EPOCH = Date(1970, 1, 1).toordinal()


def _as_days(dates) -> np.ndarray:
    """datetime64[D] array from dates (date objects by their ordinals, strings parsed)."""
    if isinstance(dates, np.ndarray) and dates.dtype == np.dtype("datetime64[D]"):
        return dates
    dates = list(dates)
    try:
        # ordinals: ~20x faster than letting NumPy convert each date object (a datetime counts
        # by its date, as parse_date reads it; anything else is parsed below)
        return (np.fromiter(map(Date.toordinal, dates), np.int64, len(dates)) - _EPOCH).astype("datetime64[D]")
    except TypeError:
        return np.array([np.datetime64(parse_date(d), "D") for d in dates], dtype="datetime64[D]")


def _to_dates(days: np.ndarray) -> list[Date]:
    """Date objects from a datetime64[D] array."""
    return [Date.fromordinal(x) for x in (days.astype(np.int64) + _EPOCH).tolist()]


class CalendarWarning(UserWarning):
    """A date falls outside the years whose holidays are known."""


# What the dates being counted belong to ("trade T00003: snowball on 399006.SZ ..."): set by
# whoever knows the trade (the pricing context, a book's compile loop), read when warning.
_SUBJECT: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("otclab_calendar_subject", default=())


@contextlib.contextmanager
def dates_of(subject: str):
    """Within this block, calendar warnings name ``subject`` (nested blocks join theirs with ": ",
    outermost first, so a book's trade id comes before the contract's description)."""
    token = _SUBJECT.set(_SUBJECT.get() + (str(subject),))
    try:
        yield
    finally:
        _SUBJECT.reset(token)


def _plain_format(orig):
    """``warnings.formatwarning`` that prints a ``CalendarWarning`` as its message alone: a note
    about our data, not about a line of the caller's code; other warnings go to ``orig``."""
    def fmt(message, category, filename, lineno, line=None):
        if isinstance(category, type) and issubclass(category, CalendarWarning):
            return f"{category.__name__}: {message}\n"
        return orig(message, category, filename, lineno, line)
    fmt._otclab_plain = True
    return fmt


if not getattr(warnings.formatwarning, "_otclab_plain", False):
    warnings.formatwarning = _plain_format(warnings.formatwarning)


def _read_holidays(path: Path) -> list[Date]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and line.lower() != "date":
            out.append(parse_date(line.split(",")[0], field=str(path)))
    return out


class TradingCalendar:
    """Trading days of one exchange: Monday-Friday minus listed holidays.

    Counting functions use half-open intervals ``(a, b]``: the trading days strictly after ``a``
    up to and including ``b``, which is what diffusion time and daily observations need.
    """

    def __init__(self, holidays, name: str = "SSE"):
        hol = sorted(set(parse_date(h) for h in holidays))
        self.name = name
        self.holidays = tuple(hol)
        self.first_year = hol[0].year if hol else None
        self.last_year = hol[-1].year if hol else None
        self._bdc = np.busdaycalendar(weekmask="1111100", holidays=np.array(hol, dtype="datetime64[D]"))
        self._warned: set[int] = set()

    def _check(self, *dates: Date) -> None:
        for d in dates:
            if self.last_year is not None and d.year > self.last_year and d.year not in self._warned:
                self._warned.add(d.year)
                who = ": ".join(_SUBJECT.get()) or f"{self.name} calendar"
                warnings.warn(
                    f"{who}: dates in {d.year}, but {self.name} holidays are known only through "
                    f"{self.last_year} ({d.year}'s are not in the data yet); every {d.year} "
                    f"weekday counts as a trading day, for this and any other trade (said once). Add "
                    f"the holidays to otclab/core/data/sse_holidays.csv or a file in OTCLAB_HOLIDAYS.",
                    CalendarWarning, stacklevel=3)

    def is_trading_day(self, d) -> bool:
        d = parse_date(d)
        self._check(d)
        return bool(np.is_busday(np.datetime64(d, "D"), busdaycal=self._bdc))

    def roll_forward(self, d) -> Date:
        """``d`` if it is a trading day, else the next trading day."""
        d = parse_date(d)
        self._check(d)
        return np.busday_offset(np.datetime64(d, "D"), 0, roll="forward", busdaycal=self._bdc).item()

    def add_trading_days(self, d, n: int) -> Date:
        """The ``n``-th trading day after ``d`` (``d`` itself rolled forward first if needed)."""
        d = parse_date(d)
        out = np.busday_offset(np.datetime64(d, "D"), n, roll="forward", busdaycal=self._bdc).item()
        self._check(d, out)
        return out

    def count(self, a, b) -> int:
        """Number of trading days in ``(a, b]`` (negative if ``b < a``)."""
        a, b = parse_date(a), parse_date(b)
        self._check(a, b)
        one = np.timedelta64(1, "D")
        return int(np.busday_count(np.datetime64(a, "D") + one, np.datetime64(b, "D") + one,
                                   busdaycal=self._bdc))

    def counts(self, a, dates) -> np.ndarray:
        """Trading days in ``(a, d]`` for each of ``dates`` (vectorised ``count``)."""
        a = parse_date(a)
        ds = _as_days(dates)
        if len(ds):
            self._check(a, ds.max().item())
        one = np.timedelta64(1, "D")
        return np.busday_count(np.datetime64(a, "D") + one, ds + one, busdaycal=self._bdc)

    def trading_days(self, a, b) -> list[Date]:
        """All trading days in ``(a, b]``, in order."""
        a, b = parse_date(a), parse_date(b)
        self._check(a, b)
        days = np.arange(np.datetime64(a, "D") + 1, np.datetime64(b, "D") + 1, dtype="datetime64[D]")
        return _to_dates(days[np.is_busday(days, busdaycal=self._bdc)])


@functools.lru_cache(maxsize=None)
def _load_sse(extra: str) -> TradingCalendar:
    holidays = _read_holidays(DATA_FILE)
    for p in filter(None, extra.split(os.pathsep)):
        holidays += _read_holidays(Path(p))
    return TradingCalendar(holidays, name="SSE")


def sse_calendar() -> TradingCalendar:
    """The Shanghai Stock Exchange calendar (shipped holidays plus ``OTCLAB_HOLIDAYS`` files)."""
    return _load_sse(os.environ.get("OTCLAB_HOLIDAYS", ""))
