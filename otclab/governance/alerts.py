"""Alerts of failed validations: a row in ``alerts`` (kind ``validation_failed``) and the WeCom
group robot's webhook when one is configured (``--webhook`` or ``OTCLAB_ALERT_WEBHOOK``).

An alert is stored ``pending`` (key ``validation:RUN_ID``) once the failed run's outcome is
recorded, then sent; each attempt appends its outcome (sent | failed | skipped). ``deliver`` retries
the validation alerts not yet sent (the scheduler calls it on every poll), so none is lost.
"""
from __future__ import annotations

import os

from sqlalchemy import insert, select

from ..store import tables as T
from ..store.db import now
from ..wecom.outbound import OutboundTarget, send

KIND = "validation_failed"
PREFIX = "validation:"


def webhook_url(url: str | None = None) -> str | None:
    return url or os.environ.get("OTCLAB_ALERT_WEBHOOK") or None


def raise_alert(store, run_id: int, message: str, url: str | None = None) -> dict:
    """Store the alert of run ``run_id`` and send it; returns its last outcome."""
    with store.begin() as conn:
        conn.execute(insert(T.alerts).values(key=f"{PREFIX}{run_id}", kind=KIND, message=message, status="pending",
                                             created_at=now()))
    return {r["key"]: r for r in deliver(store, url)}.get(f"{PREFIX}{run_id}", {})


def deliver(store, url: str | None = None) -> list[dict]:
    """Send every validation alert whose latest outcome is pending or failed; record each outcome."""
    url = webhook_url(url)
    a = T.alerts
    with store.connect() as conn:
        rows = conn.execute(select(a).where(a.c.kind == KIND).order_by(a.c.id)).all()
    last: dict = {}
    for r in rows:
        last[r.key] = r
    out = []
    for r in last.values():
        if r.status not in ("pending", "failed"):
            continue
        if url is None:
            status, err = "skipped", "no webhook configured (--webhook or OTCLAB_ALERT_WEBHOOK)"
        else:
            res = send(OutboundTarget("webhook", url), r.message, [])
            status, err = ("sent", None) if res.ok else ("failed", res.error)
        with store.begin() as conn:
            conn.execute(insert(a).values(key=r.key, kind=KIND, message=r.message, status=status, error=err,
                                          created_at=now()))
        out.append({"key": r.key, "status": status, "error": err})
    return out
