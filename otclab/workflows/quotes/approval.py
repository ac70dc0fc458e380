"""Approve or reject a quote pending approval; four-eyes above a notional.

At or below ``four_eyes_notional`` one trader's approval sends the quote. Above it the quote needs
a maker and a checker who differ: the maker is the trader who edited the quote, or, for a quote as
the bot priced it, the first trader to approve it (recorded as an event, the quote stays pending);
the checker is a second trader, different from the maker. An approval moves the quote to
``approved`` and queues its reply (the outbound row) in the same transaction. A quote past its
validity cannot be approved (the expiry job marks it expired; a new quote must be asked for).
"""
from __future__ import annotations

from sqlalchemy import select

from ...store import tables as T
from ...store.db import now
from . import reply, states
from .errors import QuoteError
from .outbound_worker import enqueue


def load(conn, quote_id: str):
    row = conn.execute(select(T.quotes).where(T.quotes.c.quote_id == quote_id)).first()
    if row is None:
        raise QuoteError(f"no quote {quote_id!r}; `otclab quotes list` shows the quotes", "quote_id")
    return row


def first_approvers(conn, quote_id: str) -> list[str]:
    """Who gave the first of two approvals (events pending_approval → pending_approval)."""
    e = T.quote_events
    rows = conn.execute(select(e.c.by, e.c.details).where(e.c.quote_id == quote_id, e.c.from_state == "pending_approval",
                                                          e.c.to_state == "pending_approval")).all()
    return [r.by for r in rows if (r.details or {}).get("approval")]


def needs_four_eyes(row, cfg) -> bool:
    return float(row.notional or 0) > cfg.four_eyes_notional


def _user(user: str) -> str:
    if not isinstance(user, str) or not user.strip():
        raise QuoteError("say who you are (--user): approvals are audited", "user")
    return user.strip()[:64]


def _check_open(row, state: str | None, action: str) -> None:
    if state == "pending_approval" and row.valid_until < now():
        raise QuoteError(f"quote {row.quote_id} expired at {row.valid_until.isoformat(timespec='seconds')}; an "
                         f"expired quote cannot be {action}: ask the client to request a new one", "quote_id")
    if state == "expired":
        raise QuoteError(f"quote {row.quote_id} is expired; an expired quote cannot be {action}", "quote_id")


def approve(store, quote_id: str, user: str, cfg) -> dict:
    """Approve ``quote_id`` as ``user``; returns {state, needs_second_approval, reply}."""
    user = _user(user)
    with store.begin() as conn:
        row = load(conn, quote_id)
        state = states.current(conn, quote_id)
        _check_open(row, state, "approved")
        if state != "pending_approval":
            raise QuoteError(states._refusal(quote_id, state, "approved"), "state")
        t = now()
        if needs_four_eyes(row, cfg):
            firsts = first_approvers(conn, quote_id)
            maker = row.maker or (firsts[0] if firsts else None)
            if maker is None:
                states.transition(conn, quote_id, "pending_approval", user, t,
                                  {"approval": 1, "maker": user, "four_eyes_notional": cfg.four_eyes_notional},
                                  expect=state)
                return {"quote_id": quote_id, "state": "pending_approval", "needs_second_approval": True,
                        "maker": user, "reply": None}
            if user == maker or user in firsts:
                raise QuoteError(f"quote {quote_id} is above the four-eyes notional "
                                 f"({cfg.four_eyes_notional:,.0f} CNY): a second approver different from {maker} "
                                 f"is needed", "user")
            checkers = [user]
        else:
            maker, checkers = row.maker, [user]
        q = dict(row._mapping)
        text = reply.quote_reply(q, cfg)
        msg = conn.execute(select(T.rfq_messages).where(T.rfq_messages.c.id == row.message_id)).one()
        states.transition(conn, quote_id, "approved", user, t, {"maker": maker, "checkers": checkers, "reply": text},
                          expect=state)
        enqueue(conn, f"reply:{quote_id}", "reply", text, [msg.sender] if msg.sender else [], quote_id=quote_id,
                message_id=msg.id, response_url=msg.response_url, webhook_url=msg.webhook_url, chat_id=msg.chat_id,
                at=t)
    return {"quote_id": quote_id, "state": "approved", "needs_second_approval": False, "maker": maker,
            "checkers": checkers, "reply": text}


def reject(store, quote_id: str, user: str, reason: str) -> dict:
    """Reject ``quote_id`` (the client gets no price from it); ``reason`` is required."""
    user = _user(user)
    if not isinstance(reason, str) or not reason.strip():
        raise QuoteError("say why (--reason): rejections are audited", "reason")
    with store.begin() as conn:
        load(conn, quote_id)
        state = states.current(conn, quote_id)
        states.transition(conn, quote_id, "rejected", user, now(), {"reason": reason.strip()}, expect=state)
    return {"quote_id": quote_id, "state": "rejected", "reason": reason.strip()}


def cancel(store, quote_id: str, user: str, reason: str) -> dict:
    """Withdraw a quote the desk no longer stands by (pending, approved or sent, not yet booked)."""
    user = _user(user)
    if not isinstance(reason, str) or not reason.strip():
        raise QuoteError("say why (--reason): cancellations are audited", "reason")
    with store.begin() as conn:
        load(conn, quote_id)
        state = states.current(conn, quote_id)
        states.transition(conn, quote_id, "cancelled", user, now(), {"reason": reason.strip()}, expect=state)
    return {"quote_id": quote_id, "state": "cancelled", "reason": reason.strip()}
