"""Observation schedules on a trading calendar.

Monthly: start + m months (day clipped to month end), rolled to the next trading day; the last
observation is maturity. Daily: every trading day after the start up to maturity. Weekly: start +
7k calendar days rolled forward, last = maturity. All schedules exclude the start date.
"""
from __future__ import annotations

from .calendar import TradingCalendar
from .dates import Date, add_months


def maturity_from_tenor(start: Date, tenor_months: int, cal: TradingCalendar) -> Date:
    """Maturity of a ``tenor_months`` trade started on ``start``: start + months, rolled forward."""
    return cal.roll_forward(add_months(start, tenor_months))


def monthly(start: Date, maturity: Date, cal: TradingCalendar, first_month: int = 1) -> list[Date]:
    """Monthly observation dates from month ``first_month`` on; the last one is ``maturity``."""
    out = []
    m = max(int(first_month), 1)
    while True:
        d = cal.roll_forward(add_months(start, m))
        if d >= maturity:
            break
        out.append(d)
        m += 1
    out.append(maturity)
    return out


def weekly(start: Date, maturity: Date, cal: TradingCalendar) -> list[Date]:
    """Weekly observation dates (start + 7k days, rolled forward); the last one is ``maturity``."""
    from datetime import timedelta

    out, k = [], 1
    while True:
        d = cal.roll_forward(start + timedelta(days=7 * k))
        if d >= maturity:
            break
        if not out or d > out[-1]:
            out.append(d)
        k += 1
    out.append(maturity)
    return out


def daily(start: Date, maturity: Date, cal: TradingCalendar) -> list[Date]:
    """Every trading day in ``(start, maturity]``."""
    return cal.trading_days(start, maturity)


def by_frequency(freq: str, start: Date, maturity: Date, cal: TradingCalendar) -> list[Date]:
    """Dispatch on ``freq`` in daily | weekly | monthly."""
    return {"daily": daily, "weekly": weekly, "monthly": monthly}[freq](start, maturity, cal)
