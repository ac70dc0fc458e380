"""The states of a quote, the transitions allowed between them, and the one function that
records a transition.

    received → parsed → priced → pending_approval → approved → sent → booked
                  ↘ failed   ↘ failed        ↘ rejected | expired | superseded | cancelled
                                    failed → superseded (edited and repriced)
                                               approved → failed (the reply could not be delivered)
                                               sent → expired (validity over, not accepted)

A quote's state is its newest ``quote_events`` row; ``quotes.state`` repeats it for the blotter
and is changed only here, in the same transaction as the event. Each event has a sequence number
unique per quote, so two traders acting on one quote at once cannot both move it: the second
transaction fails on the unique key and is reported as "changed meanwhile". Every event is also
written to the evidence log (``evidence.catch_up``, after the commit).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...store import tables as T
from .errors import QuoteError

STATES = ("received", "parsed", "priced", "pending_approval", "approved", "sent", "booked", "rejected",
          "expired", "superseded", "cancelled", "failed")
ALLOWED: dict = {
    None: {"received"},
    "received": {"parsed", "failed"},
    "parsed": {"priced", "failed"},
    "priced": {"pending_approval", "failed", "expired"},
    # pending_approval → pending_approval: the first of two approvals above the four-eyes notional
    "pending_approval": {"pending_approval", "approved", "rejected", "expired", "superseded", "cancelled"},
    "approved": {"sent", "failed", "booked", "cancelled"},
    "sent": {"booked", "expired", "cancelled"},
    "failed": {"superseded"},       # a trader's edit can rescue it (a repriced revision)
}
TERMINAL = {"booked", "rejected", "expired", "superseded", "cancelled", "failed"}
LIVE = ("priced", "pending_approval", "approved", "sent")


def allowed(from_state: str | None, to_state: str) -> bool:
    return to_state in ALLOWED.get(from_state, set())


def current(conn, quote_id: str) -> str | None:
    """The quote's state from its newest event (None: no event yet)."""
    e = T.quote_events
    row = conn.execute(select(e.c.to_state).where(e.c.quote_id == quote_id).order_by(e.c.seq.desc()).limit(1)).first()
    return row[0] if row else None


def transition(conn, quote_id: str, to_state: str, by: str, at: dt.datetime, details: dict | None = None,
               expect: str | None | object = ...) -> int:
    """Record ``quote_id`` moving to ``to_state`` (by ``by``, at ``at``): a ``quote_events`` row
    and ``quotes.state``, in the caller's transaction. ``expect``: the state the caller read
    (default: the current one). Returns the event id. QuoteError for a transition not allowed."""
    if to_state not in STATES:
        raise QuoteError(f"unknown state {to_state!r}; states: {', '.join(STATES)}", "state")
    e = T.quote_events
    last = conn.execute(select(e.c.seq, e.c.to_state).where(e.c.quote_id == quote_id)
                        .order_by(e.c.seq.desc()).limit(1)).first()
    seq, state = (last[0], last[1]) if last else (0, None)
    if expect is not ... and expect != state:
        raise QuoteError(f"quote {quote_id} changed meanwhile: it is {state}, not {expect}; look again", "quote_id")
    if not allowed(state, to_state):
        raise QuoteError(_refusal(quote_id, state, to_state), "state")
    try:
        with conn.begin_nested():
            eid = conn.execute(insert(e).values(quote_id=quote_id, seq=seq + 1, from_state=state, to_state=to_state,
                                                by=by, at=at, details=details)).inserted_primary_key[0]
    except IntegrityError:
        raise QuoteError(f"quote {quote_id} changed meanwhile (another action was recorded first); look again",
                         "quote_id") from None
    conn.execute(update(T.quotes).where(T.quotes.c.quote_id == quote_id).values(state=to_state))
    return int(eid)


def _refusal(quote_id: str, state: str | None, to_state: str) -> str:
    verbs = {"approved": "approved", "rejected": "rejected", "booked": "accepted (booked)",
             "superseded": "edited", "cancelled": "cancelled", "expired": "expired"}
    if state in TERMINAL:
        return f"quote {quote_id} is {state}; it cannot be {verbs.get(to_state, 'moved to ' + to_state)} any more"
    ok = sorted(ALLOWED.get(state, ()))
    return (f"quote {quote_id} is {state}; it cannot be {verbs.get(to_state, 'moved to ' + to_state)} from there "
            f"(from {state}: {', '.join(ok) or 'nothing'})")


def history(conn, quote_id: str) -> list[dict]:
    e = T.quote_events
    rows = conn.execute(select(e).where(e.c.quote_id == quote_id).order_by(e.c.seq)).all()
    return [{"event_id": r.id, "seq": r.seq, "from_state": r.from_state, "to_state": r.to_state, "by": r.by,
             "at": r.at.isoformat(), "details": r.details} for r in rows]


def counts(conn) -> dict:
    q = T.quotes
    return dict(conn.execute(select(q.c.state, func.count()).group_by(q.c.state)).all())
