"""No-arbitrage identities, limits and internal consistency of the analytic formulas."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from otclab.engines.analytic import (
    asset_or_nothing,
    barrier_price,
    bgk_barrier,
    bs_greeks,
    bs_price,
    cash_or_nothing,
    geometric_asian_continuous,
    geometric_asian_discrete,
    implied_vol,
)

SETTINGS = settings(max_examples=60, deadline=None)

spots = st.floats(20.0, 500.0)
moneyness = st.floats(0.5, 2.0)
times = st.floats(0.02, 5.0)
rates = st.floats(-0.02, 0.12)
yields = st.floats(-0.05, 0.10)
vols = st.floats(0.05, 1.0)
disc_ratio = st.floats(0.6, 1.6)  # T_disc / T: calendar vs trading-day clocks
option_types = st.sampled_from(["call", "put"])


@st.composite
def markets(draw):
    """(spot, strike, T, rate, div_yield, vol, T_disc) with T_disc generally != T."""
    spot = draw(spots)
    T = draw(times)
    return (spot, spot * draw(moneyness), T, draw(rates), draw(yields), draw(vols),
            T * draw(disc_ratio))


@SETTINGS
@given(markets())
def test_put_call_parity(m):
    spot, strike, T, r, q, vol, Td = m
    call = bs_price("call", spot, strike, T, r, q, vol, T_disc=Td)
    put = bs_price("put", spot, strike, T, r, q, vol, T_disc=Td)
    forward_value = spot * np.exp((r - q) * T - r * Td) - strike * np.exp(-r * Td)
    assert abs(float(call - put) - forward_value) <= 1e-10 * spot


@SETTINGS
@given(markets(), option_types, st.floats(0.7, 1.4), st.sampled_from(["up", "down"]))
def test_knock_in_plus_knock_out_is_vanilla(m, option_type, barrier_level, direction):
    spot, strike, T, r, q, vol, Td = m
    barrier = spot * barrier_level  # either side of spot: the knocked state is covered too
    args = (spot, strike, barrier, 0.0, T, r, q, vol, Td)
    knock_in = barrier_price(option_type, f"{direction}_in", *args)
    knock_out = barrier_price(option_type, f"{direction}_out", *args)
    vanilla = bs_price(option_type, spot, strike, T, r, q, vol, T_disc=Td)
    assert abs(float(knock_in + knock_out - vanilla)) <= 1e-8 * spot
    assert -1e-10 * spot <= float(knock_out) <= float(vanilla) + 1e-10 * spot
    assert -1e-10 * spot <= float(knock_in) <= float(vanilla) + 1e-10 * spot


@SETTINGS
@given(markets(), st.floats(0.1, 1000.0))
def test_cash_or_nothing_call_plus_put_is_discounted_payout(m, payout):
    spot, strike, T, r, q, vol, Td = m
    both = (cash_or_nothing("call", spot, strike, T, r, q, vol, payout=payout, T_disc=Td)
            + cash_or_nothing("put", spot, strike, T, r, q, vol, payout=payout, T_disc=Td))
    assert abs(float(both) - payout * np.exp(-r * Td)) <= 1e-12 * payout


@SETTINGS
@given(markets(), option_types)
def test_asset_minus_strike_cash_digital_is_vanilla(m, option_type):
    spot, strike, T, r, q, vol, Td = m
    args = (option_type, spot, strike, T, r, q, vol)
    replicated = (asset_or_nothing(*args, T_disc=Td)
                  - strike * cash_or_nothing(*args, payout=1.0, T_disc=Td))
    sign = 1.0 if option_type == "call" else -1.0
    vanilla = bs_price(*args, T_disc=Td)
    assert abs(sign * float(replicated) - float(vanilla)) <= 1e-9 * spot


@SETTINGS
@given(markets())
def test_call_increases_with_spot_and_decreases_with_strike(m):
    spot, strike, T, r, q, vol, Td = m
    grid = np.linspace(0.5, 2.0, 41)
    by_spot = bs_price("call", spot * grid, strike, T, r, q, vol, T_disc=Td)
    by_strike = bs_price("call", spot, strike * grid, T, r, q, vol, T_disc=Td)
    assert np.all(np.diff(by_spot) >= -1e-12 * spot)
    assert np.all(np.diff(by_strike) <= 1e-12 * spot)
    # and strictly where the option has any time value to speak of
    assert by_spot[-1] > by_spot[0] and by_strike[-1] < by_strike[0]


@SETTINGS
@given(markets(), option_types, st.sampled_from(["up_out", "up_in", "down_out", "down_in"]),
       st.floats(0.03, 0.3))
def test_bgk_tends_to_continuous_monitoring_as_dt_shrinks(m, option_type, barrier_type, gap):
    spot, strike, T, r, q, vol, Td = m
    barrier = spot * (1.0 + gap if barrier_type.startswith("up") else 1.0 - gap)
    args = (option_type, barrier_type, spot, strike, barrier, 0.0, T, r, q, vol)
    continuous = float(barrier_price(*args, T_disc=Td))
    errors = [abs(float(bgk_barrier(*args, dt=T / n, T_disc=Td)) - continuous)
              for n in (1e2, 1e4, 1e8)]
    # the barrier shift is proportional to sqrt(dt), so is the price difference at small dt:
    # dt 10^4 times smaller, difference about 100 times smaller
    assert errors[1] <= errors[0] + 1e-12 * spot
    assert errors[2] <= 0.02 * errors[1] + 1e-10 * spot
    assert errors[2] <= 1e-3 * spot


@SETTINGS
@given(markets(), option_types)
def test_discrete_geometric_asian_tends_to_continuous(m, option_type):
    spot, strike, T, r, q, vol, Td = m
    continuous = float(geometric_asian_continuous(option_type, spot, strike, T, r, q, vol,
                                                  T_disc=Td))
    n = 20000
    fixings = T * np.arange(1, n + 1) / n
    discrete = float(geometric_asian_discrete(option_type, spot, strike, fixings, T, r, q, vol,
                                              T_disc=Td))
    assert abs(discrete - continuous) <= 2e-4 * spot


@SETTINGS
@given(markets(), option_types)
def test_implied_vol_inverts_bs_price(m, option_type):
    spot, strike, T, r, q, vol, Td = m
    price = bs_price(option_type, spot, strike, T, r, q, vol, T_disc=Td)
    recovered = implied_vol(price, option_type, spot, strike, T, r, q, T_disc=Td)
    assert np.isfinite(recovered)
    repriced = bs_price(option_type, spot, strike, T, r, q, recovered, T_disc=Td)
    assert abs(float(repriced - price)) <= 1e-9 * spot
    vega = float(bs_greeks(option_type, spot, strike, T, r, q, vol, T_disc=Td)["vega"])
    if vega > 1e-3 * spot:  # vol is well determined by the price
        assert abs(float(recovered) - vol) <= 1e-8


@SETTINGS
@given(markets(), option_types)
def test_greeks_match_central_finite_differences(m, option_type):
    spot, strike, T, r, q, vol, Td = m
    greeks = bs_greeks(option_type, spot, strike, T, r, q, vol, T_disc=Td)

    def price(**kw):
        p = dict(spot=spot, strike=strike, T=T, rate=r, div_yield=q, vol=vol, T_disc=Td) | kw
        return float(bs_price(option_type, **p))

    # spot steps in units of the distribution's width spot*vol*sqrt(T) (capped), the scale on
    # which the price curves
    width = spot * min(vol * np.sqrt(T), 0.5)
    hs, hg, hv, ht, hr = 1e-4 * width, 3e-3 * width, 1e-5, 1e-5 * T, 1e-6
    fd = {
        "price": price(),
        "delta": (price(spot=spot + hs) - price(spot=spot - hs)) / (2 * hs),
        "gamma": (price(spot=spot + hg) - 2 * price() + price(spot=spot - hg)) / hg ** 2,
        "vega": (price(vol=vol + hv) - price(vol=vol - hv)) / (2 * hv),
        "rho": (price(rate=r + hr) - price(rate=r - hr)) / (2 * hr),
        "theta_diffusion": -(price(T=T + ht) - price(T=T - ht)) / (2 * ht),
        "theta_discount": -(price(T_disc=Td + ht) - price(T_disc=Td - ht)) / (2 * ht),
        "theta": -(price(T=T + ht, T_disc=Td + ht) - price(T=T - ht, T_disc=Td - ht)) / (2 * ht),
    }
    # tolerance: truncation error of the differences (relative), a floor in each quantity's
    # natural unit, and the rounding error of differencing prices of size ~spot
    unit = {"delta": 1.0, "gamma": 1.0 / spot}
    step = {"delta": hs, "gamma": hg**2, "vega": hv, "rho": hr, "theta": ht,
            "theta_diffusion": ht, "theta_discount": ht}
    for name, approx in fd.items():
        exact = float(greeks[name])
        rounding = 16 * np.finfo(float).eps * spot / step.get(name, 1.0)
        tol = 1e-5 * abs(exact) + 1e-7 * unit.get(name, spot) + rounding
        assert abs(exact - approx) <= tol, name
