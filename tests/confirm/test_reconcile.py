"""Reconciliation of extracted fields with the booked trade."""
from __future__ import annotations

import pytest

from otclab.confirm.reconcile import reconcile
from otclab.confirm.termsheet import confirmation_fields
from otclab.core.errors import TermsError


def test_identical_document_has_no_mismatch(trade):
    assert reconcile(trade, confirmation_fields(trade)) == []


def test_each_difference_is_reported_with_both_values(trade):
    doc = confirmation_fields(trade)
    doc["ko_barrier"] = round(trade["ko_barrier"] + 0.01, 4)
    doc["notional"] = trade["notional"] * 10
    doc["trade_id"] = doc["trade_id"].replace("0", "O")  # OCR look-alikes are not a mismatch
    del doc["coupon"]
    doc["strike"] = 1.0  # a snowball has no strike
    got = {m.field: m for m in reconcile(trade, doc)}
    assert set(got) == {"ko_barrier", "notional", "coupon", "strike"}
    assert (got["ko_barrier"].booked, got["ko_barrier"].document) == (trade["ko_barrier"], doc["ko_barrier"])
    assert got["ko_barrier"].kind == "different"
    assert got["notional"].document == trade["notional"] * 10
    assert got["coupon"].kind == "missing" and got["coupon"].document is None
    assert got["strike"].kind == "unexpected" and got["strike"].booked is None
    assert "booked" in str(got["ko_barrier"]) and "document" in str(got["ko_barrier"])


def test_maturity_from_tenor_rolls_to_trading_day():
    t = {"template": "vanilla", "trade_id": "T-1", "counterparty": "甲", "trade_date": "2025-09-30",
         "start_date": "2025-09-30", "tenor_months": 1, "underlying": "000300.SH", "notional": 1e6,
         "initial_price": 4000.0, "option_type": "call", "strike": 1.0}
    # 2025-10-30 is a Thursday trading day; 2025-09-30 + 1 month = 2025-10-30
    assert confirmation_fields(t)["maturity_date"] == "2025-10-30"
    t["start_date"] = t["trade_date"] = "2025-09-01"
    assert confirmation_fields(t)["maturity_date"] == "2025-10-09"  # National Day holiday -> next trading day


def test_invalid_booking_names_the_field(trade):
    bad = dict(trade, template="butterfly")
    with pytest.raises(TermsError) as e:
        reconcile(bad, {})
    assert e.value.field == "template" and "snowball" in e.value.message
    bad = dict(trade, ki_barrier=1.2)
    with pytest.raises(TermsError) as e:
        reconcile(bad, {})
    assert e.value.field == "ki_barrier"
