"""Reconciliation of extracted fields with the booked trade (the one trade record)."""
from __future__ import annotations

import pytest

from otclab.confirm.reconcile import reconcile
from otclab.confirm.trade import TERM_FIELDS, confirmation_fields, read_trade
from otclab.core.errors import OtcError, TermsError


def test_identical_document_has_no_mismatch(trade):
    assert reconcile(confirmation_fields(trade), trade) == []


def test_each_difference_is_reported_with_both_values(trade):
    doc = confirmation_fields(trade)
    ko = trade.terms["ko_barrier"]
    doc["ko_barrier"] = round(ko + 0.01, 4)
    doc["notional"] = trade.notional * 10
    doc["trade_id"] = doc["trade_id"].replace("0", "O")  # OCR look-alikes are not a mismatch
    del doc["coupon"]
    doc["strike"] = 1.0  # a snowball has no strike
    got = {m.field: m for m in reconcile(doc, trade)}
    assert set(got) == {"ko_barrier", "notional", "coupon", "strike"}
    assert (got["ko_barrier"].booked, got["ko_barrier"].document) == (ko, doc["ko_barrier"])
    assert got["ko_barrier"].kind == "different"
    assert got["notional"].document == trade.notional * 10
    assert got["coupon"].kind == "missing" and got["coupon"].document is None
    assert got["strike"].kind == "unexpected" and got["strike"].booked is None
    assert "booked" in str(got["ko_barrier"]) and "document" in str(got["ko_barrier"])


def _vanilla(**terms):
    t = {"underlying": "000300.SH", "notional": 1e6, "initial_price": 4000.0, "start_date": "2025-09-30",
         "tenor_months": 1, "option_type": "call", "strike": 1.0}
    t.update(terms)
    return {"trade_id": "T-1", "template": "vanilla", "terms": t, "direction": "sell",
            "counterparty": {"id": "CP1", "name": "甲公司"}, "trade_date": t["start_date"]}


def test_maturity_from_tenor_rolls_to_trading_day():
    # 2025-10-30 is a Thursday trading day; 2025-09-30 + 1 month = 2025-10-30
    assert confirmation_fields(read_trade(_vanilla()))["maturity_date"] == "2025-10-30"
    # 2025-10-01 falls in the National Day holiday: the next trading day
    assert confirmation_fields(read_trade(_vanilla(start_date="2025-09-01")))["maturity_date"] == "2025-10-09"


def test_template_terms_map_to_confirmation_fields():
    """The names that differ: a phoenix's coupon_barrier is the confirmation's barrier (派息障碍),
    a digital's payout its coupon; the counterparty is printed by its legal name."""
    phoenix = {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5800.0, "start_date": "2025-03-03",
               "tenor_months": 12, "ko_barrier": 1.0, "ki_barrier": 0.7, "coupon_barrier": 0.75, "coupon": 0.12}
    raw = dict(_vanilla(), template="phoenix", terms=phoenix, trade_date="2025-03-03")
    f = confirmation_fields(read_trade(raw))
    assert (f["barrier"], f["ko_barrier"], f["ki_barrier"], f["coupon"]) == (0.75, 1.0, 0.7, 0.12)
    assert f["counterparty"] == "甲公司" and f["structure"] == "phoenix"
    digital = dict(_vanilla(), template="digital", terms={**_vanilla()["terms"], "payout": 0.05})
    assert confirmation_fields(read_trade(digital))["coupon"] == 0.05
    no_ki = dict(raw, terms={**phoenix, "ki_barrier": None})
    assert "ki_barrier" not in confirmation_fields(read_trade(no_ki))
    assert set(TERM_FIELDS) == {"vanilla", "digital", "barrier", "sharkfin", "asian", "snowball", "phoenix"}


def test_trade_json_is_the_record_form(trade):
    assert read_trade(trade.to_dict()).to_dict() == trade.to_dict()
    view = {"trade": trade.to_dict(), "events": []}  # what `otclab trades show ID --json` prints
    assert read_trade(view).to_dict() == trade.to_dict()


def test_invalid_bookings_name_the_field(trade):
    raw = trade.to_dict()
    with pytest.raises(OtcError) as e:
        read_trade(dict(raw, template="butterfly"))
    assert e.value.field == "trade.template" and "snowball" in e.value.message
    with pytest.raises(TermsError) as e:
        read_trade(dict(raw, terms={**raw["terms"], "ki_barrier": 1.2}))
    assert e.value.field == "trade.terms.ki_barrier"
    with pytest.raises(TermsError) as e:  # the confirmation's name is not a term name
        read_trade(dict(raw, terms={**raw["terms"], "barrier": 0.8}))
    assert e.value.field == "trade.terms.barrier"
    with pytest.raises(OtcError) as e:
        read_trade(dict(raw, template_version="0" * 12))
    assert e.value.field == "trade.template_version" and "pinned" in e.value.message
    double = {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5800.0, "start_date": "2025-03-03",
              "tenor_months": 6, "barrier_low": 0.9, "barrier_high": 1.1}
    t = read_trade(dict(raw, template="double_sharkfin", terms=double, template_version=None,
                              trade_date="2025-03-03"))
    with pytest.raises(TermsError) as e:
        confirmation_fields(t)
    assert e.value.field == "trade.template" and "no confirmation form" in e.value.message
    usd = read_trade(dict(raw, terms={**raw["terms"], "currency": "USD"}))
    with pytest.raises(TermsError) as e:
        reconcile({}, usd)
    assert e.value.field == "trade.terms.currency"
