"""Expiry, knocked states, seasoning, the T/T_disc convention and input handling."""
import warnings

import numpy as np
import pytest

from otclab.core.errors import TermsError
from otclab.engines.analytic import (
    asset_or_nothing,
    barrier_price,
    bs_greeks,
    bs_price,
    cash_or_nothing,
    geometric_asian_continuous,
    geometric_asian_discrete,
    implied_vol,
)

STRIKES = np.array([80.0, 100.0, 120.0])


def test_expiry_gives_intrinsic_value_without_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        call = bs_price("call", 100.0, STRIKES, 0.0, 0.03, 0.01, 0.2)
        put = bs_price("put", 100.0, STRIKES, 0.0, 0.03, 0.01, 0.2)
        greeks = bs_greeks("call", 100.0, STRIKES, 0.0, 0.03, 0.01, 0.2)
        cash = cash_or_nothing("call", 100.0, STRIKES, 0.0, 0.03, 0.01, 0.2, payout=5.0)
        asset = asset_or_nothing("put", 100.0, STRIKES, 0.0, 0.03, 0.01, 0.2)
        asian = geometric_asian_continuous("call", 100.0, STRIKES, 0.0, 0.03, 0.01, 0.2)
    np.testing.assert_array_equal(call, [20.0, 0.0, 0.0])
    np.testing.assert_array_equal(put, [0.0, 0.0, 20.0])
    np.testing.assert_array_equal(greeks["delta"], [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(greeks["gamma"], 0.0)
    np.testing.assert_array_equal(greeks["vega"], 0.0)
    np.testing.assert_array_equal(cash, [5.0, 2.5, 0.0])  # at the money: half, keeps parity
    np.testing.assert_array_equal(asset, [0.0, 50.0, 100.0])
    np.testing.assert_array_equal(asian, [20.0, 0.0, 0.0])
    assert all(np.isfinite(v).all() for v in greeks.values())


def test_zero_vol_is_discounted_forward_intrinsic():
    price = bs_price("call", 100.0, STRIKES, 2.0, 0.05, 0.01, 0.0, T_disc=2.1)
    forward = 100.0 * np.exp(0.04 * 2.0)
    np.testing.assert_allclose(price, np.exp(-0.05 * 2.1) * np.maximum(forward - STRIKES, 0.0),
                               rtol=1e-14)


def test_discount_time_only_discounts():
    """With T_disc != T the variance and drift stay on T; only the discount factor moves."""
    args = (100.0, STRIKES, 0.5, 0.03, 0.01, 0.25)
    for option_type in ("call", "put"):
        np.testing.assert_allclose(bs_price(option_type, *args, T_disc=0.6),
                                   bs_price(option_type, *args) * np.exp(-0.03 * 0.1), rtol=1e-14)
    # rebate-free barriers pay only at expiry, so the same holds there ...
    barrier_args = ("call", "up_out", 100.0, STRIKES, 130.0, 0.0, 0.5, 0.03, 0.01, 0.25)
    np.testing.assert_allclose(barrier_price(*barrier_args, T_disc=0.6),
                               barrier_price(*barrier_args) * np.exp(-0.03 * 0.1), rtol=1e-12)
    # ... and with a rebate at hit the formula is the one-clock one at r_eff = rate*T_disc/T
    # with the same carry b = rate - div_yield
    r_eff = 0.03 * 0.6 / 0.5
    with_rebate = ("put", "down_out", 100.0, STRIKES, 85.0, 2.0, 0.5)
    np.testing.assert_allclose(barrier_price(*with_rebate, 0.03, 0.01, 0.25, T_disc=0.6),
                               barrier_price(*with_rebate, r_eff, r_eff - 0.02, 0.25), rtol=1e-13)


@pytest.mark.parametrize("option_type", ["call", "put"])
def test_spot_beyond_barrier_is_knocked(option_type):
    vanilla = bs_price(option_type, 100.0, STRIKES, 0.5, 0.03, 0.0, 0.3, T_disc=0.55)
    for barrier_type, barrier in [("up", 95.0), ("up", 100.0), ("down", 105.0), ("down", 100.0)]:
        args = (100.0, STRIKES, barrier, 2.5, 0.5, 0.03, 0.0, 0.3)
        knocked_out = barrier_price(option_type, f"{barrier_type}_out", *args, T_disc=0.55)
        knocked_in = barrier_price(option_type, f"{barrier_type}_in", *args, T_disc=0.55)
        np.testing.assert_array_equal(knocked_out, 2.5)  # rebate paid now
        np.testing.assert_array_equal(knocked_in, vanilla)


def test_barrier_at_expiry_inside_pays_payoff_or_rebate():
    out = barrier_price("call", "up_out", 100.0, STRIKES, 130.0, 1.0, 0.0, 0.03, 0.0, 0.3)
    knock_in = barrier_price("call", "up_in", 100.0, STRIKES, 130.0, 1.0, 0.0, 0.03, 0.0, 0.3)
    np.testing.assert_array_equal(out, [20.0, 0.0, 0.0])
    np.testing.assert_array_equal(knock_in, 1.0)


def test_knock_out_rebate_approaches_rebate_next_to_barrier():
    near = barrier_price("call", "down_out", 95.0 * (1 + 1e-9), 100.0, 95.0, 3.0, 0.5, 0.08,
                         0.04, 0.25)
    assert abs(float(near) - 3.0) < 1e-6


def test_seasoned_discrete_asian_equals_fixings_at_time_zero():
    """Two past fixings both at today's spot are the same as two future fixings at t = 0."""
    future = np.array([0.25, 0.5, 0.75, 1.0])
    args = (100.0, np.array([90.0, 100.0, 110.0]))
    market = (1.0, 0.03, 0.01, 0.2)
    seasoned = geometric_asian_discrete("call", *args, future, *market,
                                        past_log_sum=2 * np.log(100.0), n_past=2)
    as_future = geometric_asian_discrete("call", *args, np.r_[0.0, 0.0, future], *market)
    np.testing.assert_allclose(seasoned, as_future, rtol=1e-13)


def test_discrete_asian_all_fixings_past_is_discounted_payoff():
    past = np.log([95.0, 105.0, 110.0])
    price = geometric_asian_discrete("put", 100.0, 110.0, np.empty(0), 0.5, 0.03, 0.0, 0.2,
                                     T_disc=0.52, past_log_sum=past.sum(), n_past=3)
    expected = np.exp(-0.03 * 0.52) * (110.0 - np.exp(past.mean()))
    assert float(price) == pytest.approx(expected, rel=1e-14)


def test_seasoned_discrete_asian_matches_monte_carlo():
    rng = np.random.default_rng(7)
    S0, K, r, q, vol, T = 100.0, 102.0, 0.03, 0.01, 0.3, 1.0
    times = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    past_logs = np.log([98.0, 104.0])
    steps = np.diff(np.r_[0.0, times])
    z = rng.standard_normal((400_000, times.size))
    increments = (r - q - 0.5 * vol**2) * steps + vol * np.sqrt(steps) * z
    log_paths = np.log(S0) + np.cumsum(increments, axis=1)
    geo = np.exp((past_logs.sum() + log_paths.sum(axis=1)) / (times.size + 2))
    payoff = np.exp(-r * T) * np.maximum(geo - K, 0.0)
    mc, se = payoff.mean(), payoff.std() / np.sqrt(payoff.size)
    exact = float(geometric_asian_discrete("call", S0, K, times, T, r, q, vol,
                                           past_log_sum=past_logs.sum(), n_past=2))
    assert abs(exact - mc) < 4 * se


def test_discrete_asian_broadcasts_fixing_schedules_against_contracts():
    schedules = np.array([[0.5, 1.0], [0.25, 1.0]])  # (2 contracts, 2 fixings)
    batch = geometric_asian_discrete("call", 100.0, np.array([95.0, 105.0]), schedules, 1.0,
                                     0.03, 0.0, 0.2)
    one = [float(geometric_asian_discrete("call", 100.0, k, s, 1.0, 0.03, 0.0, 0.2))
           for k, s in zip([95.0, 105.0], schedules)]
    np.testing.assert_allclose(batch, one, rtol=1e-14)


def test_implied_vol_nan_where_no_vol_fits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # call, S=K=100, T=1, no rates: intrinsic 0, upper bound 100
        vols = implied_vol([-1.0, 0.0, 100.0, 150.0, np.nan, 8.0], "call", 100.0, 100.0,
                           [1.0, 1.0, 1.0, 1.0, 1.0, 0.0], 0.0, 0.0)
    assert np.isnan(vols[[0, 2, 3, 4, 5]]).all()
    assert vols[1] == 0.0  # exactly the intrinsic value: zero vol
    below_intrinsic = implied_vol(19.0, "call", 120.0, 100.0, 1.0, 0.0, 0.0)
    assert np.isnan(below_intrinsic)


def test_implied_vol_nan_when_not_converged_within_max_iter():
    assert np.isnan(implied_vol(5.0, "call", 100.0, 100.0, 1.0, 0.0, 0.0, max_iter=2))
    vol = implied_vol(5.0, "call", 100.0, 100.0, 1.0, 0.0, 0.0)
    assert abs(float(bs_price("call", 100.0, 100.0, 1.0, 0.0, 0.0, vol)) - 5.0) < 1e-12


def test_implied_vol_extreme_but_fitting_prices():
    vols = np.array([0.01, 0.05, 1.0, 3.0, 6.0])
    prices = bs_price("put", 100.0, 70.0, 0.5, 0.02, 0.0, vols, T_disc=0.52)
    recovered = implied_vol(prices, "put", 100.0, 70.0, 0.5, 0.02, 0.0, T_disc=0.52)
    # the 1% vol put is worth ~1e-150: its price no longer pins the vol down, but it reprices
    np.testing.assert_allclose(recovered[1:], vols[1:], atol=1e-8)
    np.testing.assert_allclose(bs_price("put", 100.0, 70.0, 0.5, 0.02, 0.0, recovered, T_disc=0.52),
                               prices, rtol=1e-9, atol=1e-300)


def test_option_type_accepts_bool_arrays_lists_and_any_case():
    by_string = bs_price(np.array(["call", "put", "put"]), 100.0, STRIKES, 1.0, 0.03, 0.0, 0.2)
    by_bool = bs_price(np.array([True, False, False]), 100.0, STRIKES, 1.0, 0.03, 0.0, 0.2)
    by_list = bs_price(["Call", " PUT", "put"], 100.0, STRIKES, 1.0, 0.03, 0.0, 0.2)
    np.testing.assert_array_equal(by_string, by_bool)
    np.testing.assert_array_equal(by_string, by_list)


@pytest.mark.parametrize("bad", ["straddle", ["call", "cal"], np.array([1, 0])])
def test_bad_option_type_names_the_field(bad):
    with pytest.raises(TermsError) as info:
        bs_price(bad, 100.0, 100.0, 1.0, 0.03, 0.0, 0.2)
    assert info.value.field == "option_type"


def test_results_have_the_full_broadcast_shape():
    greeks = bs_greeks(["call", "put"], 100.0, 100.0, 1.0, 0.03, 0.0, 0.2)
    assert {name: value.shape for name, value in greeks.items()} == dict.fromkeys(greeks, (2,))
    np.testing.assert_array_equal(greeks["gamma"][0], greeks["gamma"][1])
    price = barrier_price(np.array([True, False]), "up_out", 100.0, 100.0, 120.0, 0.0, 1.0,
                          0.03, 0.0, 0.2)
    assert price.shape == (2,) and price[0] != price[1]
    grid = bs_price("call", np.linspace(80, 120, 5)[:, None], STRIKES[None, :], 1.0, 0.03, 0.0,
                    0.2)
    assert grid.shape == (5, 3)


def test_bad_barrier_type_names_the_field_and_choices():
    with pytest.raises(TermsError, match="up_out, up_in, down_out, down_in") as info:
        barrier_price("call", "knock_out", 100.0, 100.0, 120.0, 0.0, 1.0, 0.03, 0.0, 0.2)
    assert info.value.field == "barrier_type"
