"""``otclab eod run``: lifecycle, then value and Greeks of every live trade, stored as a snapshot.

The end of day for date D runs the lifecycle through D, marks the market on D's closes
(``store.markets.market_for_date``), prices every trade live on D with its pinned template
version and the state its fixings give (``otclab.book.price_book`` with ``engine="auto"``: the
exact closed form where the template has one for the terms, else the fused Monte Carlo pass,
else the template's PDE or Monte Carlo), signs values and Greeks from the desk's view, computes
the margin calls and writes one immutable **risk snapshot**: its market snapshot id, the
template versions, engine settings (paths, seed, device), wall time, one row per trade and one
margin row per counterparty. A trade that cannot be priced gets a row with its error; the
others are still valued.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert

from ...core.dates import Date, parse_date
from ...core.errors import OtcError
from ...store import tables as T
from ...store.book import load_book
from ...store.db import Store, now
from ...store.fixings import latest
from ...store.markets import market_for_date
from ..lifecycle.run import LifecycleReport, _trading, plans_for, run_lifecycle
from .margin import collateral_held, load_policy, margin_calls

GREEKS = ("delta", "gamma", "cash_delta", "delta_pct", "cash_gamma_1pct", "vega", "theta", "rho")
ERRORS = ("delta_se", "gamma_se", "vega_se", "theta_se", "rho_se")
DEFAULT_PATHS = 10_000
DEFAULT_SEED = 20240101


class EodError(OtcError):
    """The end of day cannot run as asked."""


@dataclass
class EodReport:
    snapshot_id: int
    date: Date
    market_snapshot_id: str
    lifecycle: LifecycleReport
    trades: int
    failed: int
    totals: dict
    engines: dict
    wall_s: float
    paths: int
    seed: int
    device: str
    margin: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"snapshot_id": self.snapshot_id, "date": self.date.isoformat(),
                "market_snapshot_id": self.market_snapshot_id, "trades": self.trades, "failed": self.failed,
                "totals": self.totals, "engines": self.engines, "wall_s": round(self.wall_s, 3),
                "paths": self.paths, "seed": self.seed, "device": self.device,
                "lifecycle": self.lifecycle.to_dict() if self.lifecycle else None,
                "margin_calls": [m for m in self.margin if m["action"] != "none"]}


def pricing_contracts(conn, trades, d: Date, today: dict | None = None, plans: dict | None = None) -> list[dict]:
    """The trades as pricing contracts on ``d``: pinned template, terms and the closes of their
    past observation dates (the templates derive knock-in, missed coupons, averages from them).
    ``today`` ({underlying: spot}, an intraday refresh): an observation on ``d`` itself, whose close
    is not known yet, is taken at the current spot. ``plans``: the trades' lifecycle plans when the
    caller has them (``plans_for``)."""
    if plans is None:
        plans, _ = plans_for(conn, trades)
    starts = min((t.record.start_date for t in trades), default=d)
    import datetime as dt

    closes = latest(conn, {t.record.underlying for t in trades}, after=starts - dt.timedelta(days=1), through=d)
    out = []
    dd = d.toordinal()
    for t in trades:
        plan = plans[t.version_id]
        series = closes.get(t.record.underlying, {})
        fix = {}
        for o in plan["d"]:
            if o > dd:
                break
            day = Date.fromordinal(o)
            if day in series:
                fix[day.isoformat()] = series[day][0]
            elif today is not None and o == dd and t.record.underlying in today:
                fix[day.isoformat()] = today[t.record.underlying]
        out.append({"id": t.trade_id, "template": t.template, "terms": t.record.terms.to_json(), "fixings": fix})
    return out


def live_on(conn, d: Date):
    """Trades live after the events of ``d`` and traded on or before it."""
    return [t for t in load_book(conn, as_of=d, status="live") if t.record.trade_date <= d]


def _totals(rows: list[dict]) -> dict:
    """Book and per-underlying sums (desk's view). Deltas per point add up within an underlying
    only; delta as % of notional is the sum of cash deltas over the sum of notionals."""
    ok = [r for r in rows if r["error"] is None]
    keys = ("value", "cash_delta", "cash_gamma_1pct", "vega", "theta", "rho")
    tot = {k: float(np.nansum([r[k] or 0.0 for r in ok])) for k in keys}
    notional = float(sum(r["notional"] for r in ok))
    tot["notional"] = notional
    tot["delta_pct"] = 100.0 * tot["cash_delta"] / notional if notional else 0.0
    by_u: dict = defaultdict(lambda: defaultdict(float))
    for r in ok:
        b = by_u[r["underlying"]]
        b["trades"] += 1
        b["notional"] += r["notional"]
        for k in ("delta", "gamma") + keys:
            b[k] += r[k] or 0.0
    for b in by_u.values():
        b["delta_pct"] = 100.0 * b["cash_delta"] / b["notional"] if b["notional"] else 0.0
    tot["by_underlying"] = {u: dict(v) for u, v in sorted(by_u.items())}
    tot["trades"] = len(rows)
    tot["failed"] = len(rows) - len(ok)
    tot["flagged"] = sum(1 for r in ok if r.get("flagged"))
    return tot


def valuation_rows(trades, df, snap) -> list[dict]:
    """Risk rows (desk's view) of ``trades`` from ``price_book``'s frame ``df`` in the same order."""
    rows = []
    spots = {}
    # plain dicts, not iterrows: a Series per row costs more than the rest of the loop together
    for t, r in zip(trades, df.to_dict("records")):
        rec = t.record
        err = r.get("error") if isinstance(r.get("error"), str) else None
        sgn = rec.sign

        def g(k, sign=sgn):
            v = r.get(k)
            return None if v is None or (isinstance(v, float) and not np.isfinite(v)) or err else sign * float(v)

        rows.append({"trade_id": rec.trade_id, "version_id": t.version_id, "template": rec.template,
                     "template_version": rec.template_version, "underlying": rec.underlying,
                     "counterparty_id": rec.counterparty.id, "direction": rec.direction, "notional": rec.notional,
                     "maturity_date": rec.maturity_date, "engine": str(r["engine"]),
                     "spot": spots.get(rec.underlying) or spots.setdefault(rec.underlying,
                                                                            float(snap.spot(rec.underlying))),
                     "vol": None if err else float(r.get("vol")), "rate": None if err else float(r.get("rate")),
                     "value": g("value"),
                     "stderr": None if err or r.get("stderr") is None or not np.isfinite(r.get("stderr"))
                     else float(r["stderr"]), **{k: g(k) for k in GREEKS}, **{k: g(k, 1) for k in ERRORS},
                     "flagged": (r.get("flagged") or None) if isinstance(r.get("flagged"), str) else None,
                     "error": err})
    return rows


def template_versions(rows) -> dict:
    tv: dict = defaultdict(set)
    for r in rows:
        tv[r["template"]].add(r["template_version"])
    return {k: sorted(v) for k, v in sorted(tv.items())}


def store_snapshot(conn, kind: str, d: Date, msid: str, rows: list[dict], settings: dict, totals: dict, wall: float,
                   run: dict, views: dict | None = None, market_time=None) -> tuple[int, int]:
    """Append one run row and one immutable risk snapshot with its rows; (run id, snapshot id)."""
    run_id = conn.execute(insert(T.runs).values(**run)).inserted_primary_key[0]
    sid = conn.execute(insert(T.risk_snapshots).values(
        kind=kind, valuation_date=d, market_snapshot_id=msid, settings=settings,
        template_versions=template_versions(rows), trades=len(rows), totals=totals, wall_s=wall, run_id=run_id,
        created_at=now(), market_time=market_time, views=views)).inserted_primary_key[0]
    if rows:
        conn.execute(insert(T.risk_rows), [{**r, "snapshot_id": sid} for r in rows])
    return run_id, sid


def run_eod(store: Store, date, market: dict | None = None, paths: int = DEFAULT_PATHS, seed: int = DEFAULT_SEED,
            device: str | None = None, margin_policy: str | None = None, wait: float = 0.0, progress=None,
            lifecycle_progress=None) -> EodReport:
    """The end of day of ``date`` (see module docstring)."""
    from ...book.pricing import price_book
    from ...core.backend import default_device
    from ...core.limits import check_paths

    d = _trading(parse_date(date, "date"), "date")
    paths = check_paths(paths)
    policy = load_policy(margin_policy)
    dev = device or default_device()
    t0 = time.perf_counter()
    started = now()
    with store.lock("eod", wait=wait, what="end-of-day run"):
        lc = run_lifecycle(store, d, wait=wait, progress=lifecycle_progress)
        with store.begin() as conn:
            trades = live_on(conn, d)
            if not trades:
                raise EodError(f"no live trades on {d}; nothing to value", "date")
            msid, snap = market_for_date(conn, d, {t.record.underlying for t in trades}, given=market)
            contracts = pricing_contracts(conn, trades, d)
            held = collateral_held(conn, d, policy)
        df = price_book(contracts, snap, paths=paths, seed=seed, greeks=True, device=dev, engine="auto",
                        errors="record", task_progress=progress)
        rows = valuation_rows(trades, df, snap)
        values = {r["trade_id"]: r["value"] for r in rows if not r["error"]}
        calls = margin_calls(trades, values, held, policy)
        totals = _totals(rows)
        engines = dict(Counter(r["engine"] for r in rows))
        wall = time.perf_counter() - t0
        settings = {"engine": "auto", "paths": paths, "seed": seed, "device": dev, "engines": engines,
                    "margin_policy": policy, "timing": df.attrs.get("timing", {})}
        run = dict(kind="eod", status="ok", from_date=d, through_date=d, started_at=started, finished_at=now(),
                   details={"trades": len(rows), "lifecycle_runs": lc.runs})
        with store.begin() as conn:
            _, sid = store_snapshot(conn, "eod", d, msid, rows, settings, totals, wall, run)
            if calls:
                conn.execute(insert(T.margin_calls), [{**m, "snapshot_id": sid} for m in calls])
    return EodReport(snapshot_id=sid, date=d, market_snapshot_id=msid, lifecycle=lc, trades=len(rows),
                     failed=totals["failed"], totals=totals, engines=engines, wall_s=wall, paths=paths, seed=seed,
                     device=dev, margin=calls)
