"""A batch of 1000 random contracts priced in one call equals pricing them one by one."""
import numpy as np
import pytest

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

def _one(book, i, names):
    return {k: (book[k][i] if k != "option_type" else str(book[k][i])) for k in names}


def _assert_batch_equals_loop(func, book, names, extract=lambda v: v):
    batch = extract(func(**{k: book[k] for k in names}))
    assert batch.shape == (len(book["spot"]),)
    looped = np.array([float(extract(func(**_one(book, i, names))))
                       for i in range(len(book["spot"]))])
    assert not np.isnan(batch).any()
    # equal up to the last bits: NumPy's vectorised exp/log (SIMD loops) may round differently
    # from the one-element path by an ulp
    np.testing.assert_allclose(batch, looped, rtol=1e-13, atol=1e-13)


BS = ["option_type", "spot", "strike", "T", "rate", "div_yield", "vol", "T_disc"]
BARRIER = ["option_type", "barrier_type", "spot", "strike", "barrier", "rebate", "T", "rate",
           "div_yield", "vol", "T_disc"]


@pytest.mark.parametrize("func", [bs_price, cash_or_nothing, asset_or_nothing,
                                  geometric_asian_continuous])
def test_european_batch_equals_loop(book, func):
    _assert_batch_equals_loop(func, book, BS)


@pytest.mark.parametrize("greek", ["delta", "gamma", "vega", "theta", "rho"])
def test_greeks_batch_equals_loop(book, greek):
    _assert_batch_equals_loop(bs_greeks, book, BS, extract=lambda g: g[greek])


def test_barrier_batch_equals_loop(book):
    _assert_batch_equals_loop(barrier_price, book, BARRIER)
    _assert_batch_equals_loop(bgk_barrier, book, BARRIER + ["dt"])


def test_discrete_asian_batch_equals_loop(book):
    _assert_batch_equals_loop(geometric_asian_discrete, book,
                              BS + ["fixing_times", "past_log_sum", "n_past"])


def test_implied_vol_batch_equals_loop_and_recovers_vols(book):
    live = book["T"] > 0
    prices = bs_price(**{k: book[k] for k in BS})
    book = dict(book, price=prices)
    names = ["price"] + [k for k in BS if k != "vol"]
    batch = implied_vol(**{k: book[k][live] for k in names})
    looped = np.array([float(implied_vol(**_one(book, i, names))) for i in np.flatnonzero(live)])
    np.testing.assert_allclose(batch, looped, rtol=1e-12, atol=1e-12)
    # where the price pins the vol down (vega not negligible), it comes back
    vega = bs_greeks(**{k: book[k] for k in BS})["vega"][live]
    pinned = vega > 1e-3 * book["spot"][live]
    assert pinned.sum() > 800
    np.testing.assert_allclose(batch[pinned], book["vol"][live][pinned], atol=1e-8)
    assert np.isnan(implied_vol(**{k: book[k][~live] for k in names})).all()
