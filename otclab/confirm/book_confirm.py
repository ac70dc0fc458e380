"""A received confirmation against the book of record: match, reconcile, attach, confirm or break,
and the trader's mail, in one transaction.

``confirm_document(store, document_id, extraction)`` takes a document already recorded by
``attach.receive`` (its bytes kept, its row ``received``) and the extraction read from it:

1. ``book_match.match_trade``: the booked trade it is about (trade id or UTI, else its facts);
2. every field against that trade's current version and every field's confidence against its
   threshold (``reconcile.review_items``);
3. the document attached to the trade (hash-versioned: the same bytes attach once);
4. nothing to review: the trade is marked ``confirmed`` (route paper) in ``trade_confirmations``;
   else a break (``breaks.open_break``) lists the fields with both values, or the candidates when
   no trade or several fit;
5. a mail to the trader who booked the trade (``trade_versions.recorded_by`` of version 1, else
   the record's ``trader``; addresses in ``otclab.mail.config``), or to operations when no trader
   is known, with the fields, the differences and the document, queued in ``mail_queue``;
6. the document marked ``processed`` with its outcome.

All in one transaction: a crash leaves the document ``received`` and nothing else, and running it
again does the whole once. A document already processed is not done again (its outcome is
returned). The returned summary is what the inbox logs.
"""
from __future__ import annotations

from sqlalchemy import select

from ..core.errors import OtcError
from ..mail.config import MailConfig
from ..mail.queue import enqueue
from ..store import tables as T
from ..store.db import now
from . import attach as A
from .book_match import match_trade
from .breaks import open_break
from .extract import FIELDS
from .reconcile import review_items

ACTOR = "confirm-inbox"


def booked_by(conn, trade_id: str) -> str | None:
    """Who booked the trade: ``recorded_by`` of its first version, else its ``trader``."""
    tv = T.trade_versions
    row = conn.execute(select(tv.c.recorded_by, tv.c.trader).where(tv.c.trade_id == trade_id)
                       .order_by(tv.c.version).limit(1)).first()
    if row is None:
        return None
    return row.recorded_by or row.trader


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.6g}" if abs(v) < 1e4 else f"{v:,.2f}"
    return str(v)


def mail_body(doc: dict, extraction: dict, summary: dict) -> str:
    """The mail's text: outcome, the fields read with their confidence, the differences."""
    conf = extraction.get("confidence") or {}
    lines = [f"Confirmation {doc['file_name']} (SHA-256 {doc['sha256'][:12]}), received {doc['received_at']:%Y-%m-%d %H:%M} UTC",
             ""]
    if summary["outcome"] == "confirmed":
        lines.append(f"Matched to trade {summary['trade_id']} (by {summary['match']}): every field agrees with "
                     f"version {summary['trade_version']}; the trade is marked confirmed.")
    else:
        lines.append(f"BREAK {summary['break_id']} ({summary['kind']}): {summary['summary']}")
        if summary.get("items"):
            lines += ["", "Fields to check (field: booked | document | kind | confidence):"]
            for it in summary["items"]:
                c = it.get("confidence")
                lines.append(f"  {it['field']}: {_fmt(it['booked'])} | {_fmt(it['document'])} | {it['kind']}"
                             + (f" | {c:.2f} (needs {it['threshold']:.2f})" if c is not None else ""))
        if summary.get("candidates"):
            lines += ["", "Candidate trades:"]
            for c in summary["candidates"]:
                lines.append(f"  {c['trade_id']}: {c['counterparty']}, {c['underlying']}, {c['trade_date']}, "
                             f"notional {_fmt(c['notional'])}" + (f" (agrees on {', '.join(c['agrees_on'])})"
                                                                  if c.get("agrees_on") else ""))
    lines += ["", f"Fields read ({'layout ' + extraction['layout'] if extraction.get('layout') else 'generic reader'}):"]
    for f in FIELDS:
        v = extraction["fields"].get(f)
        if v is not None:
            lines.append(f"  {f}: {_fmt(v)} ({conf.get(f, 1.0):.2f})")
    for w in extraction.get("warnings") or []:
        lines.append(f"  ! {w}")
    lines += ["", "The document is attached. Breaks are closed in the operations view "
              "(otclab dashboard confirm-breaks)."]
    return "\n".join(lines)


def confirm_document(store, document_id: int, extraction: dict, mail: MailConfig | None = None) -> dict:
    """Match, reconcile, attach, confirm or raise a break, and queue the mail (see the module
    doc); the summary: outcome (confirmed | break), match, trade_id, trade_version, break_id,
    kind, items, candidates, attachment, mail (the queued row's id and address, or why none)."""
    mail = mail or MailConfig()
    with store.begin() as conn:
        doc = A.document(conn, document_id)
        if doc is None:
            raise OtcError(f"no received document {document_id}", "document_id")
        if doc["status"] == "processed":
            return {"outcome": doc["outcome"], "trade_id": doc["trade_id"], "replayed": True}
        m = match_trade(conn, extraction["fields"])
        summary: dict = {"match": m.how, "trade_id": None, "trade_version": None, "break_id": None, "items": [],
                         "candidates": m.candidates, "note": m.note}
        if m.trade is not None:
            rec = m.trade.record
            summary.update(trade_id=rec.trade_id, trade_version=rec.version)
            att, new = A.attach(conn, rec.trade_id, sha256=doc["sha256"], file_name=doc["file_name"],
                                path=doc["path"], size=doc["size"], kind="paper_confirmation", by=ACTOR,
                                document_id=doc["id"])
            summary["attachment"] = {"id": att["id"], "version": att["version"], "new": new}
            try:
                items = review_items(extraction, rec)
                kind = "mismatch"
            except OtcError as exc:  # no confirmation form for the trade's template or currency
                items, kind = [], "unconfirmable"
                summary["note"] = str(exc)
            summary["items"] = items
            state = A.confirmation_state(conn, rec.trade_id)
            if kind == "mismatch" and not items:
                summary["outcome"] = "confirmed"
                if state and state["state"] == "confirmed" and state["route"] == "online":
                    summary["note"] = "already confirmed online; the paper copy is attached beside it"
                else:
                    A.record_confirmation(conn, rec.trade_id, rec.version, "confirmed", "paper", ACTOR,
                                          attachment_id=att["id"], document_id=doc["id"])
            else:
                summary["outcome"] = "break"
                summary["kind"] = kind
                summary["summary"] = (summary["note"] if kind == "unconfirmable" else
                                      f"{len(items)} field(s) to check against {rec.trade_id} v{rec.version}: "
                                      + ", ".join(f"{i['field']} ({i['kind']})" for i in items))
        else:
            summary["outcome"] = "break"
            summary["kind"] = "ambiguous" if m.how == "ambiguous" else "no_match"
            names = ", ".join(c["trade_id"] for c in m.candidates) or "none near"
            summary["summary"] = f"{m.note}; candidates: {names}"
        if summary["outcome"] == "break":
            summary["break_id"] = open_break(conn, doc["id"], summary["kind"], summary["summary"],
                                             trade_id=summary["trade_id"], trade_version=summary["trade_version"],
                                             fields=summary["items"], candidates=summary["candidates"])
        summary["mail"] = _queue_mail(conn, doc, extraction, summary, mail)
        A.mark_document(conn, doc["id"], status="processed", extraction=extraction, layout=extraction.get("layout"),
                        outcome=summary["outcome"], trade_id=summary["trade_id"], processed_at=now())
    return summary


def _queue_mail(conn, doc: dict, extraction: dict, summary: dict, mail: MailConfig) -> dict:
    trader = booked_by(conn, summary["trade_id"]) if summary["trade_id"] else None
    to = mail.address_of(trader) or mail.operations
    if not to:
        return {"queued": False, "why": (f"no e-mail address for {trader} (set [addresses] {trader} in the mail "
                                         f"settings or users.{trader}.email in the users file) and no operations "
                                         f"address" if trader else "no trader matched and no operations address "
                                         "([addresses] operations in the mail settings)")}
    tid = summary["trade_id"] or "unmatched"
    subject = (f"[otclab] 交易确认书已核对 confirmation matched: {tid}" if summary["outcome"] == "confirmed"
               else f"[otclab] 交易确认书差异 confirmation break {summary['break_id']}: {tid}")
    key = f"confirm:{doc['id']}"
    mid = enqueue(conn, key, to, subject, mail_body(doc, extraction, summary),
                  [{"name": doc["file_name"], "path": doc["path"], "sha256": doc["sha256"]}],
                  trade_id=summary["trade_id"], document_id=doc["id"])
    return {"queued": mid is not None, "id": mid, "to": to, "trader": trader}
