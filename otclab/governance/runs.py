"""Validation runs in the store: started before the kernel starts, finished once, never two at once.

``start`` inserts the run ``running`` with its owner (``host:pid``); the partial unique index on
(template, version) where running makes a second start of the same version fail in the database,
whichever process tries. While it runs the owner refreshes ``heartbeat_at``. ``recover`` marks a
run ``interrupted`` when its owner is gone (a process of this host that no longer exists, or a
heartbeat older than ``stale_s``): after a crash, the restart finds the run failed, not running.
"""
from __future__ import annotations

import os
import socket
import threading

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from ..store.db import now
from ..store.tables_governance import validation_runs as VR
from .states import GovernanceError

HEARTBEAT_S = 5.0
STALE_S = 120.0
FINAL = ("pass", "fail", "timeout", "interrupted")


class AlreadyRunning(GovernanceError):
    """A validation of the same template version is running (the message names the run)."""


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(own: str) -> bool | None:
    """Whether the owner process exists: True/False for one of this host, None for another host."""
    host, _, pid = own.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(store, stale_s: float = STALE_S, name: str | None = None, version: str | None = None) -> list[int]:
    """Mark runs whose owner is gone ``interrupted``; returns their ids."""
    t = now()
    q = select(VR.c.id, VR.c.owner, VR.c.heartbeat_at).where(VR.c.status == "running")
    if name is not None:
        q = q.where(VR.c.template == name, VR.c.version == version)
    done = []
    with store.begin() as conn:
        for rid, own, beat in conn.execute(q).all():
            alive = _alive(own)
            if alive is False or (alive is None and (t - beat).total_seconds() > stale_s):
                res = conn.execute(update(VR).where(and_(VR.c.id == rid, VR.c.status == "running")).values(
                    status="interrupted", finished_at=t,
                    error=f"the process running it ({own}) stopped before it finished"))
                if res.rowcount:
                    done.append(rid)
    return done


def start(store, name: str, version: str, notebook: str, trigger: str) -> int:
    """Insert a ``running`` run of ``name`` at ``version``; its id, or ``AlreadyRunning``."""
    recover(store, name=name, version=version)
    t = now()
    try:
        with store.begin() as conn:
            return conn.execute(VR.insert().values(template=name, version=version, notebook=notebook, status="running",
                                                   trigger=trigger, owner=owner(), started_at=t, heartbeat_at=t)
                                ).inserted_primary_key[0]
    except IntegrityError:
        with store.connect() as conn:
            r = conn.execute(select(VR).where(VR.c.template == name, VR.c.version == version,
                                              VR.c.status == "running")).first()
        who = f"run {r.id} by {r.owner}, triggered by {r.trigger}, since {r.started_at:%Y-%m-%d %H:%M:%S} UTC" if r else "?"
        raise AlreadyRunning(f"template {name} version {version} is being validated now ({who}); "
                             "not starting a second run", "template") from None


def finish(store, run_id: int, status: str, **values) -> bool:
    """Record the outcome of a running run once; False if it was no longer running (recovered)."""
    assert status in FINAL
    with store.begin() as conn:
        res = conn.execute(update(VR).where(VR.c.id == run_id, VR.c.status == "running")
                           .values(status=status, finished_at=now(), **values))
    return res.rowcount == 1


class Heartbeat:
    """Refresh a run's ``heartbeat_at`` every ``every_s`` seconds in a thread, while in a ``with``."""

    def __init__(self, store, run_id: int, every_s: float = HEARTBEAT_S):
        self.store, self.run_id, self.every_s = store, run_id, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"heartbeat-{run_id}")

    def _beat(self):
        while not self._stop.wait(self.every_s):
            try:
                with self.store.begin() as conn:
                    conn.execute(update(VR).where(VR.c.id == self.run_id, VR.c.status == "running")
                                 .values(heartbeat_at=now()))
            except Exception:       # a missed beat only makes the run look older; the run goes on
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=self.every_s + 5)
