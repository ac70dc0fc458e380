"""Processing the inbox: each received message is handled exactly once.

A worker claims the oldest pending message (one transaction: ``status`` → processing with a fresh
token; ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's single writer otherwise), so
two workers never take the same one. Outside any transaction it then

1. maps the sender to a counterparty (``contacts``): unknown, pending or blocked → a polite
   refusal, never a price;
2. parses the text (``otclab.rfq.parse``); no request, or a request without underlying, product or
   tenor (or a term its product needs) → a clarifying question, not a guess;
3. prices every complete request (``pricer``) into a quote valid for ``validity_s``.

and finishes in one transaction: the message ``done`` with its outcome — only if the claim is
still its own — plus the quotes with their events (received → parsed → priced →
pending_approval, at the times they happened) and the queued clarification or refusal. A worker
that dies leaves its claim; after ``claim_lease_s`` another worker takes the message over and
prices it again (pricing is pure), so a crash and a restart end as if nothing had happened.
A message whose processing raises an unexpected error is released and retried, at most
``MAX_ATTEMPTS`` times, then recorded ``failed`` with the error.
"""
from __future__ import annotations

import datetime as dt
import logging
import traceback
import uuid

from sqlalchemy import and_, insert, or_, select, update

from ...core.errors import InputError, OtcError
from ...governance.enforce import require_approved
from ...kyc.clients import require_onboarded
from ...store import markets
from ...store import tables as T
from ...store.db import now
from . import contacts, reply, states
from .outbound_worker import enqueue
from .pricer import LABELS, Incomplete, check_complete, load_market, price_request

log = logging.getLogger("otclab.quotes.process")
MAX_ATTEMPTS = 5
BOT = "bot"


class ClaimLost(Exception):
    """The message was taken over by another worker after this one's lease ran out."""


def claim(store, lease_s: float):
    """(message row, token) of the oldest message to process, claimed; None if there is none."""
    m = T.rfq_messages
    t = now()
    todo = or_(m.c.status == "pending",
               and_(m.c.status == "processing", m.c.claimed_at < t - dt.timedelta(seconds=lease_s)))
    token = uuid.uuid4().hex
    with store.begin() as conn:
        q = select(m.c.id).where(todo).order_by(m.c.id).limit(1)
        if not store.is_sqlite:
            q = q.with_for_update(skip_locked=True)
        mid = conn.execute(q).scalar()
        if mid is None:
            return None
        res = conn.execute(update(m).where(m.c.id == mid, todo)
                           .values(status="processing", claim_token=token, claimed_at=t, attempts=m.c.attempts + 1))
        if res.rowcount != 1:
            return None
        return conn.execute(select(m).where(m.c.id == mid)).one(), token


def _mention(msg) -> list[str]:
    return [msg.sender] if msg.sender else []


def _target(msg) -> dict:
    return {"response_url": msg.response_url, "webhook_url": msg.webhook_url, "chat_id": msg.chat_id}


def work(store, msg, cfg, pool=None) -> dict:
    """What processing ``msg`` produces (nothing written): outcome, quotes, the text to send."""
    from ...rfq import parse

    out: dict = {"outcome": None, "quotes": [], "outbound": None, "error": None}
    text = (msg.text or "").strip()
    if not text:
        out["outcome"] = "ignored"
        out["error"] = f"a {msg.msgtype or 'message'} without text: nothing to quote"
        return out
    with store.connect() as conn:
        contact = contacts.lookup(conn, msg.sender)
    if contact is None or contact["status"] != "approved":
        out["outcome"] = "refused_sender"
        out["error"] = (f"sender {msg.sender!r} is " + ("not a known contact" if contact is None
                                                          else f"{contact['status']} ({contact['counterparty_name']})"))
        out["outbound"] = ("refusal", reply.refusal(msg.sender, contact and contact["status"]))
        return out
    try:
        requests = parse(text)
    except InputError as e:
        out.update(outcome="clarify", error=str(e), outbound=("clarify", reply.too_long(msg.sender, e.message)))
        return out
    parsed_at = now()
    fields = [r.to_dict() for r in requests]
    meta = [r.to_dict(with_meta=True) for r in requests]
    missing: list = []
    market = None
    for i, f in enumerate(fields):
        try:
            check_complete(f)
        except Incomplete as e:
            missing.append((i + 1, [LABELS.get(n, n) for n, _ in e.missing]))
            continue
        q = {"index": i, "fields": f, "confidence": meta[i].get("confidence"), "parsed_at": parsed_at,
             "contact": contact}
        try:
            if market is None:
                with store.connect() as conn:
                    market = load_market(conn, cfg.market)
            with store.connect() as conn:       # KYC: only onboarded clients whose C-level fits the product
                require_onboarded(conn, [(contact["counterparty_id"], f.get("structure"))], "quote")
            q.update(price_request(f, market[0], cfg, pool))
            with store.connect() as conn:       # template governance: quote only approved versions
                require_approved(conn, q["template"], q["template_version"], "quote")
            q["market"] = market
            q["priced_at"] = now()
        except Incomplete as e:
            missing.append((i + 1, [LABELS.get(n, n) for n, _ in e.missing]))
            continue
        except OtcError as e:
            q["error"] = str(e)
            q["failed_at"] = now()
        out["quotes"].append(q)
    if missing or not fields:
        out["outbound"] = ("clarify", reply.clarification(msg.sender, missing, len(fields)))
    out["outcome"] = "quoted" if out["quotes"] else "clarify"
    if missing:
        out["clarified"] = missing
    return out


def _quote_row(msg, q: dict, cfg, t: dt.datetime) -> dict:
    f = q["fields"]
    c = q["contact"]
    return {"quote_id": f"Q{msg.id:06d}-{q['index'] + 1}", "message_id": msg.id, "request_index": q["index"],
            "revision": 0, "supersedes": None, "state": "received", "sender": msg.sender, "chat_id": msg.chat_id,
            "counterparty_id": c["counterparty_id"], "counterparty_name": c["counterparty_name"],
            "counterparty_uscc": c.get("uscc"), "underlying": f.get("underlying"), "structure": f.get("structure"),
            "tenor_months": f.get("tenor_months"), "notional": q.get("notional") or f.get("notional") or cfg.default_notional,
            "solve_for": f.get("solve_for"), "fields": f, "template": q.get("template"),
            "template_version": q.get("template_version"), "terms": q.get("terms"),
            "market_snapshot_id": None, "pricing": q.get("pricing"), "maker": None, "error": q.get("error"),
            "created_at": t, "valid_until": t + dt.timedelta(seconds=cfg.validity_s)}


def insert_quote(conn, row: dict, history: list[tuple]) -> None:
    """Insert a quote (state ``received``'s predecessor) and record its transitions in order:
    ``history`` = [(to_state, by, at, details), ...]."""
    conn.execute(insert(T.quotes).values(**row))
    for to_state, by, at, details in history:
        states.transition(conn, row["quote_id"], to_state, by, at, details)


def finish(store, msg, token: str, result: dict, cfg) -> list[str]:
    """Commit what processing produced, if the claim is still ours; the quote ids written."""
    m = T.rfq_messages
    t = now()
    ids = []
    with store.begin() as conn:
        res = conn.execute(update(m).where(m.c.id == msg.id, m.c.claim_token == token, m.c.status == "processing")
                           .values(status="done", processed_at=t, outcome=result["outcome"],
                                   error=result.get("error")))
        if res.rowcount != 1:
            raise ClaimLost(msg.id)
        sid = None
        for q in result["quotes"]:
            row = _quote_row(msg, q, cfg, t)
            hist = [("received", BOT, msg.received_at, {"message_id": msg.id, "msgid": msg.msgid}),
                    ("parsed", BOT, q["parsed_at"], {"fields": q["fields"], "confidence": q.get("confidence")})]
            if q.get("error"):
                hist.append(("failed", BOT, q["failed_at"], {"error": q["error"]}))
            else:
                if sid is None:
                    sid = markets.put(conn, q["market"][0], q["market"][1])
                row["market_snapshot_id"] = sid
                p = q["pricing"]
                hist.append(("priced", BOT, q["priced_at"], {"engine": p["engine"], "value": p["value"],
                                                            "solved": p["solved"], "market_snapshot_id": sid,
                                                            "template_version": q["template_version"]}))
                hist.append(("pending_approval", BOT, t, {"valid_until": row["valid_until"].isoformat(),
                                                          "four_eyes": row["notional"] > cfg.four_eyes_notional}))
            insert_quote(conn, row, hist)
            ids.append(row["quote_id"])
        if result.get("outbound"):
            kind, text = result["outbound"]
            enqueue(conn, f"{kind}:{msg.id}", kind, text, _mention(msg), message_id=msg.id, at=t, **_target(msg))
    return ids


def release(store, msg, token: str, error: str) -> None:
    """Give a claimed message back after an unexpected error (or fail it after MAX_ATTEMPTS)."""
    m = T.rfq_messages
    final = msg.attempts >= MAX_ATTEMPTS
    with store.begin() as conn:
        conn.execute(update(m).where(m.c.id == msg.id, m.c.claim_token == token).values(
            status="done" if final else "pending", claim_token=None, error=error[:4000],
            outcome="failed" if final else None, processed_at=now() if final else None))


def process_one(store, cfg, pool=None) -> dict | None:
    """Claim and process one message; a summary (None when the inbox is empty)."""
    got = claim(store, cfg.claim_lease_s)
    if got is None:
        return None
    msg, token = got
    try:
        result = work(store, msg, cfg, pool)
        ids = finish(store, msg, token, result, cfg)
    except ClaimLost:
        log.warning("message %s was taken over by another worker; its result is theirs", msg.id)
        return {"message_id": msg.id, "outcome": "taken_over", "quotes": []}
    except Exception as e:
        log.error("message %s: %s", msg.id, e)
        release(store, msg, token, "".join(traceback.format_exception_only(type(e), e)).strip())
        return {"message_id": msg.id, "outcome": "error", "quotes": [], "error": str(e)}
    return {"message_id": msg.id, "outcome": result["outcome"], "quotes": ids}


def process_pending(store, cfg=None, max_messages: int | None = None) -> int:
    """Process messages until the inbox is empty (or ``max_messages``); how many were processed."""
    from .config import QuoteConfig
    from .evidence import catch_up

    cfg = cfg or QuoteConfig()
    n = tried = 0
    while max_messages is None or tried < max_messages:
        got = process_one(store, cfg)
        if got is None:
            break
        tried += 1
        # a message whose claim ran out while it was priced was processed by the worker that took it over
        n += got["outcome"] != "taken_over"
    if n:
        catch_up(store, cfg.evidence_log)
    return n
