"""Alerts to a WeCom (企业微信) group robot: one POST of ``{"msgtype": "text", "text": {"content"}}``
to the robot's webhook URL (``.../cgi-bin/webhook/send?key=KEY``), the robot's reply
``{"errcode": 0}`` meaning delivered. The URL comes from ``--webhook`` or ``OTCLAB_ALERT_WEBHOOK``;
without one, alerts are recorded (``alerts`` table) with status ``skipped``. Every alert is
stored with its outcome; one that failed is retried by the next refresh, so an alert is never
silently lost (it may, after a crash between sending and recording, arrive twice).
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from sqlalchemy import insert, select

from ...store import tables as T
from ...store.db import now


def webhook_url(url: str | None = None) -> str | None:
    return url or os.environ.get("OTCLAB_ALERT_WEBHOOK") or None


def send(url: str, text: str, mentioned: list[str] | None = None, timeout: float = 5.0) -> tuple[str, str | None]:
    """(status, error): ``sent`` when the robot answered errcode 0, else ``failed``."""
    body = {"msgtype": "text", "text": {"content": text, **({"mentioned_list": mentioned} if mentioned else {})}}
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            reply = json.loads(r.read().decode("utf-8") or "{}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        return "failed", f"{type(e).__name__}: {e}"
    if reply.get("errcode", 0) != 0:
        return "failed", f"errcode {reply.get('errcode')}: {reply.get('errmsg')}"
    return "sent", None


def deliver(store, url: str | None) -> list[dict]:
    """Send every alert not yet sent (newest outcome per alert key not 'sent'); record outcomes."""
    url = webhook_url(url)
    a = T.alerts
    with store.connect() as conn:
        rows = conn.execute(select(a).order_by(a.c.id)).all()
    last: dict = {}
    for r in rows:
        last[r.key] = r
    todo = [r for r in last.values() if r.status in ("pending", "failed")]
    out = []
    for r in todo:
        if url is None:
            status, err = "skipped", "no webhook configured (--webhook or OTCLAB_ALERT_WEBHOOK)"
        else:
            status, err = send(url, r.message)
        with store.begin() as conn:
            conn.execute(insert(a).values(key=r.key, snapshot_id=r.snapshot_id, kind=r.kind, message=r.message,
                                          status=status, error=err, created_at=now()))
        out.append({"key": r.key, "status": status, "error": err})
    return out
