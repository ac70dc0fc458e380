"""The risk dashboard in a real browser (Playwright driving Debian's Chromium): the refresh
service runs on a demo store, Voila serves dashboards/risk.ipynb, a local server plays the WeCom
group robot. The header equals the snapshot's numbers; a drill-down reaches a trade; a new
snapshot shows without a reload; an old market shows the stale badge; a breach shows and its
alert reaches the robot."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from otclab.dashboards.browser import chromium_path, launch
from otclab.dashboards.voila import VoilaServer
from otclab.store import risk
from otclab.store.db import Store
from served import stop_service
from served import wait_until as _wait
from otclab.workflows.demo import demo_tick, init_demo
from otclab.workflows.risk.feed import CST
from webhook_server import RobotServer

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")

# a refresh every 30 s (the badge turns stale after two intervals, 60 s), on a small grid so that one
# refresh takes seconds even on a loaded 2-core machine
EVERY_MIN = "0.5"
KEYS = ("value", "cash_delta", "cash_gamma_1pct", "vega", "theta", "rho")
# the header's snapshot id and numbers read in one go, so a snapshot landing in between cannot mix them
READ_HEADER = """() => {
  const id = document.querySelector('.otc-snapshot-id');
  const cards = {};
  for (const k of %s) { const c = document.querySelector('.otc-' + k + ' .v'); cards[k] = c && c.textContent; }
  return {id: id && Number(id.textContent), cards,
          stale: !!document.querySelector('.otc-stale'), fresh: !!document.querySelector('.otc-fresh')};
}""" % json.dumps(list(KEYS))


@pytest.fixture(scope="module")
def desk(tmp_path_factory, request):
    """A demo store with the refresh service and Voila running, a robot listening, a browser."""
    tmp = tmp_path_factory.mktemp("desk")
    failed_before = request.session.testsfailed
    url = f"sqlite:///{tmp / 'otclab.db'}"
    init_demo(tmp, trades=60, paths=500, log=lambda *_: None)
    store = Store(url)
    feed = tmp / "feed"
    demo_tick(store, feed, as_of=dt.datetime.now(CST) - dt.timedelta(hours=3))      # an old market
    limits = tmp / "limits.json"
    limits.write_text(json.dumps({"book": {"cash_delta": 1e6}}), encoding="utf-8")
    with RobotServer() as robot:
        service_log = open(tmp / "service.log", "wb")
        service = subprocess.Popen(
            [sys.executable, "-m", "otclab.cli.main", "risk", "serve", "--feed", str(feed), "--every", EVERY_MIN,
             "--paths", "1000", "--grid-paths", "300", "--spot-steps", "5", "--vol-steps", "3", "--limits", str(limits), "--webhook", robot.url, "--db", url],
            stdout=service_log, stderr=subprocess.STDOUT)
        try:
            def first():
                with store.connect() as conn:
                    return risk.latest_id(conn, "refresh")
            _wait(lambda: first() or service.poll() is not None, 120, "the first refresh")
            assert service.poll() is None, (tmp / "service.log").read_text()
            with VoilaServer(url, env={"OTCLAB_DASHBOARD_POLL": "0.5"}, log=tmp / "voila.log") as voila, \
                    playwright.sync_playwright() as p:
                browser = launch(p)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(voila.url)
                page.locator(".otc-snapshot-id").wait_for(timeout=90_000)
                yield {"store": store, "feed": feed, "page": page, "robot": robot, "service": service, "tmp": tmp}
                browser.close()
        finally:
            rc = stop_service(service, service_log, tmp, ("service.log", "voila.log"),
                              request.session.testsfailed > failed_before)
    assert rc == 0, f"the service did not stop cleanly on SIGTERM ({rc}): {(tmp / 'service.log').read_text()[-2000:]}"


def _header(desk) -> dict:
    return desk["page"].evaluate(READ_HEADER)


def _refreshed_on(desk, at: dt.datetime) -> int | None:
    """The id of a refresh snapshot whose market is the one of ``at`` or later, else None."""
    from sqlalchemy import select

    from otclab.store.tables import risk_snapshots as rs

    with desk["store"].connect() as conn:
        return conn.execute(select(rs.c.id).where(rs.c.kind == "refresh", rs.c.market_time >= at)
                            .order_by(rs.c.id).limit(1)).scalar()


def _log_tail(desk) -> str:
    return (desk["tmp"] / "service.log").read_text(errors="replace")[-1500:]


def _totals(desk, sid) -> dict:
    with desk["store"].connect() as conn:
        return risk.header(conn, sid)


def test_the_header_shows_the_snapshot_it_names_and_an_old_market_is_stale(desk):
    h = _header(desk)
    snap = _totals(desk, h["id"])
    assert snap["kind"] == "refresh"
    assert h["cards"] == {k: f"{snap['totals'][k]:,.0f}" for k in KEYS}
    assert h["stale"] and not h["fresh"]          # the market is three hours old: two intervals are a minute


def test_a_drill_down_reaches_one_trade(desk):
    page = desk["page"]
    page.get_by_role("tab", name="敞口 Exposures").click()
    sid = _header(desk)["id"]
    with desk["store"].connect() as conn:
        rows = risk.rows(conn, sid)
    u = sorted(rows["underlying"].unique())[0]
    trade = sorted(rows.loc[rows["underlying"] == u, "trade_id"])[0]
    page.locator(".widget-dropdown", has=page.locator("label", has_text="underlying")).locator("select").select_option(u)
    # the table shows every trade until the kernel has filtered it: wait for the filtered one
    expected = int((rows["underlying"] == u).sum())
    _wait(lambda: page.locator(".otc-trades tbody tr").count() == expected, 30, f"the {expected} trades of {u}")
    shown = page.locator(".otc-trades tbody tr td:nth-child(3)").all_inner_texts()
    assert set(shown) == {u} and trade in page.locator(".otc-trades").inner_text()
    page.locator(".widget-dropdown", has=page.locator("label", has_text="trade")).locator("select").select_option(trade)
    detail = page.locator(".otc-trade-detail")
    detail.wait_for(timeout=20_000)
    text = detail.inner_text()
    assert trade in text and u in text and "events" in text and "Greeks" in text
    assert page.locator(".otc-trade-greeks").count() == 1


def test_a_new_snapshot_shows_without_a_reload(desk):
    page = desk["page"]
    page.evaluate("window.__otc_not_reloaded = 42")
    before = _header(desk)["id"]
    at = dt.datetime.now(CST).replace(microsecond=0)
    demo_tick(desk["store"], desk["feed"], as_of=at, move=0.01)      # a fresh market, +1%
    # first the service (a refresh in flight on the old market finishes before the next one reads
    # the new file: on a loaded 2-core machine that is two refreshes), then the page, which must
    # follow within a few polls
    try:
        sid = _wait(lambda: _refreshed_on(desk, at), 300, f"a refresh on the market of {at:%H:%M:%S}")
    except AssertionError as e:
        raise AssertionError(f"{e}; the service's log ends:\n{_log_tail(desk)}") from None
    assert sid > before

    def fresh():
        h = _header(desk)
        return h if h["id"] and h["id"] >= sid and h["fresh"] else None
    h = _wait(fresh, 30, f"snapshot {sid} (or a later one) shown fresh on the page")
    assert page.evaluate("window.__otc_not_reloaded") == 42
    snap = _totals(desk, h["id"])
    assert h["cards"] == {k: f"{snap['totals'][k]:,.0f}" for k in KEYS}
    assert not h["stale"]
    # the drill-down the trader had open survived the new snapshot
    assert page.locator(".otc-trade-detail").count() == 1


def test_a_breach_shows_and_its_alert_reaches_the_robot(desk):
    page = desk["page"]
    page.get_by_role("tab", name="限额 Limits").click()
    row = page.locator(".otc-limits tr.otc-breach").filter(has_text="cash_delta").first
    row.wait_for(timeout=20_000)
    assert "book" in row.inner_text() and "BREACH" in row.inner_text()
    texts = _wait(lambda: [t for t in desk["robot"].texts() if "风险限额突破" in t], 30, "the breach alert")
    sid = _header(desk)["id"]
    assert any("book cash_delta" in t for t in texts)
    assert any(f"risk snapshot {s}" in t for t in texts for s in range(1, sid + 1))
    page.screenshot(path=str(desk["tmp"] / "limits.png"))
