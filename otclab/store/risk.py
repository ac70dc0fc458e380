"""Reading risk snapshots: the header, the per-trade rows and the margin rows, as written."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from ..core.dates import Date
from ..core.errors import OtcError
from . import tables as T


class SnapshotError(OtcError):
    """A risk snapshot asked for is not in the store."""


def header(conn, snapshot_id: int | None = None, kind: str | None = "eod", before: Date | None = None) -> dict:
    """The snapshot ``snapshot_id``, else the latest (of ``kind``, valued before ``before``)."""
    rs = T.risk_snapshots
    q = select(rs)
    if snapshot_id is not None:
        q = q.where(rs.c.id == int(snapshot_id))
    else:
        if kind:
            q = q.where(rs.c.kind == kind)
        if before is not None:
            q = q.where(rs.c.valuation_date < before)
        q = q.order_by(rs.c.valuation_date.desc(), rs.c.id.desc()).limit(1)
    row = conn.execute(q).first()
    if row is None:
        if snapshot_id is not None:
            raise SnapshotError(f"no risk snapshot {snapshot_id} in the store", "snapshot")
        raise SnapshotError("no risk snapshot in the store yet; run `otclab eod run --date D`"
                            if before is None else f"no risk snapshot before {before}", "snapshot")
    return row._asdict()


def latest_id(conn, kind: str = "eod") -> int | None:
    """The id of the latest snapshot of ``kind`` (as ``header`` orders them), or None: one small
    query, for pages that poll for a new snapshot."""
    rs = T.risk_snapshots
    return conn.execute(select(rs.c.id).where(rs.c.kind == kind)
                        .order_by(rs.c.valuation_date.desc(), rs.c.id.desc()).limit(1)).scalar()


def rows(conn, snapshot_id: int) -> pd.DataFrame:
    rr = T.risk_rows
    res = conn.execute(select(rr).where(rr.c.snapshot_id == snapshot_id).order_by(rr.c.trade_id))
    return pd.DataFrame(res.all(), columns=list(res.keys()))


def margin(conn, snapshot_id: int) -> pd.DataFrame:
    mc = T.margin_calls
    res = conn.execute(select(mc).where(mc.c.snapshot_id == snapshot_id).order_by(mc.c.counterparty_id))
    return pd.DataFrame(res.all(), columns=list(res.keys()))


def market_data(conn, market_snapshot_id: str) -> dict:
    ms = T.market_snapshots
    return conn.execute(select(ms.c.data).where(ms.c.id == market_snapshot_id)).scalar()


def cashflows_between(conn, after: Date | None, through: Date) -> pd.DataFrame:
    """Cash flows that became known in (after, through] (desk's view)."""
    cf = T.cashflows
    q = select(cf).where(cf.c.event_date <= through)
    if after is not None:
        q = q.where(cf.c.event_date > after)
    res = conn.execute(q)
    return pd.DataFrame(res.all(), columns=list(res.keys()))
