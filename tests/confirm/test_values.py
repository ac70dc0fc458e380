"""Value readers: every printed form the generator uses reads back to the platform value."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from otclab.confirm import values as V
from otclab.confirm.generate import Style, _upper_cn, fmt_amount, fmt_date, fmt_level, fmt_rate
from otclab.confirm.underlyings import parse_underlying


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5_000_000).map(lambda k: k * 100.0), st.sampled_from(["yuan", "wan", "upper", "cny"]))
def test_amount_round_trip(v, fmt):
    assert V.parse_amount(fmt_amount(v, Style(amount_format=fmt))) == v


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 999_999_999_999))
def test_upper_case_numerals(n):
    assert V.parse_cn_numeral(_upper_cn(n) + "元整") == n


@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), st.sampled_from(["cn", "iso", "slash", "cn0"]))
def test_date_round_trip(d, fmt):
    assert V.parse_date(fmt_date(d.isoformat(), Style(date_format=fmt))) == d.isoformat()


@settings(max_examples=200, deadline=None)
@given(st.integers(500, 1500).map(lambda k: k / 1000), st.floats(1.0, 9000.0).map(lambda x: round(x, 2)),
       st.sampled_from(["times", "pct", "price_pct", "price"]))
def test_level_round_trip(x, s0, fmt):
    got, derived = V.parse_level(fmt_level(x, s0, Style(level_format=fmt)), s0)
    assert derived == (fmt == "price")
    # a level printed as a bare price is only as precise as the printed price
    tol = 1e-9 if fmt != "price" else (0.0051 if s0 < 20 else 0.0051) / s0 * 1.01 + 5e-5
    assert abs(got - x) <= tol


def test_rates():
    assert V.parse_rate("年化15.00%") == 0.15
    assert V.parse_rate("15.00%（年化）") == 0.15
    assert V.parse_rate("每月1.2500%") == 0.15
    assert V.parse_rate("每月1.0500%（年化12.60%）") == 0.126
    assert V.parse_rate("无") is None
    assert fmt_rate(0.126, "coupon", Style(layout="mixed"), monthly=True) == "每月1.0500%（年化12.60%）"


def test_ocr_lookalikes_in_ids_and_numbers():
    assert V.canonical_id("0TC-2O25-00l23") == V.canonical_id("OTC-2025-00123") == "OTC-2025-00123"
    assert V.canonical_id("OPT25080233") == "OPT25080233"  # the letter O of a prefix stays
    assert V.canonical_id("0PT25O80233") == "OPT25080233"
    assert V.parse_date("2O25年l月7日") == "2025-01-07"
    assert V.parse_amount("人民币3O,OOO,OOO.OO元") == 30_000_000.0
    assert V.parse_amount("RMB30.000.000.00") == 30_000_000.0  # OCR read the commas as dots
    assert V.parse_price("5,768.0O点") == 5768.0


def test_underlying_codes_and_names():
    assert parse_underlying("中证500指数（000905.SH）") == ("000905.SH", None)
    assert parse_underlying("SH6OO519 贵州茅台") == ("600519.SH", None)
    assert parse_underlying("沪深300ETF") == ("510300.SH", None)
    code, warn = parse_underlying("中证500指数(000852.SH)")
    assert code == "000852.SH" and "disagrees" in warn
    assert parse_underlying("某某公司") == (None, None)


def test_structure_and_option_words():
    assert V.parse_structure("凤凰式自动赎回期权") == "phoenix"
    assert V.parse_structure("雪球结构期权") == "snowball"
    assert V.parse_structure("单鲨结构期权") == "sharkfin"
    assert V.parse_structure("平均价格亚式期权") == "asian"
    assert V.parse_structure("欧式期权") == "vanilla"
    assert V.parse_option_type("Call（看涨）") == "call"
    assert V.parse_option_type("认沽期权") == "put"
    assert V.parse_option_type("雪球") is None


def test_id_lookalikes_by_context():
    assert V.canonical_id("5WAP-20250708-22897") == "SWAP-20250708-22897"
    assert V.canonical_id("HX-CF-2O25-0117-OO8") == "HX-CF-2025-0117-008"
    assert V.canonical_id("HX-OTC·20250925-67043") == "HX-OTC-20250925-67043"
    assert V.id_key("OTC-20250908-04827") == V.id_key("OTC-2025090804827")
