"""The scheduler's jobs, as module-level functions (APScheduler keeps them in its database job
store by reference, ``otclab.scheduler.jobs:nightly``, with JSON-able arguments).

- ``nightly``: validate every template on the search path (trigger ``schedule``).
- ``watch``: validate each template whose notebook's version (the hash of its tagged cells) is
  neither shipped approved nor already validated, running or failed in the store (trigger
  ``file-change``); then retry validation alerts not yet delivered. The state it compares against
  is the store, not memory, so a notebook changed while the scheduler was down is validated
  after the restart, and each version once.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from ..governance import alerts, manifest
from ..governance.runs import AlreadyRunning
from ..governance.validation import validate_many, validate_one
from ..store.tables_governance import validation_runs as VR
from ..templates.loader import available

log = logging.getLogger("otclab.scheduler")
SEEN = ("pass", "fail", "timeout", "running")


def _store(url: str):
    from ..store.db import open_store

    return open_store(url)


def changed(store) -> list:
    """Notebook paths of the templates whose current version needs a validation run."""
    with store.connect() as conn:
        done = {(r.template, r.version) for r in conn.execute(
            select(VR.c.template, VR.c.version).where(VR.c.status.in_(SEEN)))}
    out = []
    for name, path in sorted(available().items()):
        try:
            version = manifest.notebook_version(path)
        except Exception as e:      # a notebook being written; the next poll reads it whole
            log.warning("cannot read %s: %s", path, e)
            continue
        if manifest.approved(name, version) is None and (name, version) not in done:
            out.append(path)
    return out


def nightly(url: str, out_dir: str, timeout: int, webhook: str | None = None) -> list[dict]:
    """Validate every template (trigger ``schedule``); the runs' rows."""
    rows = validate_many(_store(url), None, "schedule", out_dir, timeout=timeout, webhook=webhook)
    for r in rows:
        log.info("nightly: %s %s %s (run %s)", r["template"], r["version"], r["status"], r["id"])
    return rows


def watch(url: str, out_dir: str, timeout: int, webhook: str | None = None) -> list[dict]:
    """Validate the templates whose notebook changed (trigger ``file-change``); the runs' rows."""
    store = _store(url)
    rows = []
    for path in changed(store):
        try:
            rows.append(validate_one(store, path, "file-change", out_dir, timeout=timeout, webhook=webhook))
            log.info("file-change: %s %s %s (run %s)", path.stem, rows[-1]["version"], rows[-1]["status"],
                     rows[-1]["id"])
        except AlreadyRunning as e:
            log.info("%s", e.message)
    alerts.deliver(store, webhook)
    return rows
