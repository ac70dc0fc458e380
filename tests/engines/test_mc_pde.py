"""The numerical engines on their own: GBM moments, seeds, chunking, the PDE against Black–Scholes."""
import math

import numpy as np
import pytest

from otclab.engines.analytic import bs_price
from otclab.engines.mc import crossing_probability, mc_expectation
from otclab.engines.pde import PdeInterval, log_grid, solve_backward
from otclab.engines.pde.grid import fraction_above


def _gbm(n_steps=12, T=1.0, r=0.03, q=0.01, vol=0.25):
    dt = np.full(n_steps, T / n_steps)
    return (r - q - 0.5 * vol**2) * dt, vol * np.sqrt(dt)


def test_gbm_forward_and_seed_reproducibility():
    drift, vsd = _gbm()
    a = mc_expectation(lambda s: s[:, -1], n_paths=200_000, log_s0=0.0, drift=drift, vol_sqrt_dt=vsd, seed=5)
    assert abs(a.mean - math.exp(0.02)) < 3 * a.stderr
    b = mc_expectation(lambda s: s[:, -1], n_paths=200_000, log_s0=0.0, drift=drift, vol_sqrt_dt=vsd, seed=5)
    c = mc_expectation(lambda s: s[:, -1], n_paths=200_000, log_s0=0.0, drift=drift, vol_sqrt_dt=vsd, seed=6)
    assert a.mean == b.mean and a.mean != c.mean


def test_chunking_bounds_memory_without_bias():
    drift, vsd = _gbm(n_steps=50)
    seen = []
    res = mc_expectation(lambda s: (seen.append(s.shape[0]), np.maximum(s[:, -1] - 1, 0))[1], n_paths=100_000,
                         log_s0=0.0, drift=drift, vol_sqrt_dt=vsd, seed=1, chunk_paths=8192)
    assert max(seen) <= 8192 and sum(seen) == 100_000 and res.paths == 100_000
    exact = float(bs_price("call", 1.0, 1.0, 1.0, 0.03, 0.01, 0.25, T_disc=0.0))  # undiscounted
    assert abs(res.mean - exact) < 3 * res.stderr


def test_antithetic_reduces_the_error_of_a_linear_payoff():
    drift, vsd = _gbm()
    plain = mc_expectation(lambda s: s[:, -1], n_paths=50_000, log_s0=0.0, drift=drift, vol_sqrt_dt=vsd,
                           seed=2, antithetic=False)
    anti = mc_expectation(lambda s: s[:, -1], n_paths=50_000, log_s0=0.0, drift=drift, vol_sqrt_dt=vsd, seed=2)
    assert anti.stderr < 0.5 * plain.stderr


def test_bridge_probability_limits():
    p = crossing_probability(np, np.array([1.0, 1.0, 1.3]), np.array([1.0, 1.25, 1.0]), 1.2, 0.005, "up")
    assert p[1] == 1.0 and p[2] == 1.0 and 0 < p[0] < 1e-3


@pytest.mark.parametrize("option_type,strike", [("call", 1.0), ("put", 1.1), ("call", 0.8)])
def test_pde_converges_to_black_scholes(option_type, strike):
    T, r, q, vol = 0.5, 0.03, 0.01, 0.3
    x = log_grid(1.0, vol, T, n=801)
    s = np.exp(x)
    payoff = np.maximum(s - strike, 0) if option_type == "call" else np.maximum(strike - s, 0)
    itv = PdeInterval(dtau=T, sigma=vol, mu=r - q - 0.5 * vol**2, r_eff=r, substeps=200)
    res = solve_backward(x, payoff[None, :], [itv])
    j = int(np.argmin(np.abs(x)))
    assert res.values[0, j] == pytest.approx(float(bs_price(option_type, 1.0, strike, T, r, q, vol)), abs=2e-4)


def test_cell_averaged_indicator():
    s = np.exp(np.linspace(-0.1, 0.1, 21))
    w = fraction_above(s, 1.0)
    assert w[0] == 0 and w[-1] == 1 and w[10] == pytest.approx(0.5)
