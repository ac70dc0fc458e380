"""Breaks: confirmations a person must look at, and how operations close them.

A break is raised (``open_break``) for a confirmation that matched no booked trade or several
(``no_match``, ``ambiguous``: the candidates are named), whose fields differ from the booked
trade's current version or were read below their confidence threshold (``mismatch``), or whose
trade has no confirmation form (``unconfirmable``). One break per document.

Operations close it (``close_break``) as a named user of the ``operations`` group, with a comment:

- ``accept``: the document confirms the trade as booked after all (a misread, a cosmetic
  difference): the trade is marked confirmed (route paper) by that user, citing the break; for a
  break without a matched trade the user names the trade, and the document is attached to it;
- ``resolve``: closed without confirming (the trade was amended and a new confirmation asked
  for, the counterparty re-sent it, the document was not a confirmation).
"""
from __future__ import annotations

from sqlalchemy import insert, select, update

from ..access import Identity
from ..core.errors import InputError, OtcError
from ..store import tables_confirm as TC
from ..store.book import load_book
from ..store.db import now
from . import attach as A

KINDS = ("mismatch", "no_match", "ambiguous", "unconfirmable")
STATUSES = ("open", "resolved", "accepted")
ACTIONS = ("accept", "resolve")
GROUP = "operations"


def open_break(conn, document_id: int, kind: str, summary: str, *, trade_id: str | None = None,
               trade_version: int | None = None, fields: list | None = None, candidates: list | None = None) -> int:
    """Raise the break of a document in the caller's transaction (the one already raised for it
    when there is one); its id."""
    b = TC.confirm_breaks
    got = conn.execute(select(b.c.id).where(b.c.document_id == document_id)).scalar()
    if got is not None:
        return int(got)
    return int(conn.execute(insert(b).values(
        document_id=document_id, trade_id=trade_id, trade_version=trade_version, kind=kind,
        fields=list(fields or []), candidates=list(candidates or []), summary=summary, status="open",
        created_at=now())).inserted_primary_key[0])


def list_breaks(store, status: str | None = "open") -> list[dict]:
    """Breaks (``status`` None: all), newest first, each with its document's file name, stored
    path and received time."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}; allowed: {', '.join(STATUSES)}", "status")
    b, d = TC.confirm_breaks, TC.confirm_documents
    q = (select(b, d.c.file_name, d.c.path.label("document_path"), d.c.received_at, d.c.sha256)
         .join(d, d.c.id == b.c.document_id).order_by(b.c.id.desc()))
    if status:
        q = q.where(b.c.status == status)
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def get_break(conn, break_id: int) -> dict:
    b = TC.confirm_breaks
    row = conn.execute(select(b).where(b.c.id == break_id)).first()
    if row is None:
        raise InputError(f"no break {break_id}", "break_id")
    return dict(row._mapping)


def close_break(store, break_id: int, action: str, user: Identity, comment: str,
                trade_id: str | None = None) -> dict:
    """Accept or resolve an open break as ``user`` (of the operations group) with ``comment``;
    returns the break as closed. ``trade_id``: the trade an accepted break without a matched
    trade confirms (it must be one of its candidates, or any live trade when there are none)."""
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; allowed: {', '.join(ACTIONS)}", "action")
    if GROUP not in user.groups:
        raise OtcError(f"{user.name} may not close confirmation breaks: only the {GROUP} group may", "user")
    if not comment or not comment.strip():
        raise InputError("say why (a comment): closing a break is audited", "comment")
    b = TC.confirm_breaks
    with store.begin() as conn:
        brk = get_break(conn, break_id)
        if brk["status"] != "open":
            raise InputError(f"break {break_id} is already {brk['status']} (by {brk['resolved_by']})", "break_id")
        values = {"status": "resolved" if action == "resolve" else "accepted", "resolved_by": user.name,
                  "resolved_at": now(), "comment": comment.strip()}
        if action == "accept":
            tid = brk["trade_id"] or trade_id
            if not tid:
                names = ", ".join(c["trade_id"] for c in brk["candidates"]) or "none"
                raise InputError(f"break {break_id} matched no single trade: name the trade it confirms "
                                 f"(candidates: {names})", "trade_id")
            if brk["trade_id"] and trade_id and trade_id != brk["trade_id"]:
                raise InputError(f"break {break_id} is about {brk['trade_id']}, not {trade_id}", "trade_id")
            cands = [c["trade_id"] for c in brk["candidates"]]
            if not brk["trade_id"] and cands and tid not in cands:
                raise InputError(f"{tid} is not a candidate of break {break_id}; candidates: {', '.join(cands)}",
                                 "trade_id")
            found = load_book(conn, trade_ids=[tid])
            if not found or found[0].status == "cancelled":
                raise InputError(f"no live trade {tid!r} in the store", "trade_id")
            st = found[0]
            doc = A.document(conn, brk["document_id"])
            att, _ = A.attach(conn, tid, sha256=doc["sha256"], file_name=doc["file_name"], path=doc["path"],
                              size=doc["size"], kind="paper_confirmation", by=user.name, document_id=doc["id"])
            A.record_confirmation(conn, tid, st.record.version, "confirmed", "paper", user.name,
                                  attachment_id=att["id"], document_id=doc["id"], break_id=break_id,
                                  comment=comment.strip())
            values["trade_id"] = tid
            A.mark_document(conn, doc["id"], trade_id=tid)
        conn.execute(update(b).where(b.c.id == break_id, b.c.status == "open").values(**values))
        return get_break(conn, break_id)
