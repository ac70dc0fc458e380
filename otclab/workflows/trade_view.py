"""One trade as a person asks about it: terms, versions, events, cash flows, state, last value."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..store import tables as T
from ..store.book import cashflows_of, events_of, load_book, versions_of
from ..store.record import BookingError
from .lifecycle.observe import initial_state
from .lifecycle.plan import compile_plan
from .lifecycle.run import _covered, checkpoints


def _iso(v):
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v


def _row(r) -> dict:
    return {k: _iso(v) for k, v in r._asdict().items()}


def describe_state(plan: dict, state: dict, observed_through: int) -> dict:
    """The lifecycle state in the desk's words (what is knocked in, what is missed, what is next)."""
    fam = plan["family"]
    out = {"observed_through": dt.date.fromordinal(observed_through).isoformat()}
    nxt = [d for d in plan["d"] if d > observed_through]
    out["next_observation"] = dt.date.fromordinal(nxt[0]).isoformat() if nxt else None
    out["observations_left"] = len(nxt)
    if fam in ("autocall", "barrier"):
        out["knocked_in"] = bool(state["ki"])
    if fam == "autocall" and plan["s"].get("cb_level") is not None:
        out["coupons_missed_in_a_row"] = int(state["missed"])
    if fam == "asian":
        out["fixings"] = int(state["nfix"])
        out["average"] = state["fsum"] / state["nfix"] if state["nfix"] else None
    return out


def trade_view(conn, trade_id: str) -> dict:
    found = load_book(conn, trade_ids=[trade_id])
    if not found:
        raise BookingError(f"no trade {trade_id!r} in the store", "trade_id")
    t = found[0]
    row = conn.execute(select(T.lifecycle_plans.c.plan).where(T.lifecycle_plans.c.version_id == t.version_id)).first()
    plan = row[0] if row else compile_plan(t.template, t.record.terms)
    ck = checkpoints([t], {t.version_id: plan}, _covered(conn))[t.trade_id]
    state = t.state if t.state is not None else initial_state(plan)
    rr, rs = T.risk_rows, T.risk_snapshots
    lv = conn.execute(select(rr, rs.c.valuation_date, rs.c.market_snapshot_id).join(rs, rs.c.id == rr.c.snapshot_id)
                      .where(rr.c.trade_id == trade_id).order_by(rs.c.valuation_date.desc(), rs.c.id.desc())
                      .limit(1)).first()
    last = None
    if lv is not None:
        last = _row(lv)
        last["date"] = last.pop("valuation_date")
    return {"trade": t.record.to_dict(), "status": t.status, "maturity_date": t.record.maturity_date.isoformat(),
            "state": describe_state(plan, state, ck), "plan_family": plan["family"],
            "versions": [_row(v) for v in versions_of(conn, trade_id)],
            "events": [_row(e) for e in events_of(conn, trade_id) if e.base_version == t.base_version],
            "superseded_events": sum(1 for e in events_of(conn, trade_id) if e.base_version != t.base_version),
            "cashflows": [_row(c) for c in cashflows_of(conn, trade_id)], "last_valuation": last}
