"""``otclab lifecycle run``: apply the closes up to a date to every live trade, as stored events.

Each trade is observed from its checkpoint (the later of its start date, its latest event and
the last run that covered it) through the run's date, in date order: knock-ins, knock-outs,
coupons, averaging fixings and maturity settlements become events naming the fixing they used,
and their amounts become the trade's cash flows (desk's view). A run is idempotent (a second run
of the same date finds nothing due and adds nothing), backfills any range in order (in chunks,
one transaction each, so a killed run loses at most its current chunk and a rerun completes it),
and stops before a due observation whose close is missing, naming trade, underlying and date,
after committing everything before it. One run at a time per store (``Store.lock``).

Trades booked after a run with a start date before it are caught up by the next run: a run
records the highest trade-version row it covered (its watermark).
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert, select

from ...core.calendar import sse_calendar
from ...core.dates import Date, parse_date
from ...core.errors import OtcError
from ...store import tables as T
from ...store.book import StoredTrade, load_book
from ...store.db import Store, now
from ...store.fixings import latest
from .observe import advance, initial_state, positions_between
from .plan import compile_plan, start_context

CHUNK_DAYS = 60
CASHFLOW_TYPES = {"coupon": "coupon", "knock_out": "knock_out", "maturity": "maturity"}


class LifecycleError(OtcError):
    """The lifecycle cannot run as asked (a missing close, a date that is not a trading day)."""


@dataclass
class LifecycleReport:
    through: Date
    runs: list = field(default_factory=list)
    events: Counter = field(default_factory=Counter)
    trades_observed: int = 0
    plans_compiled: int = 0
    seconds: float = 0.0
    listed: list = field(default_factory=list)      # (trade_id, date, type, amount) of the new events

    def to_dict(self) -> dict:
        return {"through": self.through.isoformat(), "runs": self.runs, "events": dict(self.events),
                "trades_observed": self.trades_observed, "plans_compiled": self.plans_compiled,
                "seconds": round(self.seconds, 3),
                "new_events": [{"trade_id": t, "date": d.isoformat(), "type": k, "amount": a}
                               for t, d, k, a in self.listed]}


def plans_for(conn, trades: list[StoredTrade], memo: dict | None = None) -> tuple[dict, int]:
    """(version id → plan, how many were compiled): the stored plans of ``trades``, compiling and
    storing those not compiled yet (in the caller's transaction). ``memo``: a dict the caller keeps
    (the risk service, between refreshes): a trade version's plan never changes, so those found
    there are not read again, and every plan returned is put there."""
    lp = T.lifecycle_plans
    out = {} if memo is None else {t.version_id: memo[t.version_id] for t in trades if t.version_id in memo}
    ids = [t.version_id for t in trades if t.version_id not in out]
    for i in range(0, len(ids), 900):
        out.update(conn.execute(select(lp.c.version_id, lp.c.plan).where(lp.c.version_id.in_(ids[i:i + 900]))).all())
    todo = [t for t in trades if t.version_id not in out]
    if todo:
        ts = now()
        rows = []
        for t in todo:
            plan = compile_plan(t.template, t.record.terms)
            out[t.version_id] = plan
            rows.append({"version_id": t.version_id, "plan": plan, "created_at": ts})
        conn.execute(insert(lp), rows)
    if memo is not None:
        memo.update(out)
    return out, len(todo)


def _covered(conn) -> list[tuple[int, int]]:
    """(watermark, through ordinal) of the successful runs, for 'last run that covered it'."""
    r = T.runs
    rows = conn.execute(select(r.c.watermark, r.c.through_date).where(r.c.kind == "lifecycle", r.c.status == "ok")).all()
    return [(w, d.toordinal()) for w, d in rows if w is not None and d is not None]


def checkpoints(trades: list[StoredTrade], plans: dict, covered: list) -> dict:
    """trade id → the ordinal through which the trade has been observed."""
    marks = sorted(covered, reverse=True)
    best, running = [], -1
    for w, d in marks:                   # by watermark descending: the latest date covering >= w
        running = max(running, d)
        best.append((w, running))
    ws = np.array([w for w, _ in best]) if best else np.zeros(0)
    out = {}
    for t in trades:
        plan = plans[t.version_id]
        c = plan["start"]
        if t.last_event_date is not None:
            c = max(c, t.last_event_date.toordinal())
        if len(ws):
            # runs whose watermark is at least the trade's lineage version covered it
            k = np.searchsorted(-ws, -t.base_version_id, side="right") - 1
            if k >= 0:
                c = max(c, best[k][1])
        out[t.trade_id] = c
    return out


def _settler(conn, t: StoredTrade, plan: dict, extra: dict | None = None):
    """A generic plan's maturity payoff: the template's payoff on the realised closes, with zero
    rates (undiscounted), as a fraction of notional. ``extra`` ({date: close}) stands in for
    closes not in the store yet (an intraday look at today's observation)."""
    def settle():
        import math

        from ...market.snapshot import MarketSnapshot

        terms = t.record.terms
        fx = dict(latest(conn, [t.record.underlying]).get(t.record.underlying, {}))
        fx.update({d: (c, None) for d, c in (extra or {}).items()})
        ctx = start_context(t.template, terms, MarketSnapshot.from_dict(
            {"valuation_date": terms["start_date"].isoformat(), "spots": {terms["underlying"]: terms["initial_price"]},
             "rate": 0.0, "vol": 1e-8}))
        s = np.array([[fx[d][0] / ctx.s0 for d in ctx.dates]])
        v = float(np.asarray(t.template.get("payoff")(s, ctx))[0])
        return v if math.isfinite(v) else None
    return settle


def _trading(d: Date, what: str) -> Date:
    cal = sse_calendar()
    if not cal.is_trading_day(d):
        prev = cal.add_trading_days(d, -1)
        raise LifecycleError(f"{d} is not an SSE trading day; the trading day before it is {prev}", what)
    return d


def run_lifecycle(store: Store, through, wait: float = 0.0, chunk_days: int | None = None, progress=None,
                  list_events: int = 200) -> LifecycleReport:
    """Observe every live trade through ``through`` (see module docstring). ``chunk_days``
    trading days are committed at a time (default ``OTCLAB_LIFECYCLE_CHUNK_DAYS`` or 60)."""
    import os

    if chunk_days is None:
        chunk_days = int(os.environ.get("OTCLAB_LIFECYCLE_CHUNK_DAYS", CHUNK_DAYS))
    through = _trading(parse_date(through, "date"), "date")
    t0 = time.perf_counter()
    rep = LifecycleReport(through=through)
    cal = sse_calendar()
    with store.lock("lifecycle", wait=wait, what="lifecycle run"):
        while True:
            pending_error = None
            started = now()
            with store.begin() as conn:
                trades = load_book(conn, status="live")
                plans, compiled = plans_for(conn, trades)
                rep.plans_compiled += compiled
                ck = checkpoints(trades, plans, _covered(conn))
                todo = [t for t in trades if ck[t.trade_id] < through.toordinal()]
                if not todo:
                    break
                lo = min(ck[t.trade_id] for t in todo)
                lo_date = Date.fromordinal(lo)
                chunk_end = min(through, cal.add_trading_days(lo_date, chunk_days)) if chunk_days else through
                end = chunk_end.toordinal()
                closes = latest(conn, {t.record.underlying for t in todo}, after=lo_date, through=chunk_end)
                ords = {u: {d.toordinal(): v for d, v in series.items()} for u, series in closes.items()}
                # the earliest due observation without its close stops the run just before it
                missing = None
                for t in todo:
                    plan, have = plans[t.version_id], ords.get(t.record.underlying, {})
                    for k in positions_between(plan, ck[t.trade_id], end):
                        d = plan["d"][k]
                        if d not in have:
                            if missing is None or d < missing[0]:
                                missing = (d, t.trade_id, t.record.underlying)
                            break
                if missing is not None:
                    md = Date.fromordinal(missing[0])
                    pending_error = LifecycleError(
                        f"no close of {missing[2]} on {md}, due for trade {missing[1]}; import it "
                        f"(`otclab fixings import`) and run again", "fixings")
                    end = missing[0] - 1
                    chunk_end = Date.fromordinal(end)
                advanced = [t for t in todo if ck[t.trade_id] < end]
                if advanced:
                    wm = conn.execute(select(T.trade_versions.c.id).order_by(T.trade_versions.c.id.desc()).limit(1)).scalar()
                    run_id = conn.execute(insert(T.runs).values(
                        kind="lifecycle", status="ok", from_date=Date.fromordinal(lo + 1), through_date=chunk_end,
                        watermark=wm, started_at=started, finished_at=now(),
                        details={"trades": len(advanced)})).inserted_primary_key[0]
                    n_ev = _apply(conn, advanced, plans, ck, ords, end, run_id, rep, list_events)
                    rep.runs.append(run_id)
                    rep.trades_observed = max(rep.trades_observed, len(advanced))
                    if progress:
                        progress(chunk_end, n_ev)
            if pending_error is not None:
                _record_failure(store, started, through, pending_error)
                rep.seconds = time.perf_counter() - t0
                pending_error.report = rep
                raise pending_error
            if chunk_end >= through:
                break
    rep.seconds = time.perf_counter() - t0
    return rep


def _apply(conn, trades, plans, ck, ords, end, run_id, rep, list_events) -> int:
    """Advance ``trades`` through ordinal ``end``; insert their events and cash flows."""
    ts = now()
    ev_rows, flows = [], []
    for t in trades:
        plan = plans[t.version_id]
        state = t.state if t.state is not None else initial_state(plan)
        settle = _settler(conn, t, plan) if plan["family"] == "generic" else None
        events, _ = advance(plan, state, ords.get(t.record.underlying, {}), ck[t.trade_id], end, settle)
        seq = Counter()
        rec = t.record
        for e in events:
            d = Date.fromordinal(e["date"])
            amount = None if e["amount"] is None else e["amount"] * rec.notional
            ev_rows.append({"trade_id": rec.trade_id, "version_id": t.version_id, "base_version": t.base_version,
                            "date": d, "seq": seq[d], "type": e["type"], "fixing_id": e["fixing_id"],
                            "close": e["close"], "level": e["level"], "amount": amount,
                            "payment_date": Date.fromordinal(e["pay"]), "status": e["status"], "state": e["state"],
                            "details": e["details"], "run_id": run_id, "created_at": ts})
            seq[d] += 1
            rep.events[e["type"]] += 1
            if len(rep.listed) < list_events and e["type"] != "fixing":
                rep.listed.append((rec.trade_id, d, e["type"], amount))
    if not ev_rows:
        return 0
    ids = conn.execute(insert(T.trade_events).returning(T.trade_events.c.id, sort_by_parameter_order=True),
                       ev_rows).scalars().all()
    book = {t.trade_id: t for t in trades}
    for eid, e in zip(ids, ev_rows):
        if e["amount"] and e["type"] in CASHFLOW_TYPES:
            rec = book[e["trade_id"]].record
            flows.append({"trade_id": e["trade_id"], "version_id": e["version_id"], "event_id": eid,
                          "type": CASHFLOW_TYPES[e["type"]], "event_date": e["date"],
                          "payment_date": e["payment_date"], "amount": rec.sign * e["amount"],
                          "currency": rec.currency, "reverses": None, "created_at": ts})
    if flows:
        conn.execute(insert(T.cashflows), flows)
    return len(ev_rows)


def _record_failure(store: Store, started: dt.datetime, through: Date, err: OtcError) -> None:
    with store.begin() as conn:
        conn.execute(insert(T.runs).values(kind="lifecycle", status="failed", through_date=through,
                                           started_at=started, finished_at=now(), error=str(err)))
