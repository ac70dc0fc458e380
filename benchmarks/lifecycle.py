"""Book-of-record benchmark: booking, the daily lifecycle, a two-year backfill, the end of day.

    python benchmarks/lifecycle.py                 # SQLite files in a temporary folder
    python benchmarks/lifecycle.py --db-url postgresql://postgres@127.0.0.1:55432/postgres

Prints one table (stage, size, seconds, rate, target) with, for each stage, a baseline measured
in the same run:
  booking     10,000 trades in one command (one transaction, bulk inserts), against booking
              1,000 of them one command each
  lifecycle   one trading day for ~2000 live trades, each observed from its checkpoint (the
              stored state), against re-deriving every trade's events from its start date on
              the same day (what a system keeping no lifecycle state does, ORE-style)
  backfill    2000 trades observed over ~500 trading days in chunked runs, against the same
              trades run day by day over the first 60 days (rate per trade-day compared)
  eod         lifecycle + valuation + Greeks + margin of the live book on CPU (paths stated),
              against the valuation alone (price_book) of the same contracts
The targets are the issue's (booking ≤ 5 s, one day ≤ 0.5 s, backfill ≤ 60 s on 2 cores).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.core.calendar import sse_calendar  # noqa: E402
from otclab.store import markets  # noqa: E402
from otclab.workflows import trades as tc  # noqa: E402
from otclab.store.book import load_book  # noqa: E402
from otclab.store.db import Store  # noqa: E402
from otclab.store.fixings import import_fixings, to_csv  # noqa: E402
from otclab.workflows import demo as D  # noqa: E402
from otclab.workflows.lifecycle.observe import advance, initial_state  # noqa: E402
from otclab.workflows.lifecycle.run import plans_for, run_lifecycle  # noqa: E402


def new_store(args, folder: Path, name: str) -> Store:
    if args.db_url:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        db = f"bench_{name}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(make_url(args.db_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{db}"'))
        return Store(make_url(args.db_url).set(database=db).render_as_string(hide_password=False))
    return Store(f"sqlite:///{folder / (name + '.db')}")


def seeded(store: Store, closes, raws) -> None:
    import_fixings(store, to_csv(closes), "bench.csv")
    with store.begin() as c:
        markets.put(c, D.base_market(D.FIRST_CLOSE, {u: closes[u][D.FIRST_CLOSE] for u in closes}), "bench")
    tc.book(store, raws, as_of=D.FIRST_CLOSE)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def replay_from_start(store: Store, through) -> int:
    """Baseline: every live trade's events re-derived from its start date (no stored state)."""
    from otclab.store.fixings import latest

    with store.connect() as c:
        trades = [t for t in load_book(c) if t.status == "live"]
        plans, _ = plans_for(c, trades)
        closes = latest(c, {t.record.underlying for t in trades}, through=through)
    ords = {u: {d.toordinal(): v for d, v in s.items()} for u, s in closes.items()}
    n = 0
    for t in trades:
        plan = plans[t.version_id]
        ev, _ = advance(plan, initial_state(plan), ords[t.record.underlying], plan["start"], through.toordinal())
        n += len(ev)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db-url", help="a PostgreSQL server URL (a database per stage is created); default SQLite")
    ap.add_argument("--trades", type=int, default=2000)
    ap.add_argument("--booking", type=int, default=10_000)
    ap.add_argument("--paths", type=int, default=4000)
    ap.add_argument("--skip-eod", action="store_true")
    args = ap.parse_args()
    cal = sse_calendar()
    closes = D.synthetic_closes(7)
    days = sorted(closes["000905.SH"])
    rows = []

    def row(stage, size, seconds, rate, target, note=""):
        rows.append((stage, size, seconds, rate, target, note))
        print(f"  {stage:<34} {size:<26} {seconds:>8.3f} s  {rate:<24} {target:<10} {note}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        backend = "PostgreSQL" if args.db_url else "SQLite"
        print(f"book-of-record benchmark on {backend}, {args.trades} trades, closes {days[0]}..{days[-1]}")
        print(f"  {'stage':<34} {'size':<26} {'seconds':>10}  {'rate':<24} {'target':<10} note")

        # ---- booking --------------------------------------------------------------------------
        many = D.demo_trades(args.booking, closes, seed=11)
        for r in many:
            r["premium"] = r["premium"] or 1000.0
        st = new_store(args, folder, "booking")
        import_fixings(st, to_csv(closes), "bench.csv")
        s, _ = timed(lambda: tc.book(st, many, as_of=D.FIRST_CLOSE))
        row("booking: one command", f"{args.booking:,} trades", s, f"{args.booking / s:,.0f} trades/s", "<= 5 s")
        st2 = new_store(args, folder, "booking1")
        few = many[:1000]
        s1, _ = timed(lambda: [tc.book(st2, [r], as_of=D.FIRST_CLOSE) for r in few])
        row("  baseline: one command per trade", f"{len(few):,} trades", s1, f"{len(few) / s1:,.0f} trades/s", "",
            f"{(args.booking / s) / (len(few) / s1):.0f}x slower")

        # ---- one day for ~2000 live trades ------------------------------------------------------
        day = D.EOD_DATE
        recent = [d for d in days if cal.count(d, day) in range(6, 70)]
        raws = D.demo_trades(args.trades, closes, seed=12, starts=recent)
        D.inception_premiums(raws, closes, paths=500)
        st = new_store(args, folder, "day")
        seeded(st, closes, raws)
        prev = cal.add_trading_days(day, -1)
        run_lifecycle(st, prev)
        with st.connect() as c:
            live = sum(t.status == "live" for t in load_book(c))
        s, rep = timed(lambda: run_lifecycle(st, day))
        row("lifecycle: one day", f"{live:,} live trades", s, f"{live / s:,.0f} trades/s", "<= 0.5 s",
            f"{sum(rep.events.values())} events")
        sb, nb = timed(lambda: replay_from_start(st, day))
        row("  baseline: replay from the start", f"{live:,} live trades", sb, f"{live / sb:,.0f} trades/s", "",
            f"{sb / s:.1f}x the time ({nb} events re-derived)")

        # ---- backfill over two years ------------------------------------------------------------
        early = days[1:12]
        raws = D.demo_trades(args.trades, closes, seed=13, starts=early)
        for r in raws:
            r["premium"] = r["premium"] or 1000.0
        st = new_store(args, folder, "backfill")
        seeded(st, closes, raws)
        n_days = cal.count(early[0], D.LAST_CLOSE)
        s, rep = timed(lambda: run_lifecycle(st, D.LAST_CLOSE))
        td = args.trades * n_days
        row("backfill: chunked runs", f"{args.trades:,} x {n_days} days", s, f"{td / s:,.0f} trade-days/s",
            "<= 60 s", f"{sum(rep.events.values())} events, {len(rep.runs)} commits, {rep.plans_compiled} plans")
        st = new_store(args, folder, "daily")
        seeded(st, closes, raws)
        first = [d for d in days if d > early[-1]][:60]
        s1, _ = timed(lambda: [run_lifecycle(st, d) for d in first])
        td1 = args.trades * len(first)
        row("  baseline: day by day", f"{args.trades:,} x {len(first)} days", s1, f"{td1 / s1:,.0f} trade-days/s", "",
            f"{(td / s) / (td1 / s1):.1f}x slower per trade-day")

        # ---- end of day ---------------------------------------------------------------------------
        if not args.skip_eod:
            from otclab.book import price_book
            from otclab.workflows.eod.run import live_on, pricing_contracts, run_eod

            st = new_store(args, folder, "eod")
            D.init_demo(folder / "eod", url=st.url.render_as_string(hide_password=False), paths=args.paths,
                        upto="lifecycle", log=lambda *a: None)
            s, rep = timed(lambda: run_eod(st, D.EOD_DATE, paths=args.paths, device="cpu"))
            row("eod: demo book on CPU", f"{rep.trades:,} live, {args.paths:,} paths", s,
                f"{rep.trades / s:,.1f} trades/s", "", ", ".join(f"{k} {v}" for k, v in sorted(rep.engines.items())))
            with st.connect() as c:
                contracts = pricing_contracts(c, live_on(c, D.EOD_DATE), D.EOD_DATE)
                mkt = markets.get(c, rep.market_snapshot_id)
            sv, _ = timed(lambda: price_book(contracts, mkt, paths=args.paths, greeks=True, engine="auto", device="cpu"))
            row("  baseline: valuation alone", f"{len(contracts):,} contracts", sv, "", "",
                f"store, lifecycle, margin and writing add {s - sv:.1f} s")


if __name__ == "__main__":
    main()
