"""Claiming the next due row of a persisted work queue (the quote replies, the confirmation mails).

A queue table has ``id``, ``status`` (``pending`` → ``sending`` → done or failed), ``next_attempt_at``,
``claim_token`` and ``claimed_at``. A worker claims the oldest due row: pending and due, or
``sending`` under a lease that ran out (its worker died mid-send); the claim's token then guards
the worker's final update, so a worker whose row was taken over records nothing. On PostgreSQL
concurrent workers skip each other's locked rows; SQLite serialises writers anyway.
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import and_, or_, select, update


def claim_next(conn, table, lease_s: float, at: dt.datetime, lock_rows: bool,
               claimed_at: dt.datetime | None = None):
    """Inside the caller's transaction, claim the next due row of ``table`` at time ``at``
    (UTC): returns ``(row before the claim, row after it, token)``, or None when nothing is due."""
    c = table.c
    due = or_(and_(c.status == "pending", c.next_attempt_at <= at),
              and_(c.status == "sending", c.claimed_at < at - dt.timedelta(seconds=lease_s)))
    q = select(c.id).where(due).order_by(c.next_attempt_at, c.id).limit(1)
    if lock_rows:
        q = q.with_for_update(skip_locked=True)
    rid = conn.execute(q).scalar()
    if rid is None:
        return None
    token = uuid.uuid4().hex
    before = conn.execute(select(table).where(c.id == rid)).one()
    conn.execute(update(table).where(c.id == rid).values(status="sending", claim_token=token,
                                                         claimed_at=claimed_at or at))
    return before, conn.execute(select(table).where(c.id == rid)).one(), token
