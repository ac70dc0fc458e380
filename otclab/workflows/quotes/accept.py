"""A quote the client accepts becomes a booked trade.

``accept`` books the quote's terms with ``otclab.workflows.trades.book`` — the template version the
quote was priced with (pinned), the counterparty the sender maps to, direction ``sell`` (the
desk's view: the desk issues the product the client asked for), trade date the quote's start
date, premium the note's notional (a note is bought at par) or the option's quoted value — then
moves the quote to ``booked``. Trade id ``Q-<quote id>``: booking twice is impossible, and a crash
between the booking and the quote's event is finished by the next ``accept``, which finds the
trade already booked from this quote.
"""
from __future__ import annotations

from sqlalchemy import select

from ...core.dates import Date
from ...store import tables as T
from ...store.book import business_date
from .. import trades as trade_store
from ...store.db import now
from ...store.record import BookingError
from . import states
from .approval import _user, load
from .errors import QuoteError

ACCEPTABLE = ("approved", "sent")


def trade_id_of(quote_id: str) -> str:
    return f"Q-{quote_id}"


def trade_for(row) -> dict:
    """The quote as a trade in the record's JSON form."""
    terms = dict(row.terms or {})
    pricing = row.pricing or {}
    note = terms.get("form") == "note"
    premium = float(row.notional) if note else max(float(pricing.get("value") or 0.0), 0.0)
    return {"trade_id": trade_id_of(row.quote_id), "template": row.template, "template_version": row.template_version,
            "terms": terms, "direction": "sell",
            "counterparty": {"id": row.counterparty_id, "name": row.counterparty_name,
                             **({"uscc": row.counterparty_uscc} if row.counterparty_uscc else {})},
            "trade_date": terms.get("start_date"), "premium": round(premium, 2)}


def accept(store, quote_id: str, user: str) -> str:
    """Book ``quote_id`` as accepted by the client (recorded by ``user``); returns the trade id."""
    user = _user(user)
    with store.connect() as conn:
        row = load(conn, quote_id)
        state = states.current(conn, quote_id)
    if state not in ACCEPTABLE:
        raise QuoteError(states._refusal(quote_id, state, "booked"), "state")
    if row.valid_until < now():
        raise QuoteError(f"quote {quote_id} expired at {row.valid_until.isoformat(timespec='seconds')}; the client "
                         f"must ask for a new quote", "quote_id")
    tid = trade_id_of(quote_id)
    trade = trade_for(row)
    with store.connect() as conn:
        # the book's date: its last lifecycle run, else the trade date (the quote's market date), not
        # the calendar's today, which a demo or a replayed market may lie behind
        as_of = business_date(conn) or Date.fromisoformat(trade["trade_date"])
    try:
        trade_store.book(store, [trade], recorded_by=user, as_of=as_of)
    except BookingError:
        with store.connect() as conn:
            booked = conn.execute(select(T.trades.c.trade_id).where(T.trades.c.trade_id == tid)).first()
        if booked is None:
            raise
        # booked by an accept that died before its event: finish it
    with store.begin() as conn:
        states.transition(conn, quote_id, "booked", user, now(),
                          {"trade_id": tid, "template_version": row.template_version}, expect=state)
    return tid
