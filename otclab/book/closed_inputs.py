"""What the closed forms read, for many contracts and every Greek scenario at once.

``scenario_inputs(ctxs, scenarios)`` gives, per scenario, the Black–Scholes inputs of every
context (``PricingContext.bs_inputs``: spot as a fraction of the initial price, diffusion time T,
discounting time T_disc, zero rate, the dividend yield that matches the drift, the vol of the
total variance) and the per-step diffusion on each context's grid (``step_params``), as the
one-by-one path computes them on ``ctx.with_market(market.bumped(...))`` or ``ctx.theta_view()``:
the same formulas as array operations per underlying over all the contracts' grids side by side,
instead of a context and a curve lookup per contract and scenario. Equal to the one-by-one
numbers to rounding (summation order); ``tests/book/test_closed_form.py`` checks it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bump:
    """One scenario: spot × (1 + ``spot_rel``) (an array: one relative bump per contract), vols
    + ``vol_abs``, rates + ``rate_abs``; ``theta``: the contract seen from the next trading day
    (``PricingContext.theta_view``: time from tomorrow, today's spot and forwards)."""

    name: str
    spot_rel: object = 0.0
    vol_abs: float = 0.0
    rate_abs: float = 0.0
    theta: bool = False


@dataclass
class Inputs:
    """One scenario's inputs for n contracts: ``bs`` the closed forms' arrays (n,), ``df`` the
    discount factor to maturity (``ctx.df()``), and per contract the grid's steps (``dtau``,
    ``vols``, ``carry``: ``step_params``) as views into flat arrays (``steps(i)``)."""

    bs: dict
    df: np.ndarray
    flat: dict
    bounds: np.ndarray          # contract i's steps are flat[...][bounds[i]:bounds[i + 1]]

    def steps(self, i: int):
        """(dtau, vols, carry) on contract i's grid, as ``ctx.step_params()`` gives them."""
        a, b = self.bounds[i], self.bounds[i + 1]
        return self.flat["dtau"][a:b], self.flat["vols"][a:b], self.flat["carry"][a:b]


def _segment_diff(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``np.diff(np.concatenate([[0], x_seg]))`` for every segment of ``x`` at once."""
    prev = np.empty_like(x)
    prev[0] = 0.0
    prev[1:] = x[:-1]
    prev[starts] = 0.0
    return x - prev


def _forward_vols(surf, times: np.ndarray, mny: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``surf.forward_vols(t_seg, mny_i)`` for every segment (``mny`` per element)."""
    if len(surf.times) == 1:
        return np.asarray(surf.vol(1.0, mny), float) * np.ones_like(times)
    w = np.atleast_1d(surf.total_variance(times, mny))
    dw = _segment_diff(w, starts)
    dt = _segment_diff(times, starts)
    if np.any(dw < -1e-12):
        warnings.warn("vol surface has decreasing total variance (calendar arbitrage); "
                      "forward variance floored at zero", stacklevel=3)
    return np.sqrt(np.maximum(dw, 0.0) / np.where(dt > 0, dt, 1.0))


class ScenarioGrid:
    """The contexts' grids laid side by side once (per underlying), to read many scenarios."""

    def __init__(self, ctxs):
        self.ctxs = ctxs
        n = len(ctxs)
        if n == 0:
            raise ValueError("no contexts")
        m = ctxs[0].market
        self.market = m
        tomorrow = ctxs[0].cal.add_trading_days(m.valuation_date, 1)
        self.d1 = float(m.diffusion_time([tomorrow])[0])
        self.c1 = float(m.discount_time([tomorrow])[0])
        self.T = np.fromiter((c.T for c in ctxs), float, n)
        self.T_disc = np.fromiter((c.T_disc for c in ctxs), float, n)
        self.s0 = np.fromiter((c.s0 for c in ctxs), float, n)
        self.strike_level = np.fromiter((c._strike_level for c in ctxs), float, n)
        lens = np.fromiter((len(c.t_diff) for c in ctxs), np.int64, n)
        self.bounds = np.concatenate([[0], np.cumsum(lens)])
        self.t_diff = np.concatenate([c.t_diff for c in ctxs]).astype(float)
        self.t_disc = np.concatenate([c.t_disc for c in ctxs]).astype(float)
        self.starts = self.bounds[:-1]
        self.owner = np.repeat(np.arange(n), lens)
        self.groups: dict = {}
        for i, c in enumerate(ctxs):
            self.groups.setdefault(c.underlying, []).append(i)
        self.groups = {u: np.asarray(rows) for u, rows in self.groups.items()}
        self.flat_of = {u: np.concatenate([np.arange(self.bounds[i], self.bounds[i + 1]) for i in rows])
                        for u, rows in self.groups.items()}

    def inputs(self, bump: Bump) -> Inputs:
        """The inputs of every context under ``bump`` (module docstring)."""
        m = self.market
        n = len(self.ctxs)
        rate = m.rate.shifted(bump.rate_abs) if bump.rate_abs else m.rate
        T, T_disc = self.T, self.T_disc
        origin_d, origin_c = (self.d1, self.c1) if bump.theta else (0.0, 0.0)
        # step starts: the origin at each grid's first date, the previous date after it
        t_prev = np.empty_like(self.t_diff)
        t_prev[1:] = self.t_diff[:-1]
        t_prev[self.starts] = origin_d
        c_prev = np.empty_like(self.t_disc)
        c_prev[1:] = self.t_disc[:-1]
        c_prev[self.starts] = origin_c
        dtau = self.t_diff - t_prev
        r_f = rate.forward(c_prev, self.t_disc)
        df_T = np.asarray(rate.discount(T_disc), float)
        if bump.theta:
            df = df_T / float(rate.discount(origin_c))
            T_b = np.maximum(T - origin_d, 0.0)
            Td_b = np.maximum(T_disc - origin_c, 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(Td_b > 0, -np.log(df) / np.where(Td_b > 0, Td_b, 1.0), np.atleast_1d(rate.zero(T_disc)))
        else:
            df, T_b, Td_b = df_T, T, T_disc
            r = np.atleast_1d(rate.zero(T_disc)).astype(float)
        spot_rel = np.empty(n)
        vols = np.empty_like(self.t_diff)
        q_f = np.empty_like(self.t_diff)
        bumps = np.broadcast_to(np.asarray(bump.spot_rel, float), (n,))
        for u, rows in self.groups.items():
            surf = m.vol(u)
            if bump.vol_abs:
                surf = surf.shifted(bump.vol_abs)
            div = m.div_yield(u)
            spot = m.spot(u) * (1.0 + bumps[rows])
            sr = spot / self.s0[rows]
            spot_rel[rows] = sr
            mny = self.strike_level[rows] / sr
            f = self.flat_of[u]
            lens = np.diff(self.bounds)[rows]
            starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
            vols[f] = _forward_vols(surf, self.t_diff[f], np.repeat(mny, lens), starts)
            q_f[f] = div.forward(c_prev[f], self.t_disc[f])
        carry = r_f - q_f
        b = np.add.reduceat(carry * dtau, self.starts) / T_b
        w = np.add.reduceat(vols**2 * dtau, self.starts)
        bs = {"spot": spot_rel, "T": T_b, "T_disc": Td_b, "rate": r, "div_yield": r - b, "vol": (w / T_b) ** 0.5}
        return Inputs(bs, df, {"dtau": dtau, "vols": vols, "carry": carry}, self.bounds)
