import datetime as dt
import warnings

import pytest

from otclab.core.calendar import CalendarWarning, TradingCalendar, _load_sse, sse_calendar
from otclab.core.dates import add_months, act365, parse_date
from otclab.core.errors import TermsError
from otclab.core.schedules import daily, maturity_from_tenor, monthly, weekly


def d(s):
    return dt.date.fromisoformat(s)


def test_holidays_and_weekends():
    cal = sse_calendar()
    assert not cal.is_trading_day("2024-10-01")      # National Day
    assert not cal.is_trading_day("2025-01-29")      # Spring Festival
    assert not cal.is_trading_day("2025-02-08")      # a Saturday make-up workday: exchange closed
    assert cal.is_trading_day("2025-02-05")
    assert cal.roll_forward("2022-04-03") == d("2022-04-06")   # Qingming 2022


def test_counts_are_half_open():
    cal = sse_calendar()
    assert cal.count("2022-01-05", "2023-01-05") == 243
    assert cal.count("2025-01-06", "2025-01-06") == 0
    assert cal.count("2025-01-06", "2025-01-07") == 1
    days = cal.trading_days("2025-09-26", "2025-10-10")
    assert d("2025-10-01") not in days and days[0] == d("2025-09-29") and days[-1] == d("2025-10-10")
    assert list(cal.counts("2025-01-06", ["2025-01-07", "2025-01-13"])) == [1, 5]


def test_warning_past_last_known_year():
    cal = TradingCalendar(["2026-01-01"])
    with pytest.warns(CalendarWarning, match="2027"):
        cal.is_trading_day("2027-03-01")


def test_extra_holiday_file_adds_a_year(tmp_path, monkeypatch):
    extra = tmp_path / "sse_2027.csv"
    extra.write_text("date\n2027-01-01\n2027-02-08\n")
    monkeypatch.setenv("OTCLAB_HOLIDAYS", str(extra))
    _load_sse.cache_clear()
    try:
        cal = sse_calendar()
        assert cal.last_year == 2027
        with warnings.catch_warnings():
            warnings.simplefilter("error", CalendarWarning)
            assert not cal.is_trading_day("2027-02-08")
            assert cal.is_trading_day("2027-02-09")
    finally:
        _load_sse.cache_clear()


def test_monthly_schedule_matches_pricelib_dates():
    cal = sse_calendar()
    start = d("2022-01-05")
    mat = maturity_from_tenor(start, 12, cal)
    ko = monthly(start, mat, cal, first_month=3)
    assert ko[0] == d("2022-04-06") and ko[-1] == d("2023-01-05") and len(ko) == 10
    assert d("2022-10-10") in ko     # 2022-10-05 is a holiday week: rolled to the next trading day


def test_month_end_clipping_and_rolling():
    cal = sse_calendar()
    assert add_months(d("2024-01-31"), 1) == d("2024-02-29")
    assert add_months(d("2023-01-31"), 1) == d("2023-02-28")
    obs = monthly(d("2024-01-31"), maturity_from_tenor(d("2024-01-31"), 4, cal), cal)
    assert obs == [d("2024-02-29"), d("2024-04-01"), d("2024-04-30"), d("2024-05-31")]


def test_daily_and_weekly():
    cal = sse_calendar()
    start, mat = d("2025-01-06"), d("2025-04-07")
    dd = daily(start, mat, cal)
    assert all(cal.is_trading_day(x) for x in dd) and dd[-1] == mat and start not in dd
    ww = weekly(start, mat, cal)
    assert ww[-1] == mat and all(b > a for a, b in zip(ww, ww[1:]))
    assert d("2025-02-05") in ww   # 2025-02-03 falls in the Spring Festival; rolled forward


def test_dates_and_act365():
    assert act365(d("2025-01-01"), d("2026-01-01")) == 1.0
    assert parse_date("2025-01-17") == d("2025-01-17")
    with pytest.raises(TermsError, match="YYYY-MM-DD"):
        parse_date("17/01/2025", "terms.start_date")
