"""Every KYC event (action, comment, decision, upload, report) in the evidence log.

As for quotes (``otclab.workflows.quotes.evidence``): an event is first a ``kyc_events`` row,
committed with the change it records; ``catch_up`` then appends each event the log does not hold
yet as an entry of kind ``kyc.event`` and records the entry's index in ``kyc_evidence``. A crash
between the append and that record is repaired by the next ``catch_up``, which finds the entries
after the last recorded index instead of appending them twice. One catch-up at a time per store.

The log lives beside a SQLite store (``<store>-kyc-evidence.sqlite``) or, for PostgreSQL, in the
store's database (tables ``evidence_*``, shared with the other workflows' entries); ``OTCLAB_KYC_EVIDENCE``
names another place.
"""
from __future__ import annotations

import json
import os
import threading

from sqlalchemy import func, insert, select

from ..esign.evidence.catchup import append_unrecorded, open_log, store_log_url
from ..store import tables_kyc as T
from ..store.db import now

KIND = "kyc.event"
_LOCK = threading.Lock()


def log_url(store) -> str:
    if os.environ.get("OTCLAB_KYC_EVIDENCE"):
        return os.environ["OTCLAB_KYC_EVIDENCE"]
    return store_log_url(store, "kyc-evidence")


def add_event(conn, case_id: str, action: str, by: str, to_state: str, *, from_state: str | None = None,
              role: str | None = None, comment: str | None = None, details: dict | None = None) -> int:
    """Append the next event of ``case_id`` (inside the caller's transaction); returns its id."""
    e = T.kyc_events
    seq = (conn.execute(select(func.max(e.c.seq)).where(e.c.case_id == case_id)).scalar() or 0) + 1
    return conn.execute(insert(e).values(case_id=case_id, seq=seq, action=action, role=role, from_state=from_state,
                                         to_state=to_state, by=by, at=now(), comment=comment,
                                         details=details)).inserted_primary_key[0]


def record(row) -> dict:
    return {"event_id": row.id, "case_id": row.case_id, "seq": row.seq, "action": row.action, "role": row.role,
            "from_state": row.from_state, "to_state": row.to_state, "by": row.by, "at": row.at.isoformat(),
            "comment": row.comment, "details": row.details}


def catch_up(store) -> int:
    """Append to the evidence log every KYC event not in it yet; returns how many were appended."""
    url = log_url(store)
    e, ke = T.kyc_events, T.kyc_evidence
    q = select(e).outerjoin(ke, ke.c.event_id == e.c.id).where(ke.c.event_id.is_(None)).order_by(e.c.id)
    with store.connect() as conn:
        if conn.execute(q.limit(1)).first() is None:
            return 0
    with _LOCK, store.lock("kyc-evidence", wait=60, what="KYC evidence catch-up"):
        log = open_log(url)
        with store.connect() as conn:
            rows = conn.execute(q).all()
            last = conn.execute(select(func.max(ke.c.log_index))).scalar()
        return append_unrecorded(store, log, KIND, rows, last, record, ke)


def entries(store, case_id: str | None = None) -> list[dict]:
    """The KYC events the evidence log holds, in log order (optionally of one case)."""
    log = open_log(log_url(store))
    out = []
    with _LOCK:
        for idx in range(log.size()):
            kind, data, at = log.entry(idx)
            if kind == KIND:
                d = json.loads(data)
                if case_id is None or d.get("case_id") == case_id:
                    out.append({"index": idx, "received_at": at, **d})
    return out


def append_entry(store, kind: str, data: dict):
    """Append one non-event entry (e.g. ``kyc.report`` with a report's hash); returns the receipt."""
    with _LOCK, store.lock("kyc-evidence", wait=60, what="KYC evidence append"):
        return open_log(log_url(store)).append(kind, data)
