"""What the store holds, without ids, run ids or timestamps: to compare two stores' contents."""
from sqlalchemy import select

from otclab.store import tables as T


def events(store):
    e = T.trade_events
    cols = [e.c.trade_id, e.c.base_version, e.c.date, e.c.seq, e.c.type, e.c.fixing_id, e.c.close, e.c.level,
            e.c.amount, e.c.payment_date, e.c.status, e.c.state]
    with store.connect() as c:
        rows = c.execute(select(*cols).order_by(e.c.trade_id, e.c.date, e.c.seq)).all()
    return [tuple(round(v, 6) if isinstance(v, float) else (sorted(v.items()) if isinstance(v, dict) else v)
                  for v in r) for r in rows]


def cashflows(store):
    cf = T.cashflows
    with store.connect() as c:
        rows = c.execute(select(cf.c.trade_id, cf.c.type, cf.c.event_date, cf.c.payment_date, cf.c.amount)
                         .order_by(cf.c.trade_id, cf.c.event_date, cf.c.type, cf.c.amount)).all()
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows]
