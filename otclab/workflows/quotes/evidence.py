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

from sqlalchemy import insert, select

from ...store import tables as T
from ...store.db import now

KIND = "quote.event"
_LOCK = threading.Lock()
_LOCAL = threading.local()     # a SQLite connection belongs to the thread that opened it


def log_url(store, configured: str | None = None) -> str:
    """Where the quote evidence log of ``store`` is."""
    if configured:
        return configured
    if store.is_sqlite:
        return str(store.path.with_name(f"{store.path.stem}-quotes-evidence.sqlite"))
    return store.url.set(drivername="postgresql").render_as_string(hide_password=False)


def open_log(url: str):
    from ...esign.evidence.log import EvidenceLog

    logs = getattr(_LOCAL, "logs", None)
    if logs is None:
        logs = _LOCAL.logs = {}
    log = logs.get(url)
    if log is None:
        log = logs[url] = EvidenceLog(url, create=True)
    return log


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
        # entries appended by a run that died before recording them
        found: dict = {}
        start = 0 if last is None else last + 1
        for idx in range(start, log.size()):
            kind, data, _ = log.entry(idx)
            if kind == KIND:
                try:
                    found[int(json.loads(data)["event_id"])] = idx
                except (ValueError, KeyError, TypeError):
                    continue
        todo = [r for r in rows if r.id not in found]
        receipts = log.append_many([(KIND, event_record(r)) for r in todo]) if todo else []
        ts = now()
        links = [{"event_id": r.id, "log_index": found[r.id], "recorded_at": ts} for r in rows if r.id in found]
        links += [{"event_id": r.id, "log_index": rc.index, "recorded_at": ts} for r, rc in zip(todo, receipts)]
        with store.begin() as conn:
            conn.execute(insert(qe), links)
        return len(todo)


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
