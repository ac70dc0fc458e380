"""Quotes past their validity become ``expired``.

``expire_due`` moves every priced, pending or sent quote whose ``valid_until`` has passed; an
approved quote whose reply is still on its way is left to the outbound queue (it becomes ``sent``
or ``failed`` first, and a sent quote expires in its turn). A quote some trader moved meanwhile
is left as that trader left it.
"""
from __future__ import annotations

from sqlalchemy import select

from ...store import tables as T
from ...store.db import now
from . import states
from .errors import QuoteError

EXPIRING = ("priced", "pending_approval", "sent")


def expire_due(store, at=None) -> list[str]:
    """Expire what is due at ``at`` (default now); the quote ids expired."""
    at = at or now()
    q = T.quotes
    with store.connect() as conn:
        due = conn.execute(select(q.c.quote_id, q.c.state, q.c.valid_until)
                           .where(q.c.state.in_(EXPIRING), q.c.valid_until < at).order_by(q.c.valid_until)).all()
    out = []
    for r in due:
        try:
            with store.begin() as conn:
                states.transition(conn, r.quote_id, "expired", "expiry", now(),
                                  {"valid_until": r.valid_until.isoformat()}, expect=r.state)
            out.append(r.quote_id)
        except QuoteError:
            continue        # approved, edited or rejected meanwhile
    return out
