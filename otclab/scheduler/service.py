"""``otclab schedule serve``: the validation jobs on APScheduler, their job store in the platform's database.

Two jobs, kept in an ``SQLAlchemyJobStore`` on the store's URL (table ``apscheduler_jobs``) by
default, so the schedule survives a restart and ``otclab schedule list`` reads it from anywhere:
``validate-nightly`` (cron, default ``0 2 * * *`` Asia/Shanghai) and ``validate-on-change``
(every ``poll_s`` seconds). One worker thread runs them, one at a time (``max_instances=1``,
missed slots coalesced); a run's cells are limited to ``timeout`` seconds, so a hung kernel
fails its run and the scheduler goes on. On start, runs left ``running`` by a process that is
gone are marked ``interrupted`` (``governance.runs.recover``).
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from ..core.errors import InputError
from ..governance.runs import recover

log = logging.getLogger("otclab.scheduler")
TZ = "Asia/Shanghai"
NIGHTLY_CRON = "0 2 * * *"
POLL_S = 30.0
JOB_NIGHTLY, JOB_WATCH = "validate-nightly", "validate-on-change"


def nightly_trigger(cron: str | None = None, every_s: float | None = None):
    """The nightly job's trigger: ``cron`` (a crontab line), or every ``every_s`` seconds."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if every_s is not None:
        if every_s <= 0:
            raise InputError(f"must be a positive number of seconds; got {every_s}", "every")
        return IntervalTrigger(seconds=every_s, timezone=TZ)
    try:
        return CronTrigger.from_crontab(cron or NIGHTLY_CRON, timezone=TZ)
    except ValueError as e:
        raise InputError(f"not a crontab expression (minute hour day month weekday): {e}", "cron") from None


def build(store, out_dir, cron: str | None = None, every_s: float | None = None, poll_s: float = POLL_S,
          timeout: int = 600, webhook: str | None = None, jobstore_url: str | None = None, blocking: bool = True):
    """A scheduler (not started) with the two jobs in the job store on ``jobstore_url`` (default
    the store's own URL); existing jobs of the same ids are replaced by these settings."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.triggers.interval import IntervalTrigger

    if poll_s <= 0:
        raise InputError(f"must be a positive number of seconds; got {poll_s}", "poll")
    url = store.url.render_as_string(hide_password=False)
    kind = "blocking" if blocking else "background"
    mod = __import__(f"apscheduler.schedulers.{kind}", fromlist=["x"])
    cls = getattr(mod, f"{kind.capitalize()}Scheduler")
    sched = cls(timezone=TZ, jobstores={"default": SQLAlchemyJobStore(url=jobstore_url or url)},
                executors={"default": ThreadPoolExecutor(1)},
                job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None})
    kw = {"url": url, "out_dir": str(Path(out_dir)), "timeout": int(timeout), "webhook": webhook}
    sched.add_job("otclab.scheduler.jobs:nightly", nightly_trigger(cron, every_s), id=JOB_NIGHTLY,
                  name="validate every template", kwargs=kw, replace_existing=True)
    sched.add_job("otclab.scheduler.jobs:watch", IntervalTrigger(seconds=poll_s, timezone=TZ), id=JOB_WATCH,
                  name="validate changed templates", kwargs=kw, replace_existing=True,
                  next_run_time=dt.datetime.now(dt.timezone.utc))
    return sched


def serve(store, out_dir, **kw) -> None:
    """Recover interrupted runs, then run the jobs until SIGTERM or Ctrl-C."""
    import signal

    for rid in recover(store):
        log.warning("run %s was interrupted (its process is gone)", rid)
    sched = build(store, out_dir, blocking=True, **kw)
    signal.signal(signal.SIGTERM, lambda *_: sched.shutdown(wait=False))
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass


def jobs(store, jobstore_url: str | None = None) -> list[dict]:
    """The jobs in the job store: id, name, trigger, next run time (UTC)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    js = SQLAlchemyJobStore(url=jobstore_url or store.url.render_as_string(hide_password=False))
    js.start(None, "default")       # reads the table; adds nothing
    try:
        return [{"id": j.id, "name": j.name, "trigger": str(j.trigger),
                 "next_run": j.next_run_time.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
                 if j.next_run_time else None} for j in js.get_all_jobs()]
    finally:
        js.shutdown()
