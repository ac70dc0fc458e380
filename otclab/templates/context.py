"""What a template sees when it is priced: the trade, its dates on the grid, and the market.

``PricingContext`` is built once per (template, terms, market, state). Its grid holds every
future observation date of every schedule plus maturity (dates strictly after the valuation
date; dates on or before it are past and come from ``state``/``fixings``). Levels are relative
(S / initial_price); values are fractions of notional; discount factors use ACT/365F.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from ..core.calendar import _as_days, dates_of
from ..core.dates import Date, act365, parse_date
from ..core.errors import TermsError
from ..core.schedules import maturity_from_tenor
from ..engines.mc.bridge import crossing_probability


def _close(v, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise TermsError(f"a fixing must be a positive finite price; got {v!r}", field)
    return float(v)


def resolve_maturity(terms, cal):
    """``terms`` with ``maturity_date`` set (from tenor_months, rolled to a trading day)."""
    if terms.maturity_date is not None:
        return terms.replace(maturity_date=cal.roll_forward(terms.maturity_date))
    return terms.replace(maturity_date=maturity_from_tenor(terms.start_date, terms.tenor_months, cal))


def _describe(template, terms) -> str:
    """The contract in a few words, for messages: "snowball on 000905.SH from 2025-06-03 (24 months)"."""
    name = getattr(template, "name", None) or "contract"
    length = f"to {terms.maturity_date}" if terms.maturity_date is not None else f"({terms.tenor_months} months)"
    return f"{name} on {terms.underlying} from {terms.start_date} {length}"


class PricingContext:
    def __init__(self, template, terms, market, state=None, fixings=None, xp=np):
        self.template = template
        self.xp = xp
        self.cal = cal = market.calendar
        # maturity is the contract's last date: a year the calendar does not know is met here first
        with dates_of(_describe(template, terms)):
            self.terms = terms = resolve_maturity(terms, cal)
        self.valuation_date: Date = market.valuation_date
        self.start: Date = terms.start_date
        self.maturity: Date = terms.maturity_date
        if self.maturity <= self.valuation_date:
            raise TermsError(f"the trade matures on {self.maturity}, on or before the valuation date "
                             f"{self.valuation_date}; nothing left to price", "terms.maturity_date")
        self.underlying = terms.underlying
        self.notional = terms.notional
        self.s0 = terms.initial_price
        self.fixings = {parse_date(k, "fixings"): _close(v, f"fixings.{k}") for k, v in (fixings or {}).items()}

        raw = template.get("schedule")(terms, cal)
        self.schedules = {k: sorted(set(v)) for k, v in raw.items()}
        future = {k: [d for d in v if d > self.valuation_date] for k, v in self.schedules.items()}
        self.past = {k: [d for d in v if d <= self.valuation_date] for k, v in self.schedules.items()}
        grid = sorted(set(d for v in future.values() for d in v) | {self.maturity})
        pos = {d: i for i, d in enumerate(grid)}
        self.dates = grid
        self.future = future
        self.index = {k: np.array([pos[d] for d in v], dtype=np.int64) for k, v in future.items()}
        days = _as_days(grid)           # converted once for both time bases
        self.t_diff = market.diffusion_time(days)
        self.t_disc = market.discount_time(days)
        self.T = float(self.t_diff[-1])
        self.T_disc = float(self.t_disc[-1])
        mny_fn = template.get("VOL_MONEYNESS")
        self._strike_level = mny_fn(terms) if callable(mny_fn) else 1.0
        self._read_market(market)

        self.origin = (0.0, 0.0)   # (diffusion, calendar) years at which the paths start (theta_view)
        self.state = dict(state or {})
        init = template.get("initial_state")
        if callable(init):
            self.state.update(init(self) or {})

    def _read_market(self, market) -> None:
        """Spot, curves and vols of this contract from ``market`` (its dates already set); the
        same numbers as ``_market_fields``, which reads them for many contracts at once."""
        self.market = market
        self.spot = market.spot(self.underlying)
        self.spot_rel = self.spot / self.s0
        self.rate_curve = market.rate
        self.div_curve = market.div_yield(self.underlying)
        self.vol_surface = market.vol(self.underlying)
        self.vol_moneyness = self._strike_level / self.spot_rel  # strike / current spot
        self.vol = float(self.vol_surface.vol(max(self.T, 1e-8), self.vol_moneyness))
        self.r = float(self.rate_curve.zero(self.T_disc))
        self.q = float(self.div_curve.zero(self.T_disc))
        self._df_grid = self.rate_curve.discount(self.t_disc)

    def delta_bump(self) -> float:
        """Relative spot bump h of delta and gamma for every engine: 7% of σ√T to maturity, in
        [0.5%, 3%] (wide enough that a path jumping a barrier does not dominate a Monte Carlo
        difference, narrow enough to be the local slope)."""
        return float(min(max(0.07 * self.vol * math.sqrt(max(self.T, 1e-8)), 0.005), 0.03))

    def theta_view(self) -> "PricingContext":
        """This contract seen from the next trading day with today's spot and state: the paths
        start one trading day later (the first step loses that day's diffusion: when the first
        date is tomorrow, its observation happens at today's spot) and values are discounted to
        tomorrow, so that a payoff on the same grid gives the value on the next trading day,
        cash paid that day included (the desk's theta convention, design.md)."""
        tomorrow = self.cal.add_trading_days(self.valuation_date, 1)
        d1 = float(self.market.diffusion_time([tomorrow])[0])
        c1 = float(self.market.discount_time([tomorrow])[0])
        new = copy.copy(self)
        new.origin = (d1, c1)
        new._df_grid = self._df_grid / float(self.rate_curve.discount(c1))
        # what closed forms read (bs_inputs): time and zero rates from tomorrow, today's forwards
        new.T = max(self.T - d1, 0.0)
        new.T_disc = max(self.T_disc - c1, 0.0)
        if new.T_disc > 0:
            new.r = float(-math.log(new._df_grid[-1]) / new.T_disc)
            q_df = float(self.div_curve.discount(self.T_disc) / self.div_curve.discount(c1))
            new.q = float(-math.log(q_df) / new.T_disc)
        return new

    def with_market(self, market) -> "PricingContext":
        """This contract on another snapshot with the same valuation date, calendar and time
        basis (a risk refresh): dates, schedules and state are kept, spot, curves and vols are
        read from ``market``."""
        _check_same(self, market, market.calendar)
        new = copy.copy(self)
        new._read_market(market)
        return new

    # ---- arrays on the grid for templates ----------------------------------------------
    def arr(self, values, dtype=None):
        return self.xp.asarray(np.asarray(values, dtype=dtype or float))

    def df(self, name: str | None = None):
        """Discount factors (ACT/365F) at the future dates of schedule ``name`` (None: maturity)."""
        if name is None:
            return float(self._df_grid[-1])
        return self.arr(self._df_grid[self.index[name]])

    def accrual(self, name: str):
        """ACT/365F years from the start date to each future date of schedule ``name``."""
        return self.arr([act365(self.start, d) for d in self.future[name]])

    def year_fractions(self, dates):
        return np.array([act365(self.start, d) for d in dates])

    def n_past(self, name: str) -> int:
        return len(self.past[name])

    def past_levels(self, name: str) -> np.ndarray:
        """Relative fixings (S / S0) on the past dates of schedule ``name``; all must be given."""
        missing = [d.isoformat() for d in self.past[name] if d not in self.fixings]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise TermsError(f"seasoned trade: fixings needed for the past {name} dates {shown} "
                             f"(or give the state instead)", "fixings")
        return np.array([self.fixings[d] / self.s0 for d in self.past[name]])

    # ---- diffusion on the grid ----------------------------------------------------------
    def step_params(self, dates=None):
        """Per step between ``dates`` (default: the grid), starting from the valuation date (or,
        in a ``theta_view``, the next trading day): diffusion dτ, calendar dt, vol, carry r−q
        and discount rate (forwards over calendar time).
        """
        if dates is None:
            t_diff, t_disc = self.t_diff, self.t_disc
        else:
            t_diff, t_disc = self.market.diffusion_time(dates), self.market.discount_time(dates)
        t_prev = np.concatenate([[self.origin[0]], t_diff[:-1]])
        c_prev = np.concatenate([[self.origin[1]], t_disc[:-1]])
        dtau = t_diff - t_prev
        dcal = t_disc - c_prev
        vols = self.vol_surface.forward_vols(t_diff, self.vol_moneyness)
        r_f = self.rate_curve.forward(c_prev, t_disc)
        q_f = self.div_curve.forward(c_prev, t_disc)
        return dtau, dcal, vols, r_f - q_f, r_f

    def bs_inputs(self) -> dict:
        """Black–Scholes inputs matching the simulated dynamics to maturity (for closed forms).

        ``rate`` discounts over ``T_disc`` (ACT/365F); ``div_yield`` is set so that the carry
        over diffusion time ``T`` equals the MC drift; ``vol`` gives the same total variance.
        """
        dtau, _, vols, carry, _ = self.step_params()
        b = float((carry * dtau).sum() / self.T)
        w = float((vols**2 * dtau).sum())
        return {"spot": self.spot_rel, "T": self.T, "T_disc": self.T_disc, "rate": self.r,
                "div_yield": self.r - b, "vol": (w / self.T) ** 0.5}

    def log_moments(self, name: str):
        """Mean of ln(s) and cumulative variance at the future dates of schedule ``name``.

        Exactly the simulated dynamics (term structures included): ln s_i is normal with this
        mean and Cov(ln s_i, ln s_j) = variance at the earlier of the two dates.
        """
        dtau, _, vols, carry, _ = self.step_params()
        mean = np.log(self.spot_rel) + np.cumsum((carry - 0.5 * vols**2) * dtau)
        var = np.cumsum(vols**2 * dtau)
        idx = self.index[name]
        return mean[idx], var[idx]

    def mc_drift_vol(self):
        """(drift, vol·√dτ) per grid step for the path simulator."""
        dtau, _, vols, carry, _ = self.step_params()
        return (carry - 0.5 * vols**2) * dtau, vols * np.sqrt(dtau)

    def hit_probability(self, s, level, direction: str):
        """Per-step probability (paths, steps) that the continuous path crossed ``level``.

        Brownian bridge between grid dates, the first step starting from the current spot.
        """
        xp = self.xp
        dtau, _, vols, _, _ = self.step_params()
        var = self.arr(vols**2 * dtau)
        prev = xp.concatenate([xp.full((s.shape[0], 1), self.spot_rel, dtype=s.dtype), s[:, :-1]], axis=1)
        return crossing_probability(xp, prev, s, level, var, direction)


def _market_fields(ctxs, market) -> list[dict]:
    """What each context reads from ``market`` (spot, curves, vol surface, its vol and zero rates
    to maturity, discount factors on its grid), computed for all contexts at once: one array
    operation per underlying instead of one per contract (a refresh of a whole book)."""
    n = len(ctxs)
    rate = market.rate
    T = np.fromiter((c.T for c in ctxs), float, n)
    T_disc = np.fromiter((c.T_disc for c in ctxs), float, n)
    r = np.atleast_1d(rate.zero(T_disc))
    # discount factors on each grid: kept from the contexts' own snapshot when the curve is the same
    # (an intraday refresh moves spots and vols far more often than the rate curve)
    if all(getattr(c, "rate_curve", None) == rate for c in ctxs):
        dfs = [c._df_grid for c in ctxs]
    else:
        lens = [len(c.t_disc) for c in ctxs]
        dfs = np.split(rate.discount(np.concatenate([c.t_disc for c in ctxs])), np.cumsum(lens)[:-1])
    out: list = [None] * n
    groups: dict = {}
    for i, c in enumerate(ctxs):
        groups.setdefault(c.underlying, []).append(i)
    for u, rows in groups.items():
        spot = market.spot(u)
        div = market.div_yield(u)
        surf = market.vol(u)
        s0 = np.array([ctxs[i].s0 for i in rows], float)
        strike = np.array([ctxs[i]._strike_level for i in rows], float)
        spot_rel = spot / s0
        mny = strike / spot_rel                       # strike / current spot
        vol = np.atleast_1d(surf.vol(np.maximum(T[rows], 1e-8), mny))
        q = np.atleast_1d(div.zero(T_disc[rows]))
        for j, i in enumerate(rows):
            out[i] = dict(market=market, spot=spot, spot_rel=float(spot_rel[j]), rate_curve=rate, div_curve=div,
                          vol_surface=surf, vol_moneyness=float(mny[j]), vol=float(vol[j]), r=float(r[i]),
                          q=float(q[j]), _df_grid=dfs[i])
    return out


def _check_same(c, market, cal) -> None:
    same = (market.valuation_date == c.valuation_date and cal is c.cal and market.time_basis == c.market.time_basis
            and market.trading_days_per_year == c.market.trading_days_per_year)
    if not same:
        raise ValueError("with_market needs the same valuation date, calendar and time basis; build a new context")


def with_market_all(ctxs, market) -> list:
    """``[c.with_market(market) for c in ctxs]``: every context on another snapshot of the same
    valuation date, calendar and time basis, with the market read for all of them at once."""
    cal = market.calendar
    for c in ctxs:
        _check_same(c, market, cal)
    out = []
    for c, fields in zip(ctxs, _market_fields(ctxs, market)):
        new = object.__new__(type(c))
        new.__dict__ = {**c.__dict__, **fields}
        out.append(new)
    return out
