"""One risk refresh: the latest market, every live trade valued with Greeks, the scenario grid,
the dashboard's views and the limits, written as one immutable ``refresh`` risk snapshot.

Steps (``run_refresh``): take the newest market from the feed (``feed.py``) and store it under its
content hash; value every trade live on that market's date with its pinned template (an
observation due today, whose close is not known yet, is taken at the current spot); revalue the
spot × vol grid (batched PDE on a GPU, fused Monte Carlo on a CPU unless told otherwise); compute
the views (exposures, grid and ladders, barrier watch list, the next days' calendar, the P&L
explain against the last end of day) and the limit utilisation; write the snapshot, its rows,
its breaches and the pending alerts in one transaction, then send the alerts. One refresh at a
time per store (a lock); a failed refresh is recorded (``runs``, status failed, with its error),
raises an alert and leaves the last good snapshot as it was.
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import insert, select

from ...core.calendar import sse_calendar
from ...core.errors import OtcError
from ...store import markets, risk
from ...store import tables as T
from ...store.db import Store, now
from ..eod.explain import explain_rows
from ..eod.run import DEFAULT_SEED, _totals, live_on, pricing_contracts, store_snapshot, valuation_rows
from ..lifecycle.run import plans_for
from . import alerts as alerting
from .expiry import expiry_frame_rows, expiry_grid_rows, maturing
from .feed import CST
from .limits import load_limits, utilisation
from .views import calendar, exposures, grid_view, watch_list

GRIDS = {"cpu": (np.linspace(-0.2, 0.2, 9), np.array([-0.02, 0.0, 0.02])),
         "gpu": (np.linspace(-0.3, 0.3, 41), np.linspace(-0.05, 0.05, 9))}
DEFAULT_INTERVAL_MIN = 10


class RefreshError(OtcError):
    """A refresh could not run."""


@dataclass
class RefreshReport:
    snapshot_id: int
    run_id: int
    date: dt.date
    market_snapshot_id: str
    market_time: dt.datetime
    source: str
    trades: int
    totals: dict
    engines: dict
    wall_s: float
    timing: dict
    breaches: list = field(default_factory=list)
    alerts: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"snapshot_id": self.snapshot_id, "run_id": self.run_id, "date": self.date.isoformat(),
                "market_snapshot_id": self.market_snapshot_id, "market_time": self.market_time.isoformat(),
                "source": self.source, "trades": self.trades, "engines": self.engines, "wall_s": round(self.wall_s, 3),
                "timing": self.timing, "totals": {k: v for k, v in self.totals.items() if k != "by_underlying"},
                "breaches": self.breaches, "alerts": self.alerts}


def _grid(device: str, spot_steps: int | None, spot_range: float | None, vol_steps: int | None,
          vol_range: float | None):
    spots, vols = GRIDS["gpu" if device == "gpu" else "cpu"]
    if spot_steps or spot_range:
        spots = np.linspace(-(spot_range or float(spots.max())), spot_range or float(spots.max()), spot_steps or len(spots))
    if vol_steps or vol_range:
        vols = np.linspace(-(vol_range or float(vols.max())), vol_range or float(vols.max()), vol_steps or len(vols))
    return spots, vols


def run_refresh(store: Store, feed, paths: int = 20_000, seed: int = DEFAULT_SEED, device: str | None = None,
                grid: bool = True, grid_method: str | None = None, grid_paths: int | None = None,
                spot_steps: int | None = None, spot_range: float | None = None, vol_steps: int | None = None,
                vol_range: float | None = None, limits: str | None = None, webhook: str | None = None,
                interval_min: float = DEFAULT_INTERVAL_MIN, wait: float = 0.0, progress=None,
                dask: str | None = None, cache: dict | None = None) -> RefreshReport:
    """One refresh (module docstring); raises on failure after recording it. ``dask``: the address
    of a Dask scheduler (``tcp://host:8786``) to value the book and the grid on its workers.
    ``cache``: a dict the caller keeps between refreshes (the service does): contracts compiled
    on an earlier refresh of the same valuation date only re-read the market (``compile_book``)."""
    from ...book.pricing import price_book
    from ...book.scenarios import scenario_grid
    from ...core.backend import default_device
    from ...core.limits import check_paths

    paths = check_paths(paths)
    dev = device or default_device()
    lim = load_limits(limits)
    started = now()
    t0 = time.perf_counter()
    with store.lock("refresh", wait=wait, what="risk refresh"):
        try:
            snap, market_time, source = feed.latest()
            d = snap.valuation_date
            timing = {}
            cache = _day_cache(cache, d)
            with store.begin() as conn:
                trades = _live(conn, d, cache)
                if not trades:
                    raise RefreshError(f"no live trades on {d}; nothing to value", "date")
                msid = markets.put(conn, snap, f"feed:{source}")
                spots = {u: snap.spot(u) for u in {t.record.underlying for t in trades}}
                cache = _day_cache(cache, d, len(trades))
                plans, _ = plans_for(conn, trades, None if cache is None else cache.setdefault("_plans", {}))
                contracts = pricing_contracts(conn, trades, d, today=spots, plans=plans)
            t1 = time.perf_counter()
            # a trade maturing today has nothing left for a pricer: its last observation at the spot
            due = set(maturing(trades, d))
            rest = [c for i, c in enumerate(contracts) if i not in due]
            due_trades = [t for i, t in enumerate(trades) if i in due]
            kw = dict(paths=paths, seed=seed, greeks=True, device=dev, engine="auto", errors="record")
            if not rest:
                df = pd.DataFrame(columns=["id", "value", "engine", "error"])
            elif dask:
                from ...book.distributed import price_book_dask

                df = price_book_dask(rest, snap, address=dask, **kw)
            else:
                df = price_book(rest, snap, task_progress=progress, cache=cache, **kw)
            if due:
                with store.connect() as conn:
                    extra = pd.DataFrame(expiry_frame_rows(conn, due_trades, plans, snap, d))
                attrs = dict(df.attrs)          # the pricer's timing, which concat drops
                df = pd.concat([df, extra], ignore_index=True).set_index("id").loc[
                    [t.trade_id for t in trades]].reset_index()
                df.attrs.update(attrs)
            timing["value_s"] = time.perf_counter() - t1
            rows = valuation_rows(trades, df, snap)
            totals = _totals(rows)
            rows_df = pd.DataFrame(rows)
            long = None
            if grid:
                t2 = time.perf_counter()
                ss, vs = _grid(dev, spot_steps, spot_range, vol_steps, vol_range)
                method = grid_method or ("auto" if dev == "gpu" else "mc")
                ok = [c for i, (c, r) in enumerate(zip(contracts, rows)) if not r["error"] and i not in due]
                gkw = dict(paths=grid_paths or min(paths, 4000), seed=seed, device=dev, method=method)
                if dask:
                    from ...book.distributed import scenario_grid_dask

                    long, _ = scenario_grid_dask(ok, snap, address=dask, spot_shifts=ss, vol_shifts=vs, **gkw)
                else:
                    long, _ = scenario_grid(ok, snap, ss, vs, cache=cache, **gkw)
                if due:
                    with store.connect() as conn:
                        extra = pd.DataFrame(expiry_grid_rows(conn, due_trades, plans, snap, d, ss, vs))
                    long = pd.concat([long, extra], ignore_index=True) if len(extra) else long
                timing["grid_s"] = time.perf_counter() - t2
                timing["grid"] = {"spot_steps": len(ss), "vol_steps": len(vs), "method": method}
            cal = sse_calendar()
            t3 = time.perf_counter()
            views = {"exposures": exposures(rows_df, cal, d), "grid": grid_view(long, rows_df),
                     "watch": watch_list(trades, plans, rows_df, snap, cal, d),
                     "calendar": calendar(trades, plans, rows_df, cal, d),
                     "limits": utilisation(totals, lim), "interval_min": interval_min}
            with store.connect() as conn:
                views["explain"] = _explain(conn, rows_df, d, msid, snap, cache)
                if not views["grid"]:
                    views["grid"] = _last_grid(conn, d)
            timing["views_s"] = time.perf_counter() - t3
            engines = dict(Counter(r["engine"] for r in rows))
            wall = time.perf_counter() - t0
            timing["total_s"] = wall
            settings = {"engine": "auto", "paths": paths, "seed": seed, "device": dev, "engines": engines,
                        "grid": timing.get("grid"), "source": source, "timing": df.attrs.get("timing", {})}
            run = dict(kind="refresh", status="ok", from_date=d, through_date=d, started_at=started, finished_at=now(),
                       details={"trades": len(rows), "source": source, **{k: v for k, v in timing.items()
                                                                          if k != "grid"}})
            breaches = [u for u in views["limits"] if u["status"] == "breach"]
            with store.begin() as conn:
                run_id, sid = store_snapshot(conn, "refresh", d, msid, rows, settings, totals, wall, run, views=views,
                                             market_time=market_time)
                ts = now()
                if breaches:
                    conn.execute(insert(T.limit_breaches), [
                        {"snapshot_id": sid, "scope": b["scope"], "measure": b["measure"], "value": b["value"],
                         "limit": b["limit"], "utilisation": b["utilisation"], "created_at": ts} for b in breaches])
                    conn.execute(insert(T.alerts), [
                        {"key": f"breach:{sid}:{b['scope']}:{b['measure']}", "snapshot_id": sid, "kind": "breach",
                         "message": _breach_text(b, sid, market_time), "status": "pending", "created_at": ts}
                        for b in breaches])
        except Exception as e:
            _failed(store, started, e)
            alerting.deliver(store, webhook)
            raise
    sent = alerting.deliver(store, webhook)
    return RefreshReport(sid, run_id, d, msid, market_time, source, len(rows), totals, engines, wall, timing,
                         breaches=breaches, alerts=sent)


def _day_cache(cache: dict | None, d, n: int | None = None) -> dict | None:
    """``cache`` emptied when the valuation date changes or (given the book's size ``n``) stale
    entries (trades whose state moved, trades gone) outgrow the book; None stays None."""
    if cache is None:
        return None
    if cache.get("_date") != d or (n is not None and len(cache) > 3 * n + 10):
        cache.clear()
        cache["_date"] = d
    return cache


def _memo(cache: dict | None, name: str, key, make):
    """``make()``, or what it returned for the same ``key`` on an earlier refresh of the day."""
    if cache is not None and name in cache and cache[name][0] == key:
        return cache[name][1]
    value = make()
    if cache is not None:
        cache[name] = (key, value)
    return value


def _live(conn, d, cache: dict | None):
    """``live_on(conn, d)``, reused between refreshes while no trade version and no lifecycle event
    has been added: both tables are append-only and a trade's status and state derive from them."""
    from sqlalchemy import func

    tv, ev = T.trade_versions, T.trade_events
    key = tuple(conn.execute(select(select(func.max(tv.c.id)).scalar_subquery(),
                                    select(func.max(ev.c.id)).scalar_subquery())).one())
    return _memo(cache, "_book", key, lambda: live_on(conn, d))


def _explain(conn, rows_df: pd.DataFrame, d, msid: str, snap, cache: dict | None = None) -> dict | None:
    """The P&L since the last end-of-day snapshot before or on ``d`` (totals and by underlying).
    The end of day's rows (an immutable snapshot) and the cash flows known through ``d`` (an
    append-only table) are read once a day while unchanged."""
    from sqlalchemy import func

    try:
        s0 = risk.header(conn, kind="eod", before=d + dt.timedelta(days=1))
    except OtcError:
        return None
    r0 = _memo(cache, "_eod_rows", s0["id"], lambda: risk.rows(conn, s0["id"]))
    flows_key = conn.execute(select(func.max(T.cashflows.c.id))).scalar()
    flows = _memo(cache, "_flows", flows_key, lambda: risk.cashflows_between(conn, None, d))
    s1 = {"id": None, "valuation_date": d, "market_snapshot_id": msid}
    rows = rows_df.copy()
    ex = explain_rows(conn, s0, r0, s1, rows, snap.to_dict(), flows=flows)
    return {"previous_snapshot_id": s0["id"], "previous_date": str(s0["valuation_date"]), "total": ex.total,
            "by_underlying": ex.by_underlying.reset_index().replace({np.nan: None}).to_dict(orient="records")}


def _last_grid(conn, d) -> dict:
    """A refresh without a grid shows the last one of the day, saying whose it is (the dashboard
    names the snapshot and its market time), rather than none."""
    rs = T.risk_snapshots
    q = (select(rs.c.id, rs.c.views, rs.c.market_time).where(rs.c.kind == "refresh", rs.c.valuation_date == d)
         .order_by(rs.c.id.desc()).limit(20))
    for sid, views, mt in conn.execute(q):
        g = (views or {}).get("grid") or {}
        if g:
            return g if g.get("from_snapshot") else {**g, "from_snapshot": sid,
                                                       "from_market_time": mt.astimezone(CST).isoformat() if mt else None}
    return {}


def _breach_text(b: dict, sid: int, market_time) -> str:
    scope = "book" if b["scope"] == "book" else b["scope"]
    value = f"{b['value']:.1%}" if b["measure"] == "notional_concentration" else f"{b['value']:,.0f}"
    limit = f"{b['limit']:.1%}" if b["measure"] == "notional_concentration" else f"{b['limit']:,.0f}"
    return (f"【风险限额突破】{scope} {b['measure']} {value} / limit {limit} ({b['utilisation']:.0%}); "
            f"risk snapshot {sid}, market {market_time:%Y-%m-%d %H:%M}")


def _failed(store: Store, started, e: Exception) -> None:
    msg = f"{type(e).__name__}: {e}".splitlines()[0][:500]
    with store.begin() as conn:
        run_id = conn.execute(insert(T.runs).values(kind="refresh", status="failed", started_at=started,
                                                    finished_at=now(), error=msg)).inserted_primary_key[0]
        conn.execute(insert(T.alerts).values(key=f"refresh_failed:{run_id}", kind="refresh_failed",
                                             message=f"【风险刷新失败】risk refresh failed, the last good snapshot stays: {msg}",
                                             status="pending", created_at=now()))
