"""Market snapshots in the store: spots, curves and vols, each stored once under its content hash.

A snapshot's id is ``MKT-`` + the first 12 hex digits of the SHA-256 of its canonical JSON, so
the same market stored twice is one row, and every valuation names the exact market it used.
The end of day marks on closes: ``market_for_date`` takes the stored snapshot of that date (or,
if there is none, the latest earlier one rolled to the date) and sets each underlying's spot to
its close of the day.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import insert, select

from ..core.dates import Date
from ..core.errors import MarketError
from ..market.snapshot import MarketSnapshot
from . import tables as T
from .db import now
from .fixings import closes_on


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot_id(data: dict) -> tuple[str, str]:
    h = hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()
    return "MKT-" + h[:12], h


def put(conn, market, source: str | None = None) -> str:
    """Store ``market`` (a ``MarketSnapshot`` or its JSON form) unless already there; its id."""
    snap = market if isinstance(market, MarketSnapshot) else MarketSnapshot.from_dict(market)
    data = snap.to_dict()
    sid, h = snapshot_id(data)
    if conn.execute(select(T.market_snapshots.c.id).where(T.market_snapshots.c.id == sid)).first() is None:
        conn.execute(insert(T.market_snapshots).values(id=sid, valuation_date=snap.valuation_date, content_hash=h,
                                                        data=data, source=source, created_at=now()))
    return sid


def get(conn, sid: str) -> MarketSnapshot:
    row = conn.execute(select(T.market_snapshots.c.data).where(T.market_snapshots.c.id == sid)).first()
    if row is None:
        raise MarketError(f"no market snapshot {sid!r} in the store", "market")
    return MarketSnapshot.from_dict(row[0])


def latest_on_or_before(conn, d: Date):
    ms = T.market_snapshots
    return conn.execute(select(ms.c.id, ms.c.valuation_date, ms.c.data).where(ms.c.valuation_date <= d)
                        .order_by(ms.c.valuation_date.desc(), ms.c.created_at.desc()).limit(1)).first()


def market_for_date(conn, d: Date, underlyings, given: dict | None = None, source: str | None = None):
    """(snapshot id, MarketSnapshot) on date ``d`` with spots at the day's closes.

    ``given``: a market (JSON form) to use for curves and vols; else the stored snapshot of ``d``
    or the latest before it. Spots of ``underlyings`` are the closes of ``d`` where the market
    does not state them; a missing spot and close is an error naming the underlying.
    """
    if given is not None:
        base = MarketSnapshot.from_dict(given).to_dict()
        if base["valuation_date"] != d.isoformat():
            raise MarketError(f"the market is for {base['valuation_date']}, the run for {d}", "market.valuation_date")
        src = source or "given"
    else:
        row = latest_on_or_before(conn, d)
        if row is None:
            raise MarketError(f"no market snapshot on or before {d} in the store; give one with --market FILE "
                              f"(`otclab market import`)", "market")
        base = dict(row.data)
        src = source or (f"{row.id} rolled to {d}" if row.valuation_date != d else row.id)
        if row.valuation_date != d:
            base = {**base, "valuation_date": d.isoformat(), "spots": {}}
    spots = dict(base.get("spots") or {})
    closes = closes_on(conn, d)
    missing = []
    for u in sorted(set(underlyings)):
        if u in spots and given is not None:
            continue
        if u in closes:
            spots[u] = closes[u]
        elif u not in spots:
            missing.append(u)
    if missing:
        raise MarketError(f"no close on {d} and no spot for {', '.join(missing)}; import the day's closes",
                          f"market.spots.{missing[0]}")
    base["spots"] = {k: v for k, v in spots.items() if k != "*"}
    snap = MarketSnapshot.from_dict(base)
    return put(conn, snap, src), snap
