"""Build the trade-repository report record of one trade, for the reporting dealer and an event.

``build_report(trade, dealer, event=None)``:

- ``trade``: the one trade record (``otclab.store.record.TradeRecord``): UTI, trade id, template
  and pinned version, terms validated by the template's own schema, direction, counterparty
  (name and USCC, the USCC already checked with python-stdnum), trade date, premium.
- ``dealer``: the reporting party ``{"name", "uscc"?, "lei"?}``; at least one identifier, both
  check-digit validated (GB 32100 USCC, ISO 17442 LEI).
- ``event``: ``{"type": new|amend|correct|terminate|knock_out|knock_in|exercise|expire,
  "date"?}``; default: ``new`` on the trade date.

Buyer and seller follow the desk's direction: a trade the desk sold has the client as buyer (the
holder of the product), who pays the premium; a trade the desk bought has the dealer as buyer.
The record is plain JSON data, described by ``trade_report.schema.json``; the record keeps the
template's own term names (terms, barrier type); ``fpml.py`` maps them to FpML.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...store.record import TradeRecord
from ..errors import ReportError
from .fpml import fpml_product, taxonomy, underlying_kind
from .identifiers import validate_lei, validate_uscc

RECORD_VERSION = "2.0"
EVENTS = ("new", "amend", "correct", "terminate", "knock_out", "knock_in", "exercise", "expire")
DEALER_KEYS = ("name", "uscc", "lei")


def _dealer(p: Any) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise ReportError("the reporting dealer is an object {name, uscc?, lei?}", field="dealer")
    unknown = sorted(set(p) - set(DEALER_KEYS))
    if unknown:
        raise ReportError(f"unknown field(s) {unknown}; allowed: {', '.join(DEALER_KEYS)}", field="dealer")
    if not isinstance(p.get("name"), str) or not p["name"].strip():
        raise ReportError("the dealer needs its legal name", field="dealer.name")
    out: dict[str, Any] = {"role": "dealer", "name": p["name"].strip()}
    if p.get("uscc"):
        out["uscc"] = validate_uscc(p["uscc"], field="dealer.uscc")
    if p.get("lei"):
        out["lei"] = validate_lei(p["lei"], field="dealer.lei")
    if "uscc" not in out and "lei" not in out:
        raise ReportError("the dealer needs a USCC (Chinese entity) or an LEI", field="dealer.uscc")
    return out


def _client(trade: TradeRecord) -> dict[str, Any]:
    cp = trade.counterparty
    if not cp.uscc and not cp.lei:
        raise ReportError(f"the report identifies the client by its USCC or LEI; counterparty {cp.id} ({cp.name}) "
                          f"has neither in the trade record", field="trade.counterparty.uscc")
    out = {"role": "client", "name": cp.name}
    if cp.uscc:
        out["uscc"] = cp.uscc
    if cp.lei:
        out["lei"] = cp.lei
    return out


def _date(v: Any, field: str) -> str:
    if isinstance(v, dt.date):
        return v.isoformat()
    try:
        return dt.date.fromisoformat(str(v)).isoformat()
    except ValueError:
        raise ReportError(f"must be a date YYYY-MM-DD, got {v!r}", field=field) from None


def money(v: float) -> float:
    """Commercial rounding to cents (half up), not float round()'s half-even on binary values."""
    return float(Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _event(ev: Any, trade_date: str) -> dict[str, str]:
    ev = {"type": "new"} if ev is None else ev
    if not isinstance(ev, dict):
        raise ReportError("the lifecycle event is an object {type, date?}", field="event")
    unknown = sorted(set(ev) - {"type", "date"})
    if unknown:
        raise ReportError(f"unknown field(s) {unknown}; allowed: type, date", field="event")
    if ev.get("type") not in EVENTS:
        raise ReportError(f"must be one of {', '.join(EVENTS)}; got {ev.get('type')!r}", field="event.type")
    out = {"type": ev["type"], "date": _date(ev.get("date") or trade_date, "event.date")}
    if out["date"] < trade_date:
        raise ReportError(f"event date {out['date']} is before the trade date {trade_date}", field="event.date")
    return out


def build_report(trade: TradeRecord, dealer: dict[str, Any], event: dict[str, Any] | None = None) -> dict[str, Any]:
    """Report record of ``trade`` (see module docstring); ``ReportError`` names any bad field."""
    if not isinstance(trade, TradeRecord):
        raise TypeError(f"expected a TradeRecord, got {type(trade).__name__} (read JSON with parse_record)")
    terms = trade.terms
    parties = [_dealer(dealer), _client(trade)]
    buyer = "client" if trade.direction == "sell" else "dealer"
    seller = "dealer" if buyer == "client" else "client"
    trade_date = trade.trade_date.isoformat()
    s0 = float(terms["initial_price"])

    def level(fraction: float) -> dict[str, float]:
        return {"fraction": float(fraction), "level": round(float(fraction) * s0, 6)}

    # every knock level of the template (barrier, ko_barrier, ki_barrier, barrier_low, ...)
    barriers = [{"name": k, **level(v)} for k, v in terms.items()
                if "barrier" in k and isinstance(v, float)]
    kind = underlying_kind(trade.underlying)
    product = fpml_product(trade.template, terms)
    return {
        "record_version": RECORD_VERSION,
        "uti": trade.uti,
        "trade_id": trade.trade_id,
        "product": {
            "id": f"OTCLAB.{trade.template.upper()}",
            "template": trade.template,
            "template_version": trade.template_version,
            "taxonomy": taxonomy(trade.template, kind),
            "fpml_product": product,
        },
        "lifecycle_event": _event(event, trade_date),
        "reporting_party": "dealer",
        "parties": parties,
        "buyer": buyer,
        "seller": seller,
        "trade_date": trade_date,
        "effective_date": trade.start_date.isoformat(),
        "maturity_date": trade.maturity_date.isoformat(),
        "notional": {"amount": money(trade.notional), "currency": trade.currency},
        "underlying": {"id": trade.underlying, "kind": kind, "initial_price": s0},
        "option_type": terms.get("option_type") if product == "equityOption" else None,
        "strike": level(terms["strike"]) if terms.get("strike") is not None else None,
        "barriers": barriers,
        "barrier_type": terms.get("barrier_type"),
        "coupon": terms.get("coupon"),
        "premium": {
            "amount": money(trade.premium),
            "currency": trade.currency,
            "payment_date": (trade.premium_date or trade.start_date).isoformat(),
            "payer": buyer,
            "receiver": seller,
        },
        "terms": terms.to_json(),
    }
