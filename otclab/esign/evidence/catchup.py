"""Store events into the evidence log, exactly once across a crash (the workflows' shared step).

A workflow records each event first as a row in its own events table, committed with the change it
records; a catch-up then appends the events the log does not hold yet and records, per event, the
index of its log entry in a links table (``event_id``, ``log_index``, ``recorded_at``). A crash
after the append and before the links are written leaves entries the log holds but the store does
not know of: ``append_unrecorded`` finds them by reading the entries after the last recorded index
(by kind and ``event_id``) and links them instead of appending them twice.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Callable, Iterable

from sqlalchemy import insert

_LOCAL = threading.local()     # a SQLite connection belongs to the thread that opened it


def open_log(url: str):
    """The evidence log at ``url`` (a SQLite path or a PostgreSQL URL), one per thread and URL."""
    from .log import EvidenceLog

    logs = getattr(_LOCAL, "logs", None)
    if logs is None:
        logs = _LOCAL.logs = {}
    log = logs.get(url)
    if log is None:
        log = logs[url] = EvidenceLog(url, create=True)
    return log


def store_log_url(store, suffix: str) -> str:
    """The default log of a workflow: beside a SQLite store (``<store>-<suffix>.sqlite``), or in
    a PostgreSQL store's own database (tables ``evidence_*``)."""
    if store.is_sqlite:
        return str(store.path.with_name(f"{store.path.stem}-{suffix}.sqlite"))
    return store.url.set(drivername="postgresql").render_as_string(hide_password=False)


def append_unrecorded(store, log, kind: str, rows: Iterable, last_index: int | None,
                      record: Callable[[object], dict], links) -> int:
    """Append each event row (``.id``) not yet in the log as an entry of ``kind`` with data
    ``record(row)`` (which holds ``event_id``), link every row to its entry in the ``links`` table,
    and return how many entries were appended. The caller holds the workflow's catch-up lock."""
    rows = list(rows)
    if not rows:
        return 0
    found: dict = {}
    for idx in range(0 if last_index is None else last_index + 1, log.size()):
        k, data, _ = log.entry(idx)
        if k == kind:
            try:
                found[int(json.loads(data)["event_id"])] = idx
            except (ValueError, KeyError, TypeError):
                continue
    todo = [r for r in rows if r.id not in found]
    receipts = log.append_many([(kind, record(r)) for r in todo]) if todo else []
    ts = dt.datetime.now(dt.timezone.utc)
    linked = [{"event_id": r.id, "log_index": found[r.id], "recorded_at": ts} for r in rows if r.id in found]
    linked += [{"event_id": r.id, "log_index": rc.index, "recorded_at": ts} for r, rc in zip(todo, receipts)]
    with store.begin() as conn:
        conn.execute(insert(links), linked)
    return len(todo)
