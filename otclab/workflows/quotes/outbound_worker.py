"""The persisted reply queue: every text for the chat is an ``outbound_messages`` row first.

``enqueue`` adds a row in the caller's transaction (the approval, the clarification or the
refusal and its reply commit together); its ``key`` (``reply:<quote>``, ``clarify:<message>``,
``refusal:<message>``) is unique, so nothing is queued twice. ``deliver_due`` sends the rows that
are due with ``otclab.wecom.outbound.send``:

- a row is claimed (status ``sending``, a token, a time) before it is sent; a claim older than the
  lease (the sender died) is taken over;
- the target is the message's ``response_url`` (usable once: only the first reply to a message
  goes there) or a group-robot webhook (the message's, else the configured ``webhook_url``);
- ``RateLimiter`` (20 a minute per robot, 30 per conversation) is asked first: a row that does not
  fit waits, without counting an attempt;
- delivered → ``sent`` (a quote reply moves its quote approved → sent in the same transaction);
  a retryable failure (rate limit 45009, busy, network) → tried again after ``backoff(attempt)``,
  for as long as it takes: a reply is never dropped; a final failure (spent response_url, invalid
  webhook) on the response_url is tried on the webhook when there is one, else → ``failed`` (the
  quote → failed), shown on the blotter;
- the reply of a quote cancelled after its approval is not sent (``withdrawn``).

A crash between WeCom's answer and the commit that records it leaves the row claimed (``sending``);
after the lease it is sent again. To a response_url that is exactly once: the URL takes one
message, so WeCom refusing the second POST proves the first arrived and the row is recorded sent.
To a group-robot webhook it is at least once (WeCom's webhook takes no idempotency key): a crash
in that window — milliseconds — can repeat a reply, never lose one.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import insert, select, update

from ...store import tables as T
from ...store.db import now
from ...store.queue import claim_next
from . import states

log = logging.getLogger("otclab.quotes.outbound")


def enqueue(conn, key: str, kind: str, text: str, mentioned: list[str], *, quote_id: str | None = None,
            message_id: int | None = None, response_url: str | None = None, webhook_url: str | None = None,
            chat_id: str | None = None, at: dt.datetime | None = None) -> int | None:
    """Queue a text in the caller's transaction; None if ``key`` is queued already."""
    o = T.outbound_messages
    if conn.execute(select(o.c.id).where(o.c.key == key)).first() is not None:
        return None
    at = at or now()
    return int(conn.execute(insert(o).values(
        key=key, kind=kind, quote_id=quote_id, message_id=message_id, response_url=response_url,
        webhook_url=webhook_url, chat_id=chat_id, text=text, mentioned=list(mentioned), status="pending",
        attempts=0, next_attempt_at=at, created_at=at)).inserted_primary_key[0])


def _response_url_spent(conn, row) -> bool:
    """Whether another row already went (or is going) to this row's response_url."""
    if not row.response_url:
        return True
    o = T.outbound_messages
    return conn.execute(select(o.c.id).where(o.c.response_url == row.response_url, o.c.id != row.id,
                                             o.c.via == "response_url",
                                             o.c.status.in_(("sent", "sending")))).first() is not None


def target_of(row, cfg, spent: bool):
    """(OutboundTarget, via) of a row, or (None, why) when it has nowhere to go."""
    from ...wecom.outbound import OutboundTarget

    if row.via != "webhook" and row.response_url and not spent:
        return OutboundTarget("response_url", row.response_url, row.chat_id), "response_url"
    hook = row.webhook_url or cfg.webhook_url
    if hook:
        return OutboundTarget("webhook", hook, row.chat_id), "webhook"
    return None, ("the message's response_url is spent and no group-robot webhook is configured (webhook_url)"
                  if row.response_url else "the message has no response_url and no webhook_url is configured")


def _claim(store, lease_s: float):
    with store.begin() as conn:
        got = claim_next(conn, T.outbound_messages, lease_s, now(), not store.is_sqlite)
        if got is None:
            return None
        before, row, token = got
        spent = _response_url_spent(conn, row)
        quote_state = states.current(conn, row.quote_id) if row.quote_id else None
    # taken over from a sender that died while sending: its POST may have been delivered
    return row, token, spent, before.status == "sending", quote_state


def _finish(store, row, token: str, values: dict, quote_to: str | None = None, details: dict | None = None) -> bool:
    o = T.outbound_messages
    with store.begin() as conn:
        res = conn.execute(update(o).where(o.c.id == row.id, o.c.claim_token == token, o.c.status == "sending")
                           .values(**values))
        if res.rowcount != 1:
            return False        # taken over after the lease: the other sender records it
        if quote_to and row.quote_id and states.current(conn, row.quote_id) == "approved":
            states.transition(conn, row.quote_id, quote_to, "outbound", now(), details)
    return True


def deliver_one(store, cfg, limiter, send=None) -> str | None:
    """Claim and send one due row; its new status (None when nothing was due)."""
    from ...wecom import outbound

    send = send or outbound.send
    got = _claim(store, cfg.claim_lease_s)
    if got is None:
        return None
    row, token, spent, uncertain, quote_state = got
    if row.kind == "reply" and quote_state not in ("approved", "sent", "failed"):
        # cancelled (or otherwise ended) after its approval, before its reply went out
        why = f"not sent: the quote is {quote_state}"
        _finish(store, row, token, {"status": "withdrawn", "last_error": why, "claim_token": None})
        log.warning("outbound %s (%s): %s", row.id, row.key, why)
        return "withdrawn"
    target, via = target_of(row, cfg, spent)
    if target is None:
        _finish(store, row, token, {"status": "failed", "last_error": via, "claim_token": None},
                "failed", {"reason": via, "outbound_id": row.id})
        log.error("outbound %s (%s) failed: %s", row.id, row.key, via)
        return "failed"
    wait = limiter.wait_time_for(target)
    if wait > 0:               # WeCom's rate limit: not an attempt, just later
        _finish(store, row, token, {"status": "pending", "claim_token": None,
                                    "next_attempt_at": now() + dt.timedelta(seconds=wait)})
        return "waiting"
    limiter.record_for(target)
    res = send(target, row.text, list(row.mentioned or []))
    attempts = row.attempts + 1
    if res.ok:
        _finish(store, row, token, {"status": "sent", "via": via, "sent_at": now(), "attempts": attempts,
                                    "errcode": 0, "claim_token": None},
                "sent", {"outbound_id": row.id, "via": via, "attempts": attempts})
        return "sent"
    if res.retryable:
        delay = min(outbound.backoff(attempts), cfg.outbound_max_backoff_s)
        _finish(store, row, token, {"status": "pending", "attempts": attempts, "errcode": res.errcode,
                                    "last_error": res.error, "claim_token": None,
                                    "next_attempt_at": now() + dt.timedelta(seconds=delay)})
        log.warning("outbound %s (%s): %s; retry in %.0f s", row.id, row.key, res.error, delay)
        return "retry"
    if via == "response_url" and uncertain:
        # a response_url takes one message: refused now, it took the one the dead sender posted
        _finish(store, row, token, {"status": "sent", "via": via, "sent_at": now(), "attempts": attempts,
                                    "errcode": res.errcode, "claim_token": None,
                                    "last_error": f"delivered before a restart (response_url then refused: {res.error})"},
                "sent", {"outbound_id": row.id, "via": via, "attempts": attempts, "before_restart": True})
        log.warning("outbound %s (%s): response_url already used: delivered before the restart", row.id, row.key)
        return "sent"
    if via == "response_url" and (row.webhook_url or cfg.webhook_url):
        _finish(store, row, token, {"status": "pending", "via": "webhook", "attempts": attempts,
                                    "errcode": res.errcode, "last_error": res.error, "claim_token": None,
                                    "next_attempt_at": now()})
        log.warning("outbound %s (%s): response_url refused (%s); going by the webhook", row.id, row.key, res.error)
        return "retry"
    _finish(store, row, token, {"status": "failed", "via": via, "attempts": attempts, "errcode": res.errcode,
                                "last_error": res.error, "claim_token": None},
            "failed", {"reason": res.error, "errcode": res.errcode, "outbound_id": row.id})
    log.error("outbound %s (%s) failed: %s", row.id, row.key, res.error)
    return "failed"


def deliver_due(store, cfg, limiter, send=None, max_rows: int = 100) -> dict:
    """Send due rows until none is left (or ``max_rows``); counts by outcome."""
    out: dict = {}
    for _ in range(max_rows):
        st = deliver_one(store, cfg, limiter, send)
        if st is None:
            break
        out[st] = out.get(st, 0) + 1     # a waiting row is due later: the next rows may go now
    return out


def queue_rows(store, status: str | None = None) -> list[dict]:
    o = T.outbound_messages
    with store.connect() as conn:
        q = select(o).order_by(o.c.id)
        if status:
            q = q.where(o.c.status == status)
        return [dict(r._mapping) for r in conn.execute(q).all()]
