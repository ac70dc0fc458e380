"""``otclab risk serve``: the refresh on a schedule, in process (APScheduler).

Every N minutes (default 10) or on a cron expression (``*/10 9-15 * * 1-5``, Asia/Shanghai), one
``run_refresh``; a run never overlaps the previous one (the scheduler's ``max_instances=1`` and
the store's refresh lock, which also keeps a second service on the same store from running at
the same time); a missed slot is not run twice (``coalesce``). A failed refresh is recorded and
alerted by ``run_refresh`` and the service carries on; SIGTERM or Ctrl-C stops it after the
refresh in progress. The service keeps nothing in memory that matters: a restart continues from
the store.

``grid_every_min``: the spot x vol grid (seconds where the valuation takes about one) is revalued
only on a refresh that finds the last grid at least that many minutes old (or of another
valuation date, or none since the service started); the refreshes between carry the last grid,
named with its snapshot and market time on the dashboard. Default: a grid on every refresh.
"""
from __future__ import annotations

import datetime as dt
import logging
import signal

from .refresh import DEFAULT_INTERVAL_MIN, run_refresh

log = logging.getLogger("otclab.risk")
TZ = "Asia/Shanghai"


def trigger(every_min: float | None, cron: str | None):
    """The APScheduler trigger of ``--every`` minutes or ``--cron`` (a crontab line)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from ...core.errors import InputError

    if cron:
        try:
            return CronTrigger.from_crontab(cron, timezone=TZ)
        except ValueError as e:
            raise InputError(f"not a crontab expression (minute hour day month weekday): {e}", "cron") from None
    every = every_min or DEFAULT_INTERVAL_MIN
    if not 0 < every <= 24 * 60:
        raise InputError(f"must be between 0 and 1440 minutes; got {every}", "every")
    return IntervalTrigger(minutes=every, timezone=TZ)


def serve(store, feed, every_min: float | None = None, cron: str | None = None, first_now: bool = True,
          on_report=None, max_runs: int | None = None, grid_every_min: float | None = None, **refresh_kw) -> int:
    """Run refreshes until stopped (or ``max_runs`` of them, for tests); returns how many ran."""
    import time

    from apscheduler.schedulers.blocking import BlockingScheduler

    from ...core.errors import InputError

    trig = trigger(every_min, cron)
    if grid_every_min is not None and not 0 < grid_every_min <= 24 * 60:
        raise InputError(f"must be between 0 and 1440 minutes; got {grid_every_min}", "grid_every")
    grid_wanted = refresh_kw.pop("grid", True)
    last_grid: dict = {}        # valuation date and monotonic time of the last refresh with a grid
    sched = BlockingScheduler(timezone=TZ)
    count = {"runs": 0}
    interval = every_min or DEFAULT_INTERVAL_MIN
    cache: dict = {}        # contracts compiled today: later refreshes of the day re-read the market only

    def grid_due() -> bool:
        if not grid_wanted or grid_every_min is None or not last_grid:
            return grid_wanted
        return time.monotonic() - last_grid["at"] >= grid_every_min * 60 - 1e-6

    def job():
        try:
            with_grid = grid_due()
            rep = run_refresh(store, feed, interval_min=interval, cache=cache, grid=with_grid, **refresh_kw)
            if with_grid:
                last_grid.update(at=time.monotonic(), date=rep.date)
            elif last_grid and last_grid.get("date") != rep.date:
                last_grid.clear()       # a new day: the next refresh revalues the grid
            if on_report:
                on_report(rep, None)
        except Exception as e:          # recorded and alerted by run_refresh; the service goes on
            log.error("refresh failed: %s", e)
            if on_report:
                on_report(None, e)
        count["runs"] += 1
        if max_runs is not None and count["runs"] >= max_runs:
            sched.shutdown(wait=False)

    sched.add_job(job, trig, max_instances=1, coalesce=True, misfire_grace_time=None,
                  next_run_time=dt.datetime.now(dt.timezone.utc) if first_now else None)

    def stop(*_):
        sched.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return count["runs"]
