"""The trade a confirmation is about, and what the confirmation states of it.

A confirmation is printed from, and reconciled with, the one trade record
(``otclab.store.record.TradeRecord``). ``read_trade`` validates a trade given as JSON in the
record's own form (``TradeRecord.to_dict()``, which ``otclab trades show ID --json`` prints
under ``"trade"``) against the current template notebooks.

``confirmation_fields`` is the one place where template term names meet the confirmation's own
fields (the names the extractor reports): a phoenix's ``coupon_barrier`` is the confirmation's
``barrier`` (派息障碍价格), a digital's ``payout`` its ``coupon`` (二元收益率); the client is
printed by its legal name. Everything else about a confirmation (labels, layout, reading,
reconciling) works in the confirmation's fields.
"""
from __future__ import annotations

from typing import Any

from ..core.errors import TermsError
from ..store.record import TradeRecord, read_record

# The fields a confirmation states beyond the trade facts and the common terms, per template
# it has a form for: confirmation field -> template term, in the order the form prints them.
TERM_FIELDS: dict[str, dict[str, str]] = {
    "vanilla": {"option_type": "option_type", "strike": "strike"},
    "digital": {"option_type": "option_type", "strike": "strike", "coupon": "payout"},
    "barrier": {"option_type": "option_type", "strike": "strike", "barrier": "barrier", "rebate": "rebate"},
    "sharkfin": {"option_type": "option_type", "strike": "strike", "barrier": "barrier", "rebate": "rebate",
                 "participation": "participation"},
    "asian": {"option_type": "option_type", "strike": "strike"},
    "snowball": {"ko_barrier": "ko_barrier", "ki_barrier": "ki_barrier", "coupon": "coupon"},
    "phoenix": {"ko_barrier": "ko_barrier", "ki_barrier": "ki_barrier", "barrier": "coupon_barrier",
                "coupon": "coupon"},
}
TEMPLATES = tuple(TERM_FIELDS)


def read_trade(raw: Any, prefix: str = "trade") -> TradeRecord:
    """A ``TradeRecord`` from its JSON form (or a ``trades show --json`` view holding one under
    ``"trade"``); an ``OtcError`` naming the field when it is not a valid trade."""
    return read_record(raw, prefix)


def check_confirmable(trade: TradeRecord) -> None:
    """Raise ``TermsError`` naming the field when ``trade`` cannot be printed as a confirmation."""
    if not isinstance(trade, TradeRecord):
        raise TypeError(f"expected a TradeRecord, got {type(trade).__name__} (read JSON with read_trade)")
    if trade.template not in TERM_FIELDS:
        raise TermsError(f"no confirmation form for template {trade.template!r}; forms exist for "
                         f"{', '.join(TEMPLATES)}", "trade.template")
    if trade.currency != "CNY":
        raise TermsError(f"confirmations are issued in CNY only; got {trade.currency}", "trade.terms.currency")


def confirmation_fields(trade: TradeRecord) -> dict:
    """The fields a confirmation of ``trade`` states, keyed as the extractor reports them."""
    check_confirmable(trade)
    t = trade.terms
    out = {"trade_id": trade.trade_id, "counterparty": trade.counterparty.name,
           "trade_date": trade.trade_date.isoformat(), "structure": trade.template,
           "start_date": trade.start_date.isoformat(), "maturity_date": trade.maturity_date.isoformat(),
           "underlying": trade.underlying, "notional": trade.notional, "initial_price": float(t["initial_price"])}
    for field, term in TERM_FIELDS[trade.template].items():
        v = t.get(term)
        if v is not None:
            out[field] = v if field == "option_type" else float(v)
    return out

