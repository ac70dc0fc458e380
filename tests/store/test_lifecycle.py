"""The lifecycle on the demo book: cash flows equal each template's payoff on the realised closes,
state agrees with what the templates derive from fixings, runs are idempotent and resumable."""
import datetime as dt

import numpy as np
import pytest

from otclab.core.calendar import sse_calendar
from otclab.market.snapshot import MarketSnapshot
from otclab.store.book import events_of, load_book
from otclab.store.fixings import latest
from otclab.templates.context import PricingContext
from otclab.workflows.demo import EOD_DATE
from otclab.workflows.lifecycle.plan import start_context
from otclab.workflows.lifecycle.run import LifecycleError, run_lifecycle
from store_helpers import cashflows, events

FAMILIES = ("vanilla", "digital", "barrier", "sharkfin", "double_sharkfin", "asian", "snowball", "phoenix")


def realised_payoff(t, series):
    """The template's own payoff cell on the realised closes: one path, zero rates (undiscounted),
    vanishing vol (continuous barriers reduce to the closes)."""
    terms = t.record.terms
    mkt = MarketSnapshot.from_dict({"valuation_date": terms["start_date"].isoformat(),
                                    "spots": {terms["underlying"]: terms["initial_price"]}, "rate": 0.0, "vol": 1e-9})
    ctx = start_context(t.template, terms, mkt)
    last = max(series)
    s = np.array([[series[min(d, last)][0] / ctx.s0 for d in ctx.dates]])
    with np.errstate(over="ignore"):    # Brownian-bridge terms of a vanishing variance
        return float(np.asarray(t.template.get("payoff")(s, ctx))[0])


def test_cash_flows_equal_the_payoff_on_realised_fixings_for_every_family(demo):
    st = demo["store"]
    checked = {}
    with st.connect() as c:
        ended = [t for t in load_book(c) if t.status in ("matured", "knocked_out")]
        closes = latest(c)
        for t in ended:
            paid = sum(e.amount or 0.0 for e in events_of(c, t.trade_id))
            want = realised_payoff(t, closes[t.record.underlying])
            assert paid / t.record.notional == pytest.approx(want, abs=1e-9), (t.trade_id, t.record.template)
            checked.setdefault(t.record.template, set()).add(t.status)
    assert set(checked) == set(FAMILIES), checked
    assert "knocked_out" in checked["snowball"] and "knocked_out" in checked["phoenix"]
    assert "matured" in checked["snowball"]


def test_lifecycle_state_is_what_the_templates_derive_from_the_fixings(demo):
    """ORE-style reconciliation: the event record (knocked in or not) against the fixing history."""
    st = demo["store"]
    mkt = MarketSnapshot.from_dict({"valuation_date": EOD_DATE.isoformat(), "spot": 1.0, "rate": 0.01, "vol": 0.2})
    n_ki = 0
    with st.connect() as c:
        closes = latest(c)
        for t in load_book(c, status="live"):
            if t.record.template not in ("snowball", "phoenix", "barrier") or t.record.start_date >= EOD_DATE:
                continue
            if t.record.template == "barrier" and t.record.terms["barrier_type"].endswith("out"):
                continue
            fx = {d.isoformat(): v[0] for d, v in closes[t.record.underlying].items() if d <= EOD_DATE}
            ctx = PricingContext(t.template, t.record.terms, mkt.bumped(), {}, fx)
            derived = ctx.state.get("ki_hit", ctx.state.get("barrier_hit"))
            ki = bool((t.state or {}).get("ki"))
            assert ki == derived, t.trade_id
            n_ki += ki
    assert n_ki >= 3


def test_a_second_run_of_the_same_date_adds_nothing(demo):
    st = demo["store"]
    before = events(st)
    rep = run_lifecycle(st, EOD_DATE)
    assert rep.runs == [] and sum(rep.events.values()) == 0
    assert events(st) == before


def test_statuses_and_knock_ins_happened_for_real_reasons(demo):
    with demo["store"].connect() as c:
        book = load_book(c)
    status = {s: sum(t.status == s for t in book) for s in ("live", "knocked_out", "matured")}
    assert all(v > 10 for v in status.values()), status
    assert any(t.status == "live" and t.record.template == "snowball" and (t.state or {}).get("ki") for t in book)


@pytest.fixture
def fresh(db_url, tmp_path):
    """A booked demo book (no lifecycle yet) on each backend."""
    from otclab.store.db import Store
    from otclab.workflows.demo import init_demo

    init_demo(tmp_path, trades=120, url=db_url, upto="booking", log=lambda *a: None)
    return Store(db_url)


def test_day_by_day_runs_end_where_one_backfill_ends(fresh, tmp_path_factory, db_url):
    cal = sse_calendar()
    start = dt.date(2025, 11, 14)
    run_lifecycle(fresh, start)
    d = start
    while d < EOD_DATE:
        d = cal.add_trading_days(d, 1)
        run_lifecycle(fresh, d)
    daily = events(fresh), cashflows(fresh)
    # the same book backfilled in one run, in chunks of 7 trading days
    from otclab.store.db import Store
    from otclab.workflows.demo import init_demo

    other = tmp_path_factory.mktemp("one")
    init_demo(other, trades=120, upto="booking", log=lambda *a: None)
    st = Store(f"sqlite:///{other / 'otclab.db'}")
    run_lifecycle(st, EOD_DATE, chunk_days=7)
    assert (events(st), cashflows(st)) == daily


def test_a_missing_close_stops_the_run_before_it_and_names_trade_underlying_date(fresh):
    from sqlalchemy import delete

    from otclab.store import tables as T

    gap = dt.date(2025, 3, 12)
    with fresh.begin() as c:    # a close the vendor never sent (test set-up: the store never deletes)
        c.execute(delete(T.fixings).where(T.fixings.c.underlying == "000905.SH", T.fixings.c.date == gap))
    with pytest.raises(LifecycleError) as e:
        run_lifecycle(fresh, EOD_DATE)
    msg = str(e.value)
    assert "no close of 000905.SH on 2025-03-12, due for trade T" in msg and "fixings import" in msg
    with fresh.connect() as c:
        from sqlalchemy import func, select

        through = c.execute(select(func.max(T.runs.c.through_date)).where(T.runs.c.status == "ok")).scalar()
        failed = c.execute(select(T.runs.c.error).where(T.runs.c.status == "failed")).scalars().all()
        assert c.execute(select(func.max(T.trade_events.c.date))).scalar() < gap
    assert through == dt.date(2025, 3, 11) and "2025-03-12" in failed[0]
    from otclab.store.fixings import import_fixings

    import_fixings(fresh, "date,underlying,close\n2025-03-12,000905.SH,5650.5\n", "late.csv")
    rep = run_lifecycle(fresh, EOD_DATE)
    assert rep.through == EOD_DATE and sum(rep.events.values()) > 0


def test_a_date_that_is_not_a_trading_day_is_refused(fresh):
    with pytest.raises(LifecycleError, match="2025-10-01 is not an SSE trading day; the trading day before it is 2025-09-30"):
        run_lifecycle(fresh, "2025-10-01")


def test_a_backdated_booking_is_caught_up_by_the_next_run(fresh):
    from otclab.workflows import trades as tc

    run_lifecycle(fresh, EOD_DATE)
    with fresh.connect() as c:
        closes = latest(c, ["000852.SH"])["000852.SH"]
    start = dt.date(2025, 2, 5)
    raw = {"trade_id": "LATE1", "template": "snowball", "direction": "sell", "premium": 1e6,
           "counterparty": {"id": "CP001", "name": "上海晨星私募基金管理有限公司"},
           "terms": {"underlying": "000852.SH", "notional": 1e6, "initial_price": closes[start][0],
                     "start_date": start.isoformat(), "tenor_months": 12, "ko_barrier": 1.0, "ki_barrier": 0.8,
                     "coupon": 0.1, "lockup_months": 1}}
    tc.book(fresh, [raw], as_of=EOD_DATE)
    rep = run_lifecycle(fresh, EOD_DATE)
    assert rep.trades_observed == 1
    with fresh.connect() as c:
        evs = events_of(c, "LATE1")
    assert evs and evs[0].date > start
