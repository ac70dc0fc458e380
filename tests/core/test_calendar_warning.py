"""A date past the shipped holidays: one plain line, once per year, naming the trade, the year and
what is assumed; the README's request example is within the shipped years and prints nothing."""
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from otclab.core.calendar import CalendarWarning, TradingCalendar, dates_of

ROOT = Path(__file__).resolve().parents[2]
OTCLAB = [sys.executable, "-c", "from otclab.cli.main import run; run()"]

REQUEST = {"template": "snowball",
           "terms": {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5600, "start_date": "2025-06-03",
                     "tenor_months": 24, "ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15,
                     "lockup_months": 3},
           "market": {"valuation_date": "2025-06-03", "spot": 5600, "rate": 0.016, "div_yield": 0.03, "vol": 0.22}}


def _otclab(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "OTCLAB_HOLIDAYS"}
    return subprocess.run(OTCLAB + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_warning_names_the_trade_and_year_once():
    cal = TradingCalendar(["2026-01-01", "2026-10-01"])
    with pytest.warns(CalendarWarning) as seen:
        with dates_of("T7"), dates_of("snowball on 000905.SH from 2025-06-03 (24 months)"):
            cal.roll_forward("2027-06-03")
        with dates_of("T8"):
            cal.roll_forward("2027-07-05")        # the same year: not said again
            cal.count("2026-01-05", "2028-01-05")  # a new year: said for it
    msgs = [str(w.message) for w in seen]
    assert msgs == [
        "T7: snowball on 000905.SH from 2025-06-03 (24 months): dates in 2027, but SSE holidays are known only "
        "through 2026 (2027's are not in the data yet); every 2027 weekday counts as a trading day, for this and "
        "any other trade (said once). Add the holidays to otclab/core/data/sse_holidays.csv or a file in "
        "OTCLAB_HOLIDAYS.",
        "T8: dates in 2028, but SSE holidays are known only through 2026 (2028's are not in the data yet); every "
        "2028 weekday counts as a trading day, for this and any other trade (said once). Add the holidays to "
        "otclab/core/data/sse_holidays.csv or a file in OTCLAB_HOLIDAYS."]
    # what is assumed is what is done: a 2027 weekday is a trading day
    assert cal.is_trading_day("2027-10-01") and not cal.is_trading_day("2026-10-01")


def test_without_a_subject_the_calendar_names_itself():
    cal = TradingCalendar(["2026-01-01"])
    with pytest.warns(CalendarWarning, match=r"^SSE calendar: dates in 2027, but"):
        cal.is_trading_day("2027-03-01")


def test_it_prints_as_one_line_without_file_or_source():
    text = warnings.formatwarning(CalendarWarning("T1: dates in 2027, ..."), CalendarWarning, __file__, 10)
    assert text == "CalendarWarning: T1: dates in 2027, ...\n"
    other = warnings.formatwarning(UserWarning("x"), UserWarning, __file__, 10)
    assert other.startswith(f"{__file__}:10: UserWarning: x")


def test_price_past_the_calendar_says_it_once_in_one_line(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps(REQUEST))
    r = _otclab("price", "r.json", "--greeks", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [
        "CalendarWarning: snowball on 000905.SH from 2025-06-03 (24 months): dates in 2027, but SSE holidays "
        "are known only through 2026 (2027's are not in the data yet); every 2027 weekday counts as a trading "
        "day, for this and any other trade (said once). Add the holidays to otclab/core/data/sse_holidays.csv "
        "or a file in OTCLAB_HOLIDAYS."]


def test_a_book_names_the_contract_by_its_id(tmp_path):
    from otclab.book.synthetic import synthetic_market

    book = [{"id": "X-1", "template": "vanilla", "terms": {"underlying": "000905.SH", "notional": 1e6,
             "initial_price": 5600, "start_date": "2025-06-03", "tenor_months": 3, "option_type": "call",
             "strike": 1.0}},
            {"id": "X-2", "template": "snowball", "terms": REQUEST["terms"]},
            {"id": "X-3", "template": "snowball", "terms": {**REQUEST["terms"], "tenor_months": 30}}]
    (tmp_path / "book.json").write_text(json.dumps(book))
    (tmp_path / "market.json").write_text(json.dumps(synthetic_market()))
    r = _otclab("book", "price", "book.json", "--market", "market.json", "--paths", "2000", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    warned = [ln for ln in r.stderr.splitlines() if "CalendarWarning" in ln]
    assert warned == [
        "CalendarWarning: X-2: snowball on 000905.SH from 2025-06-03 (24 months): dates in 2027, but SSE "
        "holidays are known only through 2026 (2027's are not in the data yet); every 2027 weekday counts as a "
        "trading day, for this and any other trade (said once). Add the holidays to "
        "otclab/core/data/sse_holidays.csv or a file in OTCLAB_HOLIDAYS."]


def test_the_readme_request_prints_no_warning(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("A request is `{\"template\", \"terms\", \"market\", \"state\"?, \"fixings\"?}`:")[1]
    block = block.split("```json")[1].split("```")[0]
    (tmp_path / "request.json").write_text(block)
    r = _otclab("price", "request.json", "--greeks", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = _otclab("solve", "request.json", "--for", "coupon", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_the_readme_demo_book_prints_no_warning(tmp_path):
    r = _otclab("book", "demo", "demo-book", "--contracts", "40", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    book = json.loads((tmp_path / "demo-book" / "book.json").read_text())
    assert {c["template"] for c in book} >= {"snowball", "phoenix"}
    r = _otclab("book", "price", "demo-book/book.json", "--market", "demo-book/market.json", "--paths", "1000",
                "--no-greeks", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr and "CalendarWarning" not in r.stdout, r.stderr
