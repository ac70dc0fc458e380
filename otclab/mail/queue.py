"""The persisted mail queue: every e-mail is a ``mail_queue`` row before anyone tries to send it.

``enqueue`` adds a row in the caller's transaction (the confirmation or the break and its mail
commit together); its ``key`` is unique, so nothing is queued twice. ``deliver_due`` sends the
rows that are due:

- a row is claimed (status ``sending``, a token, a time) before it is sent; a claim older than
  the lease (a sender that died) is taken over;
- sent -> ``sent`` with the time; a passing failure (the server down or unreachable, a 4xx) ->
  ``pending`` again, tried after ``backoff(attempts)`` (doubling from ``backoff_s`` up to
  ``max_backoff_s``), for as long as it takes: a mail is never dropped; a final failure (a 5xx
  refusal, a login refused) -> ``failed``, listed by ``otclab confirm mail --status failed``,
  and sent again by ``retry_failed`` once the cause is fixed.

A crash between the server taking the mail and the commit that records it leaves the row claimed;
after the lease it is sent again with the same Message-ID (at least once: a receiver may see it
twice, never not at all).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from pathlib import Path

from sqlalchemy import and_, insert, select, update

from ..store import tables_confirm as TC
from ..store.queue import claim_next
from ..store.db import now
from .config import MailConfig
from .smtp import MailError, build_message, send

log = logging.getLogger("otclab.mail")
STATUSES = ("pending", "sending", "sent", "failed")


def backoff(attempts: int, base_s: float, max_s: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base, 2 base, 4 base, ... capped."""
    return float(min(max_s, base_s * 2 ** max(attempts - 1, 0)))


def enqueue(conn, key: str, to_addr: str, subject: str, body: str, attachments: list[dict] | None = None, *,
            trade_id: str | None = None, document_id: int | None = None, at: dt.datetime | None = None,
            domain: str = "otclab.local") -> int | None:
    """Queue a mail in the caller's transaction; None when ``key`` is queued already.
    ``attachments``: [{name, path (relative to the documents folder), sha256}]."""
    q = TC.mail_queue
    if conn.execute(select(q.c.id).where(q.c.key == key)).first() is not None:
        return None
    at = at or now()
    mid = f"<{uuid.uuid4().hex}@{domain}>"
    return int(conn.execute(insert(q).values(
        key=key, message_id=mid, to_addr=to_addr, subject=subject, body=body, attachments=list(attachments or []),
        trade_id=trade_id, document_id=document_id, status="pending", attempts=0, next_attempt_at=at,
        created_at=at)).inserted_primary_key[0])


def _claim(store, lease_s: float, at: dt.datetime):
    with store.begin() as conn:
        got = claim_next(conn, TC.mail_queue, lease_s, at, not store.is_sqlite, claimed_at=now())
    if got is None:
        return None
    _, row, token = got
    return dict(row._mapping), token


def _finish(store, row: dict, token: str, values: dict) -> bool:
    q = TC.mail_queue
    with store.begin() as conn:
        res = conn.execute(update(q).where(q.c.id == row["id"], q.c.claim_token == token, q.c.status == "sending")
                           .values(claim_token=None, **values))
        return res.rowcount == 1     # False: taken over after the lease; the other sender records it


def deliver_one(store, cfg: MailConfig, root: Path, at: dt.datetime | None = None) -> str | None:
    """Claim and send one due row (due at ``at``, default now); its new status, or None when
    nothing was due."""
    at = at or now()
    got = _claim(store, cfg.lease_s, at)
    if got is None:
        return None
    row, token = got
    attempts = row["attempts"] + 1
    t0 = time.perf_counter()
    try:
        msg = build_message(row, cfg.smtp.sender or "otclab@localhost", root)
        send(cfg.smtp, msg)
    except (MailError, OSError) as e:
        retryable = e.retryable if isinstance(e, MailError) else False   # OSError: an attachment unreadable
        error = str(e) if isinstance(e, MailError) else f"attachment unreadable: {e}"
        if retryable:
            delay = backoff(attempts, cfg.backoff_s, cfg.max_backoff_s)
            _finish(store, row, token, {"status": "pending", "attempts": attempts, "last_error": error,
                                        "next_attempt_at": at + dt.timedelta(seconds=delay)})
            log.warning("mail %s (%s) to %s: %s; retry in %.0f s", row["id"], row["key"], row["to_addr"], error, delay)
            return "retry"
        _finish(store, row, token, {"status": "failed", "attempts": attempts, "last_error": error})
        log.error("mail %s (%s) to %s failed: %s", row["id"], row["key"], row["to_addr"], error)
        return "failed"
    _finish(store, row, token, {"status": "sent", "attempts": attempts, "sent_at": now(), "last_error": None,
                                "seconds": round(time.perf_counter() - t0, 3)})
    return "sent"


def deliver_due(store, cfg: MailConfig, root: Path, at: dt.datetime | None = None, max_rows: int = 200) -> dict:
    """Send due rows until none is left (or ``max_rows``); counts by outcome. A row retried in
    this call is due only later, so each row is tried at most once per call."""
    out: dict = {}
    for _ in range(max_rows):
        st = deliver_one(store, cfg, root, at)
        if st is None:
            break
        out[st] = out.get(st, 0) + 1
    return out


def retry_failed(store, key_or_id: str | int | None = None) -> int:
    """Put failed rows (all, or one by id or key) back in the queue, due now; how many."""
    q = TC.mail_queue
    cond = q.c.status == "failed"
    if key_or_id is not None:
        cond = and_(cond, q.c.id == int(key_or_id)) if str(key_or_id).isdigit() else and_(cond, q.c.key == key_or_id)
    with store.begin() as conn:
        return conn.execute(update(q).where(cond).values(status="pending", next_attempt_at=now())).rowcount


def queue_rows(store, status: str | None = None) -> list[dict]:
    q = TC.mail_queue
    with store.connect() as conn:
        sel = select(q).order_by(q.c.id)
        if status:
            sel = sel.where(q.c.status == status)
        return [dict(r._mapping) for r in conn.execute(sel)]
