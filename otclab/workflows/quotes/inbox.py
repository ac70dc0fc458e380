"""The RFQ inbox: every message WeCom delivers is a row before anything else happens.

``receive`` is the callback's sink: one transaction inserts the message (raw body as received,
the decrypted text, sender, group, reply URLs, time) with status ``pending``; a msgid seen before
(WeCom retries after 5 s without an answer) inserts nothing and returns False. The callback
answers WeCom only after this commit, so an acknowledged message is on disk. ``refused`` keeps a
request the callback refused (bad signature, stale timestamp, ...) with its reason: it is never
processed, but it is not lost either.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ...store import tables as T
from ...store.db import now

MAX_FIELD = 128


def _clip(v, n: int = MAX_FIELD):
    return None if v is None else str(v)[:n]


def receive(store, msg) -> bool:
    """Persist ``msg`` (a ``otclab.wecom.callback.InboundMessage``); True if new, False if its
    msgid was received before."""
    m = T.rfq_messages
    received = msg.received_at if isinstance(msg.received_at, dt.datetime) else now()
    row = {"channel": msg.channel, "msgid": str(msg.msgid), "raw_body": bytes(msg.raw_body),
           "query": dict(msg.query or {}), "plaintext": msg.plaintext, "text": msg.text,
           "sender": _clip(msg.sender), "chat_id": _clip(msg.chat_id), "chat_type": _clip(msg.chat_type, 16),
           "response_url": msg.response_url, "webhook_url": msg.webhook_url, "msgtype": _clip(msg.msgtype, 16),
           "received_at": received, "status": "pending", "attempts": 0}
    with store.begin() as conn:
        if conn.execute(select(m.c.id).where(m.c.msgid == row["msgid"])).first() is not None:
            return False
        try:
            with conn.begin_nested():
                conn.execute(insert(m).values(**row))
        except IntegrityError:          # the same msgid committed by another worker just now
            return False
    return True


def refused(store, reason: str, raw_body: bytes, query: dict | None) -> int:
    """Keep a refused request with its reason (status ``refused``); returns its row id."""
    m = T.rfq_messages
    with store.begin() as conn:
        return int(conn.execute(insert(m).values(
            channel="refused", msgid=None, raw_body=bytes(raw_body or b""), query=dict(query or {}),
            received_at=now(), status="refused", attempts=0, outcome="refused_request",
            error=str(reason)[:2000])).inserted_primary_key[0])


def pending_count(conn) -> int:
    from sqlalchemy import func

    m = T.rfq_messages
    return int(conn.execute(select(func.count()).select_from(m).where(m.c.status.in_(("pending", "processing"))))
               .scalar())
