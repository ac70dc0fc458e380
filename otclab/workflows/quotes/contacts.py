"""WeCom userid → counterparty: who may be quoted.

Append-only: ``add`` records a new row and the newest row of a userid is the one that counts, so
a contact blocked today still shows who approved it before. Only ``approved`` contacts get
prices; ``pending`` (onboarding not finished) and ``blocked`` ones, and unknown senders, get a
polite refusal.
"""
from __future__ import annotations

import re

from sqlalchemy import func, insert, select

from ...store import tables as T
from ...store.db import now
from .errors import QuoteError

STATUSES = ("approved", "pending", "blocked")
_USERID = re.compile(r"^[A-Za-z0-9@._\-]{1,128}$")


def add(store, userid: str, counterparty_id: str, counterparty_name: str, uscc: str | None = None,
        status: str = "approved", by: str | None = None) -> dict:
    """Map ``userid`` to the counterparty (a new row); QuoteError naming a field that is wrong."""
    if not isinstance(userid, str) or not _USERID.match(userid):
        raise QuoteError("must be a WeCom userid: 1 to 128 letters, digits, @ . _ -", "userid")
    if not counterparty_id or len(counterparty_id) > 64:
        raise QuoteError("must be given, at most 64 characters", "counterparty_id")
    if not counterparty_name or not counterparty_name.strip():
        raise QuoteError("must be given (the counterparty's legal name)", "counterparty_name")
    if status not in STATUSES:
        raise QuoteError(f"must be one of {', '.join(STATUSES)}; got {status!r}", "status")
    if uscc:
        from stdnum.cn import uscc as U

        if not U.is_valid(uscc):
            raise QuoteError(f"{uscc!r} is not a valid unified social credit code (18 characters, check digit)",
                             "uscc")
    row = {"userid": userid, "counterparty_id": counterparty_id, "counterparty_name": counterparty_name.strip(),
           "counterparty_uscc": uscc or None, "status": status, "recorded_by": by, "recorded_at": now()}
    with store.begin() as conn:
        conn.execute(insert(T.counterparty_contacts).values(**row))
    return {**row, "recorded_at": row["recorded_at"].isoformat()}


def lookup(conn, userid: str | None) -> dict | None:
    """The newest contact row of ``userid`` (None if unknown)."""
    if not userid:
        return None
    c = T.counterparty_contacts
    r = conn.execute(select(c).where(c.c.userid == userid).order_by(c.c.id.desc()).limit(1)).first()
    return None if r is None else {"userid": r.userid, "counterparty_id": r.counterparty_id,
                                   "counterparty_name": r.counterparty_name, "uscc": r.counterparty_uscc,
                                   "status": r.status}


def list_contacts(store) -> list[dict]:
    """The current contact of every userid, by userid."""
    c = T.counterparty_contacts
    with store.connect() as conn:
        newest = select(func.max(c.c.id)).group_by(c.c.userid).scalar_subquery()
        rows = conn.execute(select(c).where(c.c.id.in_(newest)).order_by(c.c.userid)).all()
    return [{"userid": r.userid, "counterparty_id": r.counterparty_id, "counterparty_name": r.counterparty_name,
             "uscc": r.counterparty_uscc, "status": r.status, "recorded_by": r.recorded_by,
             "recorded_at": r.recorded_at.isoformat()} for r in rows]
