"""Reading the book: every trade's current version, its status and lifecycle state.

A trade's status is derived, never stored in place: ``cancelled`` when its latest version is a
cancellation, else the status after its latest lifecycle event of the current lineage (events
derived under the latest ``new`` or ``correct`` version), else ``live``. ``as_of`` reads the book
as it stood after the events of that date.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from ..core.dates import Date
from . import tables as T
from . import templates as tpl_store
from .record import Counterparty, TradeRecord


@dataclass
class StoredTrade:
    """A trade as the store holds it: the record of its latest version and where it stands."""

    record: TradeRecord
    version_id: int                 # row id of the latest version
    base_version: int               # version number of the latest new/correct version
    base_version_id: int            # its row id
    action: str                     # action of the latest version
    state: dict | None = None       # lifecycle state after the latest event (None: none yet)
    last_event_date: Date | None = None
    template: object = field(default=None, repr=False)

    @property
    def trade_id(self) -> str:
        return self.record.trade_id

    @property
    def status(self) -> str:
        return self.record.status


def record_from_row(row, template=None, status: str = "live") -> TradeRecord:
    """The ``TradeRecord`` of a ``trade_versions`` row (terms as the pinned template validated
    them at booking)."""
    terms = template.schema.restore(row.terms) if template is not None else row.terms
    return TradeRecord(trade_id=row.trade_id, uti=row.uti, template=row.template,
                       template_version=row.template_version, terms=terms, direction=row.direction,
                       counterparty=Counterparty(row.counterparty_id, row.counterparty_name, row.counterparty_uscc,
                                                 row.counterparty_lei),
                       trade_date=row.trade_date, premium=row.premium, premium_date=row.premium_date,
                       trader=row.trader, status=status, version=row.version)


def load_book(conn, as_of: Date | None = None, trade_ids=None, underlying: str | None = None,
              counterparty: str | None = None, status: str | None = None) -> list[StoredTrade]:
    """Every trade (or those asked for) with its status and state, ordered by trade id."""
    tv = T.trade_versions
    latest = select(tv.c.trade_id, func.max(tv.c.version).label("v")).group_by(tv.c.trade_id).subquery()
    q = (select(tv.c.id, tv.c.trade_id, tv.c.action)
         .join(latest, and_(tv.c.trade_id == latest.c.trade_id, tv.c.version == latest.c.v)))
    if trade_ids is not None:
        q = q.where(tv.c.trade_id.in_(list(trade_ids)))
    if underlying:
        q = q.where(tv.c.underlying == underlying)
    if counterparty:
        q = q.where(tv.c.counterparty_id == counterparty)
    heads = conn.execute(q.order_by(tv.c.trade_id)).all()
    if not heads:
        return []
    ids = [r.trade_id for r in heads] if trade_ids is not None or underlying or counterparty else None
    bases = _bases(conn, ids)
    events = _latest_events(conn, as_of, ids)
    wanted = []
    for h in heads:
        base_v, _ = bases[h.trade_id]
        ev = events.get((h.trade_id, base_v))
        st = "cancelled" if h.action == "cancel" else (ev.status if ev is not None else "live")
        if not status or st == status:
            wanted.append((h, st, ev))
    # only the versions asked for are read in full (terms JSON), in chunks the drivers accept
    rows = {}
    vids = [h.id for h, _, _ in wanted]
    for i in range(0, len(vids), 900):
        rows.update((r.id, r) for r in conn.execute(select(tv).where(tv.c.id.in_(vids[i:i + 900]))))
    out, tpls = [], {}
    for h, st, ev in wanted:
        r = rows[h.id]
        base_v, base_id = bases[h.trade_id]
        key = (r.template, r.template_version)
        tpl = tpls.get(key)
        if tpl is None:
            tpl = tpls[key] = tpl_store.resolve(conn, r.template, r.template_version)
        out.append(StoredTrade(record=record_from_row(r, tpl, st), version_id=r.id, base_version=base_v,
                               base_version_id=base_id, action=r.action,
                               state=ev.state if ev is not None else None,
                               last_event_date=ev.date if ev is not None else None, template=tpl))
    return out


def _bases(conn, ids) -> dict:
    tv = T.trade_versions
    q = (select(tv.c.trade_id, func.max(tv.c.version).label("v"))
         .where(tv.c.action.in_(("new", "correct"))).group_by(tv.c.trade_id))
    if ids is not None:
        q = q.where(tv.c.trade_id.in_(ids))
    base = dict(conn.execute(q).all())
    q2 = select(tv.c.trade_id, tv.c.version, tv.c.id).where(tv.c.action.in_(("new", "correct")))
    if ids is not None:
        q2 = q2.where(tv.c.trade_id.in_(ids))
    return {tid: (v, vid) for tid, v, vid in conn.execute(q2) if base.get(tid) == v}


def _latest_events(conn, as_of, ids) -> dict:
    ev = T.trade_events
    q = select(ev.c.trade_id, ev.c.base_version, func.max(ev.c.id).label("id")).group_by(ev.c.trade_id,
                                                                                           ev.c.base_version)
    if as_of is not None:
        q = q.where(ev.c.date <= as_of)
    if ids is not None:
        q = q.where(ev.c.trade_id.in_(ids))
    last = q.subquery()
    rows = conn.execute(select(ev.c.trade_id, ev.c.base_version, ev.c.status, ev.c.state, ev.c.date)
                        .join(last, ev.c.id == last.c.id)).all()
    return {(r.trade_id, r.base_version): r for r in rows}


def versions_of(conn, trade_id: str) -> list:
    tv = T.trade_versions
    return conn.execute(select(tv).where(tv.c.trade_id == trade_id).order_by(tv.c.version)).all()


def events_of(conn, trade_id: str) -> list:
    ev = T.trade_events
    return conn.execute(select(ev).where(ev.c.trade_id == trade_id).order_by(ev.c.date, ev.c.id)).all()


def cashflows_of(conn, trade_id: str) -> list:
    cf = T.cashflows
    return conn.execute(select(cf).where(cf.c.trade_id == trade_id).order_by(cf.c.event_date, cf.c.id)).all()


def business_date(conn) -> Date | None:
    """The latest date the lifecycle has run through (the book's business date), if any."""
    r = T.runs
    return conn.execute(select(func.max(r.c.through_date)).where(r.c.kind == "lifecycle",
                                                                 r.c.status == "ok")).scalar()
