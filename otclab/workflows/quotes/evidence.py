"""Every quote transition in the evidence log (``otclab.esign.evidence.log.EvidenceLog``).

An event is first a ``quote_events`` row (committed with the change it records); ``catch_up``
then appends every event the log does not hold yet, as an entry of kind ``quote.event`` whose
data is the event (id, quote, from and to state, who, when, details), and records the entry's
index in ``quote_evidence``. Appends are idempotent across a crash: a crash after the append and
before ``quote_evidence`` is written leaves entries the log holds but the store does not know of;
the next ``catch_up`` finds them by reading the log's entries after the last recorded index and
records them instead of appending them again. One catch-up at a time per store (a store lock).

The log lives beside a SQLite store (``<store>-quotes-evidence.sqlite``) or, for PostgreSQL, in
the store's database (tables ``evidence_*``), unless ``evidence_log`` names another place.
"""
from __future__ import annotations

import json
import threading

from sqlalchemy import select

from ...esign.evidence.catchup import append_unrecorded, open_log, store_log_url
from ...store import tables as T

KIND = "quote.event"
_LOCK = threading.Lock()


def log_url(store, configured: str | None = None) -> str:
    """Where the quote evidence log of ``store`` is."""
    if configured:
        return configured
    return store_log_url(store, "quotes-evidence")


def event_record(row) -> dict:
    return {"event_id": row.id, "quote_id": row.quote_id, "seq": row.seq, "from_state": row.from_state,
            "to_state": row.to_state, "by": row.by, "at": row.at.isoformat(), "details": row.details}


def catch_up(store, url: str | None = None) -> int:
    """Append to the evidence log every quote event not in it yet; returns how many were appended."""
    url = log_url(store, url)
    e, qe = T.quote_events, T.quote_evidence
    with store.connect() as conn:
        missing = conn.execute(select(e).outerjoin(qe, qe.c.event_id == e.c.id).where(qe.c.event_id.is_(None))
                               .order_by(e.c.id).limit(1)).first()
    if missing is None:
        return 0
    with _LOCK, store.lock("quote-evidence", wait=60, what="evidence catch-up"):
        log = open_log(url)
        with store.connect() as conn:
            rows = conn.execute(select(e).outerjoin(qe, qe.c.event_id == e.c.id).where(qe.c.event_id.is_(None))
                                .order_by(e.c.id)).all()
            last = conn.execute(select(qe.c.log_index).order_by(qe.c.log_index.desc()).limit(1)).scalar()
        if not rows:
            return 0
        # entries appended by a run that died before recording them are linked, not appended again
        return append_unrecorded(store, log, KIND, rows, last, event_record, qe)


def entries(store, url: str | None = None) -> list[dict]:
    """The quote events the evidence log holds, in log order (for audits and tests)."""
    log = open_log(log_url(store, url))
    out = []
    with _LOCK:
        for idx in range(log.size()):
            kind, data, at = log.entry(idx)
            if kind == KIND:
                out.append({"index": idx, "received_at": at, **json.loads(data)})
    return out
