"""``otclab demo init DIR``: a store a desk would recognise, built the way a real one is.

Two years of synthetic daily closes for eight underlyings on the SSE calendar (correlated GBM
with a 2024 sell-off and recovery, so barriers are really touched), written as a fixings CSV and
imported through ``otclab fixings import``; about 2500 trades of every built-in family booked on
dates across those two years with their initial price at the start date's close, premiums at
inception (notes at par, options at their model value), counterparties with valid USCCs and
initial collateral; then the lifecycle over the whole history (so the book holds knocked-in,
knocked-out and matured trades for real reasons) and one end-of-day snapshot on ``EOD_DATE``.
The closes run one trading day further (``LAST_CLOSE``), so ``otclab eod run --date 2025-12-31``
followed by ``otclab eod explain`` works at once. Every maturity lies inside the shipped holiday
calendar (2026 at the latest).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

from ..book.synthetic import UNDERLYINGS, VOLS, _contract
from ..core.calendar import sse_calendar
from ..core.dates import Date, add_months
from ..core.errors import InputError
from ..store import tables as T
from ..store.db import Store, now, sqlite_url
from ..store.fixings import import_fixings, to_csv
from ..store import markets
from . import trades as trade_cmds

FIRST_CLOSE = Date(2023, 12, 29)
EOD_DATE = Date(2025, 12, 30)
LAST_CLOSE = Date(2025, 12, 31)
LAST_MATURITY = Date(2026, 12, 31)
TENORS = (1, 3, 6, 9, 12, 18, 24)
NAMES = ["晨星", "远航", "鼎盛", "华睿", "长青", "弘毅", "景泰", "明德", "瑞丰", "信诚", "博远", "嘉禾", "致远",
         "同创", "汇金", "泰和", "润泽", "恒信", "启明", "金石"]
KINDS = ["私募基金管理有限公司", "资产管理有限公司", "投资管理合伙企业（有限合伙）", "证券资产管理有限公司"]
TRADERS = ("zhang.wei", "li.na", "wang.fang", "chen.jie")


def synthetic_closes(seed: int = 7, first: Date = FIRST_CLOSE, last: Date = LAST_CLOSE) -> dict:
    """{underlying: {date: close}} on every SSE trading day of [first, last]."""
    cal = sse_calendar()
    days = [first] + cal.trading_days(first, last)
    n = len(days)
    t = np.arange(n) / 243.0
    # market regime (annualised drift of log level): a sell-off into early 2024, the autumn 2024
    # rally, a calmer 2025
    drift = np.where(t < 0.12, -1.6, np.where(t < 0.7, 0.05, np.where(t < 0.78, 2.2, 0.08)))
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(n)
    out = {}
    for u, s_end in UNDERLYINGS.items():
        vol = VOLS[u]
        z = 0.8 * common + 0.6 * rng.standard_normal(n)
        step = (drift - 0.5 * vol**2) / 243.0 + vol * np.sqrt(1 / 243.0) * z
        step[0] = 0.0
        path = np.exp(np.cumsum(step))
        path *= s_end / path[-1]          # ends at the synthetic book's spot
        digits = 4 if s_end < 10 else 2
        out[u] = {d: round(float(p), digits) for d, p in zip(days, path)}
    return out


def counterparties(n: int, seed: int) -> list[dict]:
    from stdnum.cn import uscc

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        body = "91" + "31" + "0115" + "".join(str(int(x)) for x in rng.integers(0, 10, 9))
        body = body[:17]
        name = f"上海{NAMES[i % len(NAMES)]}{KINDS[(i // len(NAMES)) % len(KINDS)]}"
        out.append({"id": f"CP{i + 1:03d}", "name": name, "uscc": body + uscc.calc_check_digit(body)})
    return out


def base_market(d: Date, spots: dict) -> dict:
    """Rates, dividend yields and vol term structures of the demo (spots given)."""
    return {"valuation_date": d.isoformat(), "spots": dict(spots),
            "rate": {"tenors": ["3M", "1Y", "2Y"], "rates": [0.015, 0.016, 0.017]},
            "div_yields": {u: 0.02 for u in UNDERLYINGS},
            "vols": {u: {"tenors": ["1M", "6M", "1Y", "2Y"], "vols": [v + 0.02, v + 0.01, v, v - 0.005]}
                     for u, v in VOLS.items()},
            "time_basis": "trading"}


def demo_trades(n: int, closes: dict, seed: int = 7, starts: list | None = None) -> list[dict]:
    """``n`` trades of every family started on trading days of the history (more of them
    recently, as a growing desk books; or uniformly on ``starts``), each maturing by
    ``LAST_MATURITY``."""
    cal = sse_calendar()
    rng = np.random.default_rng(seed + 1)
    days = starts or [d for d in sorted(closes["000905.SH"]) if d <= EOD_DATE and d > FIRST_CLOSE]
    w = np.ones(len(days)) if starts else np.linspace(1.0, 3.0, len(days))
    w /= w.sum()
    cps = counterparties(40, seed)
    out = []
    for i in range(n):
        start = days[int(rng.choice(len(days), p=w))]
        c = _contract(rng, i, [start])
        t = c["terms"]
        u = t["underlying"]
        t["initial_price"] = closes[u][start]
        t["start_date"] = start.isoformat()
        fits = [m for m in TENORS if add_months(start, m) <= LAST_MATURITY - dt.timedelta(days=10)]
        if t["tenor_months"] not in fits:
            t["tenor_months"] = max(m for m in fits if m <= max(t["tenor_months"], fits[0]))
        note = c["template"] in ("snowball", "phoenix") or t.get("form") == "note"
        direction = "sell" if note or rng.random() < 0.65 else "buy"
        trade_day = cal.add_trading_days(start, -int(rng.integers(0, 3))) if start > days[2] else start
        out.append({"trade_id": f"T{i + 1:05d}", "template": c["template"], "terms": t, "direction": direction,
                    "counterparty": cps[int(rng.integers(len(cps)))], "trade_date": trade_day.isoformat(),
                    "premium": float(t["notional"]) if note else None, "trader": str(rng.choice(TRADERS))})
    return out


def inception_premiums(raws: list[dict], closes: dict, paths: int = 2000, seed: int = 3) -> None:
    """Set the premium of option-form trades to their model value on the start date (in place)."""
    from ..book.pricing import price_book

    by_start: dict = {}
    for r in raws:
        if r["premium"] is None:
            by_start.setdefault(r["terms"]["start_date"], []).append(r)
    for start, group in by_start.items():
        d = Date.fromisoformat(start)
        mkt = base_market(d, {u: closes[u][d] for u in UNDERLYINGS})
        contracts = [{"id": r["trade_id"], "template": r["template"], "terms": r["terms"]} for r in group]
        df = price_book(contracts, mkt, paths=paths, seed=seed, greeks=False, engine="auto", device="cpu")
        for r, v in zip(group, df["value"]):
            r["premium"] = round(max(float(v), 0.0), 2)


def post_collateral(store: Store, raws: list[dict], seed: int) -> None:
    """Collateral each counterparty delivered on its first trade date: its live trades' initial
    margin under the default policy, times 0.8-1.3 (so the first EOD has calls and returns)."""
    from sqlalchemy import insert

    from ..store.book import load_book
    from .eod.margin import initial_margin, load_policy

    policy = load_policy(None)
    rng = np.random.default_rng(seed + 2)
    first: dict = {}
    for r in raws:
        cp, d = r["counterparty"]["id"], Date.fromisoformat(r["trade_date"])
        first[cp] = min(first.get(cp, d), d)
    with store.begin() as conn:
        im: dict = {}
        for t in load_book(conn, as_of=EOD_DATE, status="live"):
            im[t.record.counterparty.id] = im.get(t.record.counterparty.id, 0.0) + initial_margin(t, policy)
        rows = [{"counterparty_id": cp, "date": first[cp], "asset": "cash",
                 "amount": round(a * float(rng.uniform(0.8, 1.3)), -4), "note": "initial margin (demo)",
                 "created_at": now()} for cp, a in sorted(im.items()) if a > 0]
        if rows:
            conn.execute(insert(T.collateral), rows)


DEMO_CONTACTS = (("client01", "approved"), ("client02", "approved"), ("client03", "approved"),
                 ("client04", "approved"), ("client05", "approved"), ("client06", "pending"), ("client07", "blocked"))


def demo_contacts(store: Store, seed: int = 7) -> int:
    """WeCom userids client01..client07 of the demo counterparties CP001..CP007 (five approved, one
    whose onboarding is pending, one blocked), for the quote workflow (``otclab quotes``)."""
    from .quotes.contacts import add

    cps = counterparties(len(DEMO_CONTACTS), seed)
    for (userid, status), cp in zip(DEMO_CONTACTS, cps):
        add(store, userid, cp["id"], cp["name"], cp["uscc"], status, by="demo")
    return len(DEMO_CONTACTS)


def onboard_clients(store: Store, folder, seed: int = 7) -> int:
    """The demo counterparties in the KYC client master (approved, C5), as operations imports
    clients onboarded before the platform (``otclab kyc import clients.csv``)."""
    from ..kyc.demo import import_demo_clients

    return import_demo_clients(store, counterparties(40, seed), folder, by="demo")


def init_demo(folder, trades: int = 4800, seed: int = 7, paths: int = 4000, force: bool = False,
              log=print, progress=None, url: str | None = None, upto: str = "eod") -> dict:
    """Create the demo store in ``folder`` (``folder/otclab.db``, or the empty database ``url``,
    e.g. PostgreSQL) with its fixings CSV and market JSON; returns a summary. ``upto``: stop
    after ``booking``, ``lifecycle`` or (default) ``eod``."""
    from ..workflows.eod.run import run_eod
    from ..workflows.lifecycle.run import run_lifecycle

    folder = Path(folder)
    db = folder / "otclab.db"
    if url is None and db.exists():
        if not force:
            raise InputError(f"{db} already exists; use it (export OTCLAB_DB_URL={sqlite_url(db)}) or pass --force "
                             "to build it again", "folder")
        for p in folder.glob("otclab.db*"):
            p.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    url = url or sqlite_url(db)
    store = Store(url)
    with store.connect() as conn:
        if trade_cmds.count(conn):
            raise InputError(f"{store.display_url} already holds trades; the demo needs an empty store", "folder")
    closes = synthetic_closes(seed)
    csv_path = folder / "fixings.csv"
    csv_path.write_text(to_csv(closes), encoding="utf-8")
    res = import_fixings(store, csv_path.read_text(encoding="utf-8"), str(csv_path), imported_by="demo")
    log(f"fixings: {res.added} closes of {len(res.underlyings)} underlyings, {res.first} to {res.last} "
        f"({len(res.flagged)} large moves flagged)")
    mkt = base_market(FIRST_CLOSE, {u: closes[u][FIRST_CLOSE] for u in UNDERLYINGS})
    (folder / "market.json").write_text(json.dumps(base_market(EOD_DATE, {u: closes[u][EOD_DATE] for u in UNDERLYINGS}),
                                                   indent=1), encoding="utf-8")
    with store.begin() as conn:
        markets.put(conn, mkt, "demo")
    raws = demo_trades(trades, closes, seed)
    inception_premiums(raws, closes, paths=min(2000, paths))
    onboard_clients(store, folder, seed)
    booked = trade_cmds.book(store, raws, recorded_by="demo", as_of=FIRST_CLOSE)
    log(f"booked {len(booked)} trades ({time.perf_counter() - t0:.1f} s so far)")
    out = {"db": str(db) if store.is_sqlite else store.display_url, "url": url, "trades": len(booked),
           "closes": closes, "raws": raws, "contacts": demo_contacts(store, seed)}
    if upto == "booking":
        out["seconds"] = time.perf_counter() - t0
        return out
    lc = run_lifecycle(store, EOD_DATE, progress=progress)
    log(f"lifecycle through {EOD_DATE}: {sum(lc.events.values())} events "
        f"({', '.join(f'{k} {v}' for k, v in sorted(lc.events.items()))}) in {lc.seconds:.1f} s")
    out["lifecycle"] = lc
    post_collateral(store, raws, seed)
    if upto == "eod":
        rep = run_eod(store, EOD_DATE, paths=paths)
        log(f"end of day {EOD_DATE}: snapshot {rep.snapshot_id}, {rep.trades} live trades valued "
            f"({', '.join(f'{k} {v}' for k, v in sorted(rep.engines.items()))}), {paths} paths, {rep.wall_s:.1f} s")
        out.update(eod=rep, snapshot_id=rep.snapshot_id, live=rep.trades)
    out["seconds"] = time.perf_counter() - t0
    return out


def demo_tick(store: Store, folder, as_of: dt.datetime | None = None, d: Date = LAST_CLOSE, move: float = 0.0,
              seed: int | None = None) -> Path:
    """Drop an intraday market of the demo into the feed folder ``folder`` (what a market-data
    adapter would write): the closes of ``d`` in the store moved by ``move`` (a fraction, e.g.
    0.01 for +1%) plus, with ``seed``, a random move of up to 0.5% per underlying; the demo's
    curves and vols; ``as_of`` (default now). Written to a hidden file and renamed, so a reader
    never sees half a file. Returns the file."""
    from ..store.fixings import closes_on
    from .risk.feed import CST

    as_of = (as_of or dt.datetime.now(CST)).astimezone(CST)
    with store.connect() as conn:
        closes = closes_on(conn, d)
    missing = [u for u in UNDERLYINGS if u not in closes]
    if missing:
        raise InputError(f"no closes of {', '.join(missing)} on {d} in the store", "date")
    rng = np.random.default_rng(seed) if seed is not None else None
    spots = {u: round(closes[u] * (1 + move + (rng.uniform(-0.005, 0.005) if rng is not None else 0.0)), 4)
             for u in UNDERLYINGS}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"market-{as_of:%Y%m%dT%H%M%S}.json"
    tmp = folder / f".{path.name}.tmp"
    tmp.write_text(json.dumps({"as_of": as_of.isoformat(), **base_market(d, spots)}, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["init_demo", "demo_tick", "synthetic_closes", "demo_trades", "EOD_DATE", "LAST_CLOSE"]
