"""Parity and monotonicity under hypothesis-generated trades (analytic and PDE engines: fast)."""
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otclab.pricing import price
from otclab.pricing.request import parse_request
from otclab.templates.context import PricingContext

from builders import market, terms

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
vol = st.floats(0.1, 0.45)
rate = st.floats(0.0, 0.04)
div = st.floats(0.0, 0.04)
strike = st.floats(0.8, 1.2)
tenor = st.sampled_from([3, 6, 12])
basis = st.sampled_from(["trading", "calendar"])


def _v(template, t, m, engine="analytic"):
    return price({"template": template, "terms": t, "market": m}, engine=engine).value


@SETTINGS
@given(strike, vol, rate, div, tenor, basis)
def test_put_call_parity_analytic_and_pde(k, v, r, q, n, b):
    m = market(vol=v, rate=r, div_yield=q, time_basis=b)
    call_t, put_t = terms(option_type="call", strike=k, tenor_months=n), terms(option_type="put", strike=k, tenor_months=n)
    req = parse_request({"template": "vanilla", "terms": call_t, "market": m})
    bs = PricingContext(req.template, req.terms, req.market).bs_inputs()
    forward_pv = bs["spot"] * math.exp((bs["rate"] - bs["div_yield"]) * bs["T"] - bs["rate"] * bs["T_disc"])
    parity = call_t["notional"] * (forward_pv - k * math.exp(-bs["rate"] * bs["T_disc"]))
    assert abs(_v("vanilla", call_t, m) - _v("vanilla", put_t, m) - parity) < 1e-6 * call_t["notional"]
    pde_gap = _v("vanilla", call_t, m, "pde") - _v("vanilla", put_t, m, "pde")
    assert abs(pde_gap - parity) < 5e-4 * call_t["notional"]


@SETTINGS
@given(strike, vol, tenor)
def test_barrier_in_out_parity_and_bounds(k, v, n):
    m = market(vol=v)
    base = terms(option_type="call", strike=k, tenor_months=n, barrier=1.25, monitoring="continuous")
    van = _v("vanilla", {x: base[x] for x in ("underlying", "notional", "initial_price", "start_date",
                                                "tenor_months", "option_type", "strike")}, m)
    out = _v("barrier", {**base, "barrier_type": "up_out"}, m)
    inn = _v("barrier", {**base, "barrier_type": "up_in"}, m)
    assert abs(out + inn - van) < 1e-6 * base["notional"]
    assert -1e-9 <= out <= van + 1e-9


@SETTINGS
@given(st.floats(0.9, 1.1), st.floats(0.01, 0.05), vol)
def test_digital_and_sharkfin_monotone(k, dk, v):
    m = market(vol=v)
    lo = _v("digital", terms(option_type="call", strike=k, payout=0.05), m)
    hi = _v("digital", terms(option_type="call", strike=k + dk, payout=0.05), m)
    assert hi <= lo + 1e-9
    fin = lambda H: _v("sharkfin", terms(option_type="call", strike=1.0, barrier=H, monitoring="expiry"), m)  # noqa: E731
    assert fin(1.1) <= fin(1.1 + dk) + 1e-9


@settings(max_examples=6, deadline=None)
@given(st.floats(0.05, 0.25), st.floats(0.01, 0.05), st.floats(0.12, 0.3))
def test_snowball_monotone_in_coupon_barrier_and_vol(c, dc, v):
    m = market(vol=v, div_yield=0.0)
    t = terms(tenor_months=12, ko_barrier=1.03, ki_barrier=0.75, coupon=c, lockup_months=3)
    base = _v("snowball", t, m, "pde")
    assert _v("snowball", {**t, "coupon": c + dc}, m, "pde") > base
    assert _v("snowball", {**t, "ki_barrier": 0.75 - dc}, m, "pde") > base      # lower KI: safer
    assert _v("snowball", t, market(vol=v + 0.05, div_yield=0.0), "pde") < base  # holder is short vol
