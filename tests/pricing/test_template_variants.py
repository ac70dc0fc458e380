"""Variants that are parameters of one template, and seasoned trades (state and fixings)."""
import pytest

from otclab.core.errors import TermsError
from otclab.pricing import price

from builders import market, terms

SNOW = terms(tenor_months=12, ko_barrier=1.03, ki_barrier=0.75, coupon=0.12, lockup_months=3)


def v(template, t, m=None, engine="pde", **kw):
    return price({"template": template, "terms": t, "market": m or market(), **kw}, engine=engine).value


def test_snowball_variants_order_as_a_trader_expects():
    base = v("snowball", SNOW)
    assert v("snowball", {**SNOW, "ko_step_down": 0.005}) != base
    assert v("snowball", {**SNOW, "ki_barrier": None}) > base                 # 小雪球: no knock-in
    assert v("snowball", {**SNOW, "loss_floor": 0.8}) > base                  # 限亏
    assert v("snowball", {**SNOW, "ki_strike": 0.9}) > base                   # OTM knock-in strike
    early = [0.2] * 3 + [0.12] * 7                                            # 早利: 10 KO dates
    assert v("snowball", {**SNOW, "ko_coupons": early}) > base
    assert v("snowball", {**SNOW, "dividend_coupon": 0.0}) < base
    levels = [1.03 - 0.005 * k for k in range(10)]
    assert v("snowball", {**SNOW, "ko_barriers": levels}) == pytest.approx(v("snowball", {**SNOW, "ko_step_down": 0.005}))


def test_snowball_schedule_length_errors_name_the_field():
    with pytest.raises(TermsError, match=r"terms.ko_coupons: needs one coupon per KO observation \(10\); got 3"):
        v("snowball", {**SNOW, "ko_coupons": [0.1, 0.1, 0.1]})


def test_daily_knock_out_snowball_engines_agree():
    t = {**SNOW, "ko_frequency": "daily"}
    mc = price({"template": "snowball", "terms": t, "market": market()}, engine="mc", paths=60_000, seed=2)
    assert abs(mc.value - v("snowball", t)) <= max(3 * mc.stderr, 1e-3 * t["notional"])
    assert v("snowball", t) < v("snowball", SNOW)     # knocks out sooner: fewer coupons


def test_snowball_state_from_fixings():
    m = market(valuation_date="2025-04-10", spot=5000.0)
    fix_ki = {d: 6000.0 for d in ("2025-03-04", "2025-03-05", "2025-03-06")}
    days = __import__("otclab.core.calendar", fromlist=["sse_calendar"]).sse_calendar().trading_days("2025-03-03", "2025-04-10")
    fixings = {d.isoformat(): 6000.0 for d in days}
    fixings["2025-04-08"] = 4400.0            # a close below 75% of 6000: knocked in
    knocked = v("snowball", SNOW, m, fixings=fixings)
    assert knocked == pytest.approx(v("snowball", SNOW, m, state={"ki_hit": True}))
    fixings["2025-04-08"] = 5900.0
    assert v("snowball", SNOW, m, fixings=fixings) == pytest.approx(v("snowball", SNOW, m, state={"ki_hit": False}))
    assert fix_ki


def test_knocked_out_trades_are_refused():
    m = market(valuation_date="2025-06-10", spot=6300.0)
    days = __import__("otclab.core.calendar", fromlist=["sse_calendar"]).sse_calendar().trading_days("2025-03-03", "2025-06-10")
    fixings = {d.isoformat(): 6300.0 for d in days}
    with pytest.raises(TermsError, match="knock-out on 2025-06-03"):
        v("snowball", SNOW, m, fixings=fixings)
    with pytest.raises(TermsError, match="state.barrier_hit"):
        v("barrier", terms(option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out"),
          state={"barrier_hit": True})


def test_knocked_in_barrier_is_the_vanilla():
    t = terms(option_type="put", strike=1.0, barrier=0.85, barrier_type="down_in", monitoring="daily")
    van = v("vanilla", {k: t[k] for k in ("underlying", "notional", "initial_price", "start_date", "tenor_months",
                                          "option_type", "strike")}, engine="analytic")
    assert v("barrier", t, state={"barrier_hit": True}, engine="analytic") == pytest.approx(van)
    assert v("barrier", t, state={"barrier_hit": True}) == pytest.approx(van, abs=1e-4 * 1e6)


def test_phoenix_memory_state_and_seasoning():
    t = terms(tenor_months=12, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.8, coupon=0.12, memory=True)
    m = market(valuation_date="2025-05-06", spot=4700.0)
    two_missed = v("phoenix", t, m, state={"missed": 2, "ki_hit": False})
    none_missed = v("phoenix", t, m, state={"missed": 0, "ki_hit": False})
    assert two_missed > none_missed
    mc = price({"template": "phoenix", "terms": t, "market": m, "state": {"missed": 2, "ki_hit": False}},
               engine="mc", paths=60_000, seed=4)
    assert abs(mc.value - two_missed) <= max(3 * mc.stderr, 1e-3 * 1e6)


def test_american_put_is_worth_at_least_the_european():
    t = terms(option_type="put", strike=1.05, tenor_months=12)
    eu = v("vanilla", t, market(rate=0.05, div_yield=0.0), engine="analytic")
    am = v("vanilla", {**t, "exercise": "american"}, market(rate=0.05, div_yield=0.0))
    assert am > eu + 1000
    with pytest.raises(Exception, match="no closed form"):
        v("vanilla", {**t, "exercise": "american"}, engine="analytic")
