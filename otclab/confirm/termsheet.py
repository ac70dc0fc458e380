"""Booked trades as the confirmation workflow sees them: term sheet + trade facts.

A booked trade is a term sheet of one of the built-in templates (vanilla, digital, barrier,
sharkfin, asian, snowball, phoenix; levels as fractions of ``initial_price``, rates as annual
fractions, ``notional`` in CNY) plus the facts a confirmation adds: ``trade_id``,
``counterparty`` and ``trade_date``. ``confirmation_fields`` turns it into the field set the
extractor reads back, so generation, extraction and reconciliation share one vocabulary.
"""
from __future__ import annotations

import datetime as dt

from ..core.calendar import sse_calendar
from ..core.errors import TermsError
from ..core.schedules import maturity_from_tenor

TEMPLATES = ("vanilla", "digital", "barrier", "sharkfin", "asian", "snowball", "phoenix")

# Elements each template prints on its confirmation (beyond the common ones).
TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "vanilla": ("option_type", "strike", "participation"),
    "digital": ("option_type", "strike", "coupon"),
    "barrier": ("option_type", "strike", "barrier", "rebate", "participation"),
    "sharkfin": ("option_type", "strike", "barrier", "rebate", "participation"),
    "asian": ("option_type", "strike", "participation"),
    "snowball": ("ko_barrier", "ki_barrier", "coupon"),
    "phoenix": ("ko_barrier", "ki_barrier", "barrier", "coupon"),
}
COMMON_FIELDS = ("underlying", "notional", "initial_price", "start_date")
TRADE_FACTS = ("trade_id", "counterparty", "trade_date")


def next_trading_day(d: dt.date) -> dt.date:
    """``d`` itself if it is an SSE trading day, else the next one (the core SSE calendar)."""
    return sse_calendar().roll_forward(d)


def maturity_of(term_sheet: dict) -> str:
    """Maturity date (ISO): the sheet's ``maturity_date``, else start + ``tenor_months`` rolled
    to the next SSE trading day (the platform's schedule convention)."""
    if term_sheet.get("maturity_date"):
        return dt.date.fromisoformat(str(term_sheet["maturity_date"])).isoformat()
    if term_sheet.get("tenor_months") is None:
        raise TermsError("give maturity_date or tenor_months", field="maturity_date")
    start = dt.date.fromisoformat(str(term_sheet["start_date"]))
    return maturity_from_tenor(start, int(term_sheet["tenor_months"]), sse_calendar()).isoformat()


def validate(trade: dict) -> None:
    """Raise ``TermsError`` naming the field when a booked trade cannot make a confirmation."""
    tpl = trade.get("template")
    if tpl not in TEMPLATES:
        raise TermsError(f"unknown template {tpl!r}; allowed: {', '.join(TEMPLATES)}", field="template")
    for f in (*TRADE_FACTS, *COMMON_FIELDS, *TEMPLATE_FIELDS[tpl]):
        if trade.get(f) in (None, ""):
            if f == "participation" or f == "rebate":
                continue  # optional: 100% participation and no rebate are the defaults
            raise TermsError(f"required for template {tpl}", field=f)
    if trade.get("currency", "CNY") != "CNY":
        raise TermsError("confirmations are issued in CNY only", field="currency")
    if float(trade["notional"]) <= 0:
        raise TermsError("must be a positive CNY amount", field="notional")
    if float(trade["initial_price"]) <= 0:
        raise TermsError("must be positive", field="initial_price")
    for f in ("trade_date", "start_date"):
        try:
            dt.date.fromisoformat(str(trade[f]))
        except ValueError as exc:
            raise TermsError("must be an ISO date YYYY-MM-DD", field=f) from exc
    if maturity_of(trade) <= str(trade["start_date"]):
        raise TermsError("must be after start_date", field="maturity_date")
    if "option_type" in TEMPLATE_FIELDS[tpl] and trade["option_type"] not in ("call", "put"):
        raise TermsError("must be call or put", field="option_type")
    if tpl in ("snowball", "phoenix") and not float(trade["ki_barrier"]) < float(trade["ko_barrier"]):
        raise TermsError("knock-in level must be below the knock-out level", field="ki_barrier")


def confirmation_fields(trade: dict) -> dict:
    """The fields a confirmation of ``trade`` states, keyed as the extractor reports them."""
    tpl = trade["template"]
    out = {f: trade.get(f) for f in TRADE_FACTS}
    out["structure"] = tpl
    out["start_date"] = str(trade["start_date"])
    out["maturity_date"] = maturity_of(trade)
    out["underlying"] = trade["underlying"]
    out["notional"] = float(trade["notional"])
    out["initial_price"] = float(trade["initial_price"])
    for f in TEMPLATE_FIELDS[tpl]:
        if trade.get(f) is not None:
            out[f] = trade[f] if f == "option_type" else float(trade[f])
    return out
