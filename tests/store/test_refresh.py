"""The risk refresh on a demo store, on SQLite and PostgreSQL: one snapshot with its views and
limits, breaches recorded and alerted to a WeCom robot, failures recorded with the last good
snapshot kept, a failed alert retried, one refresh at a time, the scheduled service."""
from __future__ import annotations

import datetime as dt
import json
import threading

import numpy as np
import pytest
from sqlalchemy import select

from otclab.core.errors import InputError, OtcError
from otclab.store import risk
from otclab.store import tables as T
from otclab.store.db import Store
from otclab.workflows.demo import LAST_CLOSE, demo_tick, init_demo
from otclab.workflows.risk.feed import CST, FeedError, FolderFeed
from otclab.workflows.risk.refresh import run_refresh
from otclab.workflows.risk.service import serve
from webhook_server import RobotServer

FAST = dict(paths=1000, grid_paths=300)
AS_OF = dt.datetime(2025, 12, 31, 10, 30, tzinfo=CST)


@pytest.fixture
def demo(db_url, tmp_path):
    init_demo(tmp_path / "demo", trades=60, paths=500, url=db_url, log=lambda *_: None)
    store = Store(db_url)
    feed = tmp_path / "feed"
    demo_tick(store, feed, as_of=AS_OF)
    limits = tmp_path / "limits.json"
    limits.write_text(json.dumps({"book": {"cash_delta": 1e6, "vega": 1e12}}), encoding="utf-8")
    return store, FolderFeed(feed, settle=0.0), str(limits)


def _alerts(store):
    with store.connect() as conn:
        return [r._asdict() for r in conn.execute(select(T.alerts).order_by(T.alerts.c.id))]


def _runs(store, kind="refresh"):
    with store.connect() as conn:
        return [r._asdict() for r in conn.execute(select(T.runs).where(T.runs.c.kind == kind).order_by(T.runs.c.id))]


def test_refresh_writes_one_snapshot_with_views_and_alerts_a_breach(demo):
    store, feed, limits = demo
    with RobotServer() as robot:
        rep = run_refresh(store, feed, limits=limits, webhook=robot.url, **FAST)
    with store.connect() as conn:
        h = risk.header(conn, rep.snapshot_id)
        rows = risk.rows(conn, rep.snapshot_id)
        breaches = [r._asdict() for r in conn.execute(select(T.limit_breaches))]
    assert h["kind"] == "refresh" and h["valuation_date"] == LAST_CLOSE
    # the market's time survives the store in every backend (SQLite keeps no zone)
    assert h["market_time"] == AS_OF
    assert h["trades"] == len(rows) == rep.trades > 0
    assert h["totals"]["value"] == pytest.approx(rows["value"].sum(), rel=1e-12)
    assert h["totals"]["cash_delta"] == pytest.approx(rows["cash_delta"].sum(), rel=1e-12)
    views = h["views"]
    assert set(views) >= {"exposures", "grid", "watch", "calendar", "limits", "explain", "interval_min"}
    assert views["explain"]["previous_snapshot_id"] == 1          # the demo's end of day
    assert sum(e["trades"] for e in views["exposures"]) == len(rows)
    g = views["grid"]
    assert len(g["spot_shifts"]) == 9 and len(g["vol_shifts"]) == 3 and len(g["book"]) == 9 and len(g["book"][0]) == 3
    assert g["book"][4][1] == pytest.approx(0.0, abs=1e-6 * abs(h["totals"]["value"]))     # no shift, no P&L
    assert set(g["ladders"]) == {"book", *rows["underlying"].unique()}
    lim = {(u["scope"], u["measure"]): u for u in views["limits"]}
    assert lim[("book", "cash_delta")]["status"] == "breach"
    assert lim[("book", "vega")]["status"] == "ok"
    assert [(b["scope"], b["measure"], b["snapshot_id"]) for b in breaches] == [("book", "cash_delta", rep.snapshot_id)]
    # the breach reached the robot as a WeCom text message, and its outcome is recorded
    assert len(robot.messages) == 1 and robot.messages[0]["body"]["msgtype"] == "text"
    assert "风险限额突破" in robot.texts()[0] and f"risk snapshot {rep.snapshot_id}" in robot.texts()[0]
    assert [a["status"] for a in _alerts(store)] == ["pending", "sent"]
    assert [r["status"] for r in _runs(store)] == ["ok"]


def test_a_failed_refresh_is_recorded_alerted_and_keeps_the_last_snapshot(demo, tmp_path):
    store, feed, limits = demo
    good = run_refresh(store, feed, **FAST)
    (tmp_path / "feed" / "market-20251231T110000.json").write_text("{not json", encoding="utf-8")
    with RobotServer() as robot, pytest.raises(FeedError, match="market-20251231T110000.json"):
        run_refresh(store, feed, webhook=robot.url, **FAST)
    assert [r["status"] for r in _runs(store)] == ["ok", "failed"]
    assert "market-20251231T110000.json" in _runs(store)[-1]["error"]
    assert any("风险刷新失败" in t for t in robot.texts())
    with store.connect() as conn:
        assert risk.latest_id(conn, "refresh") == good.snapshot_id


def test_an_alert_the_robot_refused_is_sent_by_the_next_refresh(demo):
    store, feed, limits = demo
    with RobotServer() as robot:
        robot.reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
        first = run_refresh(store, feed, limits=limits, webhook=robot.url, **FAST)
        assert [a["status"] for a in first.alerts] == ["failed"] and "93000" in first.alerts[0]["error"]
        robot.reply = {"errcode": 0, "errmsg": "ok"}
        second = run_refresh(store, feed, limits=limits, webhook=robot.url, **FAST)
    keys = {a["key"]: a["status"] for a in second.alerts}
    assert keys == {f"breach:{first.snapshot_id}:book:cash_delta": "sent",
                    f"breach:{second.snapshot_id}:book:cash_delta": "sent"}
    assert len(robot.messages) == 3        # refused once, then both delivered


def test_without_a_webhook_alerts_are_recorded_as_skipped(demo, monkeypatch):
    store, feed, limits = demo
    monkeypatch.delenv("OTCLAB_ALERT_WEBHOOK", raising=False)
    rep = run_refresh(store, feed, limits=limits, **FAST)
    assert [a["status"] for a in rep.alerts] == ["skipped"] and "OTCLAB_ALERT_WEBHOOK" in rep.alerts[0]["error"]


def test_never_two_refreshes_at_once(demo):
    store, feed, _ = demo
    held, release = threading.Event(), threading.Event()

    def hold():
        with store.lock("refresh"):
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(10)
    try:
        with pytest.raises(OtcError, match="another risk refresh is running"):
            run_refresh(store, feed, **FAST)
    finally:
        release.set()
        t.join()
    assert _runs(store) == []       # refused before it started: nothing to record


def test_the_service_refreshes_on_its_schedule(demo):
    store, feed, _ = demo
    seen = []
    runs = serve(store, feed, every_min=0.02, max_runs=2, on_report=lambda rep, err: seen.append((rep, err)),
                 paths=500, grid=False)
    assert runs == 2 and all(err is None for _, err in seen)
    ids = [rep.snapshot_id for rep, _ in seen]
    assert ids[1] > ids[0]
    assert [r["status"] for r in _runs(store)] == ["ok", "ok"]


def test_the_service_revalues_the_grid_only_when_the_last_is_old_enough(demo):
    store, feed, _ = demo
    seen = []
    kw = dict(paths=500, grid_paths=200, spot_steps=3, vol_steps=2)
    serve(store, feed, every_min=0.01, max_runs=3, grid_every_min=60, on_report=lambda rep, err: seen.append(rep),
          **kw)
    assert [("grid_s" in rep.timing) for rep in seen] == [True, False, False]
    with store.connect() as conn:
        grids = [risk.header(conn, rep.snapshot_id)["views"]["grid"] for rep in seen]
    first = seen[0].snapshot_id
    # the refreshes between carry the first one's grid, saying whose it is
    assert [g.get("from_snapshot") for g in grids[1:]] == [first, first]
    assert grids[1]["book"] == grids[0]["book"]
    # no interval: a grid on every refresh
    seen.clear()
    serve(store, feed, every_min=0.01, max_runs=2, on_report=lambda rep, err: seen.append(rep), **kw)
    assert [("grid_s" in rep.timing) for rep in seen] == [True, True]


def test_a_refresh_with_the_days_cache_sees_a_cancelled_trade_and_equals_one_without(demo):
    from otclab.workflows.trades import cancel

    store, feed, _ = demo
    cache: dict = {}
    first = run_refresh(store, feed, grid=False, cache=cache, **FAST)
    assert {"_book", "_plans", "_eod_rows", "_flows"} <= set(cache)
    with store.connect() as conn:
        gone = risk.rows(conn, first.snapshot_id)["trade_id"].iloc[0]
    cancel(store, gone, "booked in error", recorded_by="ops")
    again = run_refresh(store, feed, grid=False, cache=cache, **FAST)
    fresh = run_refresh(store, feed, grid=False, cache=None, **FAST)
    assert again.trades == fresh.trades == first.trades - 1
    with store.connect() as conn:
        a, b = risk.rows(conn, again.snapshot_id), risk.rows(conn, fresh.snapshot_id)
        ex_a, ex_b = (risk.header(conn, s)["views"]["explain"] for s in (again.snapshot_id, fresh.snapshot_id))
    assert gone not in set(a["trade_id"])
    assert list(a["trade_id"]) == list(b["trade_id"])
    np.testing.assert_allclose(a["value"].to_numpy(float), b["value"].to_numpy(float), rtol=1e-12, atol=1e-9)
    assert ex_a == ex_b


def test_service_settings_are_checked(demo):
    store, feed, _ = demo
    with pytest.raises(InputError, match="crontab"):
        serve(store, feed, cron="every ten minutes", max_runs=1)
    with pytest.raises(InputError, match="between 0 and 1440"):
        serve(store, feed, every_min=-5, max_runs=1)
    with pytest.raises(InputError, match="grid_every|between 0 and 1440"):
        serve(store, feed, every_min=1, grid_every_min=0, max_runs=1)


def test_the_refresh_scales_out_on_dask_with_the_same_numbers(demo):
    distributed = pytest.importorskip("distributed")
    store, feed, _ = demo
    local = run_refresh(store, feed, **FAST)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        spread = run_refresh(store, feed, dask=c.scheduler_address, **FAST)
    for k in ("value", "cash_delta", "cash_gamma_1pct", "vega", "theta", "rho"):
        assert spread.totals[k] == pytest.approx(local.totals[k], rel=1e-9, abs=1e-6), k
    with store.connect() as conn:
        g0, g1 = (risk.header(conn, r.snapshot_id)["views"]["grid"]["book"] for r in (local, spread))
    assert np.allclose(g1, g0, rtol=1e-9, atol=1e-6)


def test_a_trade_maturing_today_is_worth_its_last_observation_at_the_spot(demo, tmp_path):
    """Intraday on its maturity date a trade has nothing left for a pricer: the refresh values it
    at what its maturity pays at the current spot, with the delta of that payoff, and the end of
    day's lifecycle pays exactly that when the close is the spot."""
    from otclab.core.calendar import sse_calendar
    from otclab.workflows import trades as trade_cmds
    from otclab.store.fixings import import_fixings
    from otclab.workflows.demo import UNDERLYINGS, base_market
    from otclab.workflows.lifecycle.run import run_lifecycle

    store, _, _ = demo
    day = sse_calendar().add_trading_days(LAST_CLOSE, 1)                 # the first trading day of 2026
    s0 = 4000.0
    spots = {u: 100.0 for u in UNDERLYINGS} | {"000300.SH": 1.05 * s0}
    trade_cmds.book(store, [{
        "trade_id": "EXP1", "template": "vanilla", "direction": "sell", "trade_date": "2025-01-02",
        "counterparty": {"id": "CP024", "name": "上海华睿资产管理有限公司", "uscc": "913101155486305263"},
        "terms": {"underlying": "000300.SH", "notional": 1e7, "initial_price": s0, "start_date": "2025-01-06",
                  "maturity_date": day.isoformat(), "option_type": "call", "strike": 1.0}}], recorded_by="test")
    feed = tmp_path / "feed-next"
    feed.mkdir()
    (feed / "m.json").write_text(json.dumps({"as_of": f"{day}T10:00:00+08:00", **base_market(day, spots)}),
                                 encoding="utf-8")
    rep = run_refresh(store, FolderFeed(feed, settle=0), paths=500, spot_steps=5, vol_steps=3)
    with store.connect() as conn:
        rows = risk.rows(conn, rep.snapshot_id).set_index("trade_id")
        h = risk.header(conn, rep.snapshot_id)
    grid = h["views"]["grid"]
    assert "total_s" in h["settings"]["timing"]          # the pricer's timing survives the merge
    r = rows.loc["EXP1"]
    assert r["engine"] == "expiry" and r["error"] is None
    assert r["value"] == pytest.approx(-0.05 * 1e7)                  # the desk sold a call 5% in the money
    assert r["cash_delta"] == pytest.approx(-1.05 * 1e7)             # -notional * S/S0
    assert r["cash_gamma_1pct"] == pytest.approx(0.0, abs=1e-6) and r["vega"] == 0.0
    assert rep.engines.get("failed", 0) == 0
    assert "EXP1" in {t for t in rows.index}
    # the end of day, with the close equal to that spot, pays what the refresh showed
    csv = "date,underlying,close\n" + "".join(f"{day},{u},{v}\n" for u, v in spots.items())
    import_fixings(store, csv, "today.csv")
    run_lifecycle(store, day)
    with store.connect() as conn:
        paid = conn.execute(select(T.cashflows.c.amount).where(T.cashflows.c.trade_id == "EXP1",
                                                               T.cashflows.c.event_date == day)).scalars().all()
    assert sum(paid) == pytest.approx(r["value"], rel=1e-12)
    assert len(grid["spot_shifts"]) == 5
