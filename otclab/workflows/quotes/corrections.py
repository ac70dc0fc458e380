"""A trader's edit of a parsed field: stored as a correction, repriced as a new quote revision.

``edit_quote`` checks the field and value, reprices the request with the change (pure, outside
any transaction), then in one transaction stores the correction (the message text, the field,
the value the parser read, the corrected value, who, when), inserts the new revision (quote id
``<id>.r<n>``, ``supersedes`` the old one, the editor as its maker, a new validity) with its
events, and moves the old quote to ``superseded``. A value the pricer refuses is a QuoteError
naming the field; nothing is stored.

``examples(store)`` turns the corrections into labelled examples for the parser's training
(``otclab rfq train``): per request of a message, its text, the corrected fields (the newest value
of each) and what the parser had read.
"""
from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import insert, select

from ...core.errors import OtcError
from ...governance.enforce import require_approved
from ...rfq.request import FIELDS
from ...store import markets
from ...store import tables as T
from ...store.db import now
from . import states
from .approval import _user, load
from .errors import QuoteError
from .pricer import Incomplete, load_market, price_request
from .process import insert_quote

EDITABLE_STATES = ("pending_approval", "failed")
TEXT_VALUES = {"structure": ("snowball", "phoenix", "sharkfin", "vanilla", "digital", "asian", "barrier",
                             "double_sharkfin"),
               "option_type": ("call", "put"), "ko_frequency": ("monthly", "daily"),
               "solve_for": ("coupon", "price", "participation", "vol", "strike")}


def check_value(field: str, value):
    """The value as the request holds it; QuoteError naming the field if it is not allowed."""
    if field not in FIELDS:
        raise QuoteError(f"is not an editable field; editable: {', '.join(FIELDS)}", field)
    if value is None or value == "":
        return None
    if field == "underlying":
        if not isinstance(value, str) or not value.strip():
            raise QuoteError("must be an exchange code such as 000905.SH", field)
        return value.strip().upper()
    if field in TEXT_VALUES:
        if value not in TEXT_VALUES[field]:
            raise QuoteError(f"must be one of {', '.join(TEXT_VALUES[field])}; got {value!r}", field)
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise QuoteError(f"must be a number; got {value!r}", field) from None
    if isinstance(value, bool) or not math.isfinite(v) or v < 0:
        raise QuoteError(f"must be a non-negative finite number; got {value!r}", field)
    return v


def _base_id(quote_id: str) -> str:
    return quote_id.split(".r")[0]


def edit_quote(store, quote_id: str, field: str, value, user: str, cfg) -> str:
    """Correct ``field`` of ``quote_id`` to ``value`` and reprice; returns the new quote's id."""
    user = _user(user)
    value = check_value(field, value)
    with store.connect() as conn:
        row = load(conn, quote_id)
        state = states.current(conn, quote_id)
        msg = conn.execute(select(T.rfq_messages).where(T.rfq_messages.c.id == row.message_id)).one()
        original = conn.execute(select(T.quotes.c.fields).where(T.quotes.c.message_id == row.message_id,
                                                                 T.quotes.c.request_index == row.request_index,
                                                                 T.quotes.c.revision == 0)).scalar()
        market = load_market(conn, cfg.market)
    if state not in EDITABLE_STATES:
        raise QuoteError(f"quote {quote_id} is {state}; only a quote pending approval (or failed) can be edited",
                         "state")
    fields = {k: v for k, v in {**(row.fields or {}), field: value}.items() if v is not None}
    if fields == {k: v for k, v in (row.fields or {}).items() if v is not None}:
        raise QuoteError(f"the quote already has {field} = {value!r}", field)
    try:
        priced = price_request(fields, market[0], cfg)
        with store.connect() as conn:       # template governance: a repriced quote too, only approved versions
            require_approved(conn, priced["template"], priced["template_version"], "quote")
    except Incomplete as e:
        raise QuoteError(f"with this change the request still lacks {', '.join(n for n, _ in e.missing)}: "
                         f"{e.missing[0][1]}", e.missing[0][0]) from None
    except OtcError as e:
        raise QuoteError(f"the quote cannot be priced with {field} = {value!r}: {e}", field) from None
    t = now()
    new_id = f"{_base_id(quote_id)}.r{row.revision + 1}"
    with store.begin() as conn:
        conn.execute(insert(T.rfq_corrections).values(
            quote_id=quote_id, message_text=msg.text or "", field=field, parsed_value=(original or {}).get(field),
            corrected_value=value, corrected_by=user, corrected_at=t))
        sid = markets.put(conn, market[0], market[1])
        new = {**{k: getattr(row, k) for k in ("message_id", "request_index", "sender", "chat_id", "counterparty_id",
                                               "counterparty_name", "counterparty_uscc")},
               "quote_id": new_id, "revision": row.revision + 1, "supersedes": quote_id, "state": "received",
               "underlying": fields.get("underlying"), "structure": fields.get("structure"),
               "tenor_months": fields.get("tenor_months"), "notional": priced["notional"],
               "solve_for": fields.get("solve_for"), "fields": fields, "template": priced["template"],
               "template_version": priced["template_version"], "terms": priced["terms"], "market_snapshot_id": sid,
               "pricing": priced["pricing"], "maker": user, "error": None, "created_at": t,
               "valid_until": t + dt.timedelta(seconds=cfg.validity_s)}
        states.transition(conn, quote_id, "superseded", user, t, {"by_quote": new_id, "field": field,
                                                                   "value": value}, expect=state)
        p = priced["pricing"]
        insert_quote(conn, new, [
            ("received", user, t, {"message_id": row.message_id, "supersedes": quote_id}),
            ("parsed", user, t, {"fields": fields, "corrected": {field: value}}),
            ("priced", "bot", t, {"engine": p["engine"], "value": p["value"], "solved": p["solved"],
                                  "market_snapshot_id": sid, "template_version": priced["template_version"]}),
            ("pending_approval", "bot", t, {"valid_until": new["valid_until"].isoformat(),
                                            "four_eyes": new["notional"] > cfg.four_eyes_notional})])
    return new_id


def examples(store) -> list[dict]:
    """Labelled examples from every correction: ``{"text", "fields": {field: corrected value},
    "parsed": {field: parsed value}, "quote_id", "corrected_by"}``, one per corrected request
    (the newest correction of a field wins), oldest first."""
    c, q = T.rfq_corrections, T.quotes
    with store.connect() as conn:
        rows = conn.execute(select(c, q.c.message_id, q.c.request_index).join(q, q.c.quote_id == c.c.quote_id)
                            .order_by(c.c.id)).all()
    out: dict = {}
    for r in rows:
        key = (r.message_id, r.request_index)
        ex = out.setdefault(key, {"text": r.message_text, "fields": {}, "parsed": {}, "quote_id": r.quote_id,
                                  "corrected_by": r.corrected_by})
        ex["fields"][r.field] = r.corrected_value
        ex["parsed"].setdefault(r.field, r.parsed_value)
        ex["quote_id"], ex["corrected_by"] = r.quote_id, r.corrected_by
    return list(out.values())
