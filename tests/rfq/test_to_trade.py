"""From a parsed chat request to a template and its validated terms, and to a trade to book."""
from __future__ import annotations

import pytest

from otclab.core.errors import TermsError
from otclab.rfq import QuoteRequest, parse, request_terms, trade_json
from otclab.store.record import parse_record
from otclab.templates.loader import get_template

from .conftest import load

MARKET = {"start_date": "2026-11-20", "initial_price": 6000.0}
# what no chat message states and the desk supplies when quoting
DESK = {"notional": 10_000_000.0, "coupon": 0.1, "payout": 0.05, "participation": 1.0, "strike": 1.0,
        "barrier_type": "up_out"}


def test_snowball_from_a_chat_message():
    [req] = parse("@询价机器人 中证500 雪球 敲出103 敲入80 12个月 锁3个月 票息多少", use_model=False)
    tpl, terms = request_terms(req, **MARKET, defaults={"coupon": 0.12, "notional": 5e6})
    assert tpl.name == "snowball" and tpl.version == get_template("snowball").version
    assert (terms.ko_barrier, terms.ki_barrier, terms.tenor_months, terms.lockup_months) == (1.03, 0.8, 12, 3)
    assert (terms.coupon, terms.notional, terms.underlying, terms.initial_price) == (0.12, 5e6, "000905.SH", 6000.0)
    # the coupon is what the client asks for: without a trial value it is named, with the reason
    with pytest.raises(TermsError, match="what the request asks for") as e:
        request_terms(req, **MARKET, defaults={"notional": 5e6})
    assert e.value.field == "request.coupon"


def test_chat_names_that_differ_from_the_terms():
    phoenix = QuoteRequest(underlying="000905.SH", structure="phoenix", tenor_months=12, ko_barrier=1.0,
                           ki_barrier=0.7, coupon_barrier=0.75, coupon=0.08, notional=1e7, solve_for="price")
    _, terms = request_terms(phoenix, **MARKET)
    assert (terms.coupon_barrier, terms.ki_barrier, terms.coupon) == (0.75, 0.7, 0.08)
    digital = QuoteRequest(underlying="000852.SH", structure="digital", option_type="call", strike=1.05,
                           tenor_months=3, coupon=0.06, notional=1e7)
    _, terms = request_terms(digital, **MARKET)
    assert terms.payout == 0.06 and "coupon" not in terms
    digital.coupon = 20.0  # out of the payout's range: named by the chat's name
    with pytest.raises(TermsError) as e:
        request_terms(digital, **MARKET)
    assert e.value.field == "request.coupon"


@pytest.mark.parametrize("req,defaults,field,message", [
    (QuoteRequest(underlying="000905.SH", tenor_months=12, ko_barrier=1.03), {}, "request.structure", "no product"),
    (QuoteRequest(underlying="000905.SH", structure="rainbow", tenor_months=12), {}, "request.structure", "unknown"),
    (QuoteRequest(underlying="000905.SH", structure="snowball", tenor_months=12, ko_barrier=1.03, coupon=0.1,
                  notional=1e7), {}, "request.ki_barrier", "knock-in level"),
    (QuoteRequest(underlying="000905.SH", structure="phoenix", tenor_months=12, ko_barrier=1.0, ki_barrier=0.7,
                  barrier=0.75, coupon=0.1, notional=1e7), {}, "request.barrier", "unknown field for phoenix"),
    (QuoteRequest(underlying="000905.SH", structure="barrier", option_type="call", strike=1.0, barrier=1.15,
                  tenor_months=3, notional=1e7), {}, "defaults.barrier_type", "required"),
    (QuoteRequest(underlying="000905.SH", structure="barrier", option_type="call", strike=1.0, barrier=1.15,
                  tenor_months=3, notional=1e7), {"barrier_type": "up_and_out"}, "defaults.barrier_type", "one of"),
    (QuoteRequest(underlying="000905.SH", structure="vanilla", option_type="call", strike=1.0, tenor_months=1.5,
                  notional=1e7), {}, "request.tenor_months", "whole number"),
    (QuoteRequest(underlying="000905.SH", structure="vanilla", option_type="call", strike=1.0, notional=1e7), {},
     "request.tenor_months", "tenor_months or maturity_date"),
    (QuoteRequest(underlying="000905.SH", structure="snowball", tenor_months=12, ko_barrier=0.7, ki_barrier=0.8,
                  coupon=0.1, notional=1e7), {}, "request.ki_barrier", "below ko_barrier"),
])
def test_errors_name_the_chat_field_or_the_default(req, defaults, field, message):
    with pytest.raises(TermsError, match=message) as e:
        request_terms(req, **MARKET, defaults=defaults)
    assert e.value.field == field


def test_no_knock_in_only_when_the_desk_says_so():
    req = QuoteRequest(underlying="000905.SH", structure="snowball", tenor_months=12, ko_barrier=1.03, coupon=0.1,
                       notional=1e7)
    _, terms = request_terms(req, **MARKET, defaults={"ki_barrier": None})
    assert terms.ki_barrier is None
    _, terms = request_terms(QuoteRequest(**{**req.to_dict(), "ki_barrier": 0.75}), **MARKET,
                             defaults={"ki_barrier": None})
    assert terms.ki_barrier == 0.75  # the chat's value wins over a default


def test_trade_json_books_as_the_trade_record():
    req = QuoteRequest(underlying="000300.SH", structure="sharkfin", option_type="call", barrier=1.1,
                       participation=0.8, rebate=0.01, tenor_months=6, notional=2e7)
    raw = trade_json(req, trade_id="RFQ-1", counterparty={"id": "CP1", "name": "示例私募"}, **MARKET,
                     premium=120_000.0)
    rec = parse_record(raw, lambda name, version: get_template(name))
    assert (rec.template, rec.template_version, rec.direction) == ("sharkfin", get_template("sharkfin").version, "sell")
    assert (rec.terms["barrier"], rec.terms["participation"], rec.notional, rec.premium) == (1.1, 0.8, 2e7, 120_000.0)


@pytest.mark.parametrize("name", ["rfq_examples.jsonl", "handwritten.jsonl", "heldout.jsonl", "blind2.jsonl"])
def test_every_labelled_request_maps_or_names_its_field(name):
    """Each hand-labelled request of the test sets, with what the desk adds when quoting, is
    either valid terms of its template or refused with the field named."""
    n_ok = n_refused = 0
    for ex in load(name):
        for d in ex["requests"]:
            if d.get("structure") is None:
                continue
            req = QuoteRequest(**d)
            tpl = get_template(d["structure"])
            defaults = {k: v for k, v in DESK.items() if k in tpl.schema.fields}
            if tpl.name in ("snowball", "phoenix"):
                defaults["ki_barrier"] = None
            if tpl.name == "barrier":
                up = (d.get("barrier") or 1.2) > 1
                defaults["barrier_type"] = "up_out" if up else "down_out"
            try:
                _, terms = request_terms(req, **MARKET, defaults=defaults)
            except TermsError as e:
                assert e.field and e.field.split(".")[0] in ("request", "defaults"), (ex["text"], e)
                n_refused += 1
                continue
            for f, v in d.items():
                if f in ("structure", "solve_for"):
                    continue
                term = "payout" if (tpl.name, f) == ("digital", "coupon") else f
                assert terms[term] == v, (ex["text"], f)
            n_ok += 1
    assert n_ok > 0 and n_refused <= n_ok // 10, (n_ok, n_refused)
