"""pricelib prices of the comparison contracts, in currency for the whole notional.

pricelib (Galaxy Technologies, Apache-2.0) is the Chinese-market peer. Conventions and how they are
mapped onto otclab's:

- Levels: absolute prices per unit of the underlying (fraction × initial_price); values are per
  unit, multiplied by notional / initial_price units. Its snowball values are "per s0": note
  value fraction × s0, the same thing.
- Calendar: its own ``CN_CALENDAR`` (mainland holidays to 2030). ``check_calendar`` verifies it
  counts the same SSE trading days as otclab for each contract; a mismatch is reported.
- Time: pricelib has one clock per engine for diffusion AND discounting. Its barrier and
  autocallable engines use trading days / 243 of its calendar (coupon accrual: calendar days /
  365); its analytic European engine uses calendar days / 365. otclab always discounts ACT/365F
  and diffuses in trading days / 243 (``time_basis: "trading"``) or ACT/365F (``"calendar"``).
  So the European is compared under ``"calendar"`` with the plain rate and dividend yield (one
  ACT/365F clock on both sides), and the trading-clock engines under ``"trading"`` with
  r' = r × T_disc / T and q' = r' − (r − q): same forward, same maturity discount factor.
  otclab's closed forms discount a rebate paid at the hit on the same proportional clock
  (r_eff = r × T_disc / T), so those agree exactly; its MC and PDE discount such a payment
  ACT/365F to its date. For the demo snowball T = T_disc = 1 exactly, so r' = r and the
  references-file inputs are used unchanged; its knock-out coupons before maturity are
  discounted on pricelib's trading-day clock.

Import side effect handled here: ``import pricelib`` asks pypi.org for a newer version (an
HTTP request with no timeout). A benchmark must not touch the network, so the import runs with
``requests.get`` replaced by one that fails at once; pricelib then logs that it could not check.

pricelib MC engines cache their random numbers and paths between calls; every function here
builds fresh engines and products so that each timed call does the whole job.
"""
from __future__ import annotations

import logging
from unittest import mock

_PL = None


def load():
    """Import pricelib without its PyPI update check and without its INFO logging."""
    global _PL
    if _PL is None:
        import requests

        def offline(*args, **kwargs):
            raise requests.ConnectionError("network disabled for the benchmark")

        logging.disable(logging.CRITICAL)      # its update-check failure message
        try:
            with mock.patch.object(requests, "get", offline):
                import pricelib
        finally:
            logging.disable(logging.NOTSET)
        logging.getLogger().setLevel(logging.WARNING)   # pricelib logs every price() at INFO
        _PL = pricelib
    return _PL


def version() -> str:
    return load().__version__


def rates(st, clock: str = "trading"):
    """(r', q') for a pricelib engine on ``clock``: same forward and maturity discount as otclab.

    ``clock`` "calendar" (days / 365, pricelib's analytic European) needs an otclab market with
    ``time_basis: "calendar"`` and takes r, q as they are; "trading" (trading days / 243) needs
    ``"trading"`` and rescales the rate to reproduce otclab's ACT/365F discount at maturity.
    """
    if st.time_basis != clock:
        raise ValueError(f"a pricelib engine on the {clock} clock is compared under time_basis {clock!r}")
    if clock == "calendar":
        return st.rate, st.div_yield
    r = st.rate * st.T_disc / st.T
    return r, r - (st.rate - st.div_yield)


def check_calendar(st) -> str | None:
    """None if pricelib's calendar counts the trading days otclab uses, else a note."""
    pl = load()
    n_pl = pl.CN_CALENDAR.business_days_between(st.valuation_date, st.maturity)
    if n_pl != st.trading_days:
        return f"pricelib counts {n_pl} trading days to {st.maturity}, otclab {st.trading_days}"
    return None


def _process(pl, st, clock: str = "trading"):
    pl.set_evaluation_date(st.valuation_date)
    r, q = rates(st, clock)
    return pl.GeneralizedBSMProcess(spot=pl.SimpleQuote(value=st.spot), interest=pl.ConstantRate(value=r),
                                    div=pl.ConstantRate(value=q), vol=pl.BlackConstVol(st.vol))


def _callput(pl, option_type):
    return pl.CallPut.Call if option_type == "call" else pl.CallPut.Put


def european(st, option_type: str, strike: float):
    """AnalyticVanillaEuEngine (calendar days / 365 for all time); (value, None)."""
    pl = load()
    proc = _process(pl, st, "calendar")
    opt = pl.VanillaOption(st.level(strike), _callput(pl, option_type), pl.ExerciseType.European,
                           start_date=st.valuation_date, end_date=st.maturity,
                           trade_calendar=pl.CN_CALENDAR, t_step_per_year=243,
                           engine=pl.AnalyticVanillaEuEngine(proc))
    return opt.price() * st.units, None


def barrier(st, option_type: str, strike: float, barrier: float, barrier_type: str, rebate: float,
            daily: bool, engine: str):
    """Single barrier, knock-out rebate paid at the hit; engine 'analytic' | 'pde'; (value, None).

    Daily monitoring = uniform observation every 1/243 year of pricelib's trading-day clock,
    i.e. every trading-day close. Its analytic engine applies the BGK shift for that case. The PDE
    is pricelib's default FdmBarrierEngine (800 price steps up to 2 × spot, fully implicit, one
    time step per trading day, which pricelib fixes); Crank–Nicolson (fdm_theta=0.5) on that grid
    oscillates at the barrier and lands 0.01-0.03% of notional lower.
    """
    pl = load()
    proc = _process(pl, st)
    up = barrier_type.startswith("up")
    out = barrier_type.endswith("out")
    eng = {"analytic": lambda: pl.AnalyticBarrierEngine(proc),
           "pde": lambda: pl.FdmBarrierEngine(proc, s_step=800, n_smax=2, fdm_theta=1)}[engine]()
    opt = pl.BarrierOption(st.level(strike), st.level(barrier), rebate * st.s0,
                           callput=_callput(pl, option_type),
                           inout=pl.InOut.Out if out else pl.InOut.In,
                           updown=pl.UpDown.Up if up else pl.UpDown.Down,
                           obs_type=pl.ExerciseType.American,
                           payment_type=pl.PaymentType.Hit if out else pl.PaymentType.Expire,
                           discrete_obs_interval=1 / 243 if daily else None,
                           start_date=st.valuation_date, end_date=st.maturity,
                           trade_calendar=pl.CN_CALENDAR, t_step_per_year=243, engine=eng)
    return opt.price() * st.units, None


def sharkfin(st, option_type: str, strike: float, barrier: float, rebate: float, participation: float):
    """SingleShark, daily knock-out, rebate paid at maturity, default FdmBarrierEngine; (value, None)."""
    pl = load()
    proc = _process(pl, st)
    opt = pl.SingleShark(st.level(strike), st.level(barrier), rebate * st.s0,
                         callput=_callput(pl, option_type),
                         updown=pl.UpDown.Up if option_type == "call" else pl.UpDown.Down,
                         parti=participation, obs_type=pl.ExerciseType.American,
                         payment_type=pl.PaymentType.Expire, discrete_obs_interval=1 / 243,
                         start_date=st.valuation_date, end_date=st.maturity,
                         trade_calendar=pl.CN_CALENDAR, t_step_per_year=243,
                         engine=pl.FdmBarrierEngine(proc, s_step=800, n_smax=2, fdm_theta=1))
    return opt.price() * st.units, None


def asian_mc(st, option_type: str, strike: float, averaging: str, paths: int, seed: int):
    """AsianOption with MCAsianEngine: average of every trading-day close in (valuation, maturity]
    (pricelib's analytic geometric engine is the continuous Kemna–Vorst limit, not daily
    fixings); pseudorandom, antithetic; (value, None)."""
    pl = load()
    proc = _process(pl, st)
    eng = pl.MCAsianEngine(proc, n_path=paths, rands_method=pl.RandsMethod.Pseudorandom,
                           antithetic_variate=True, seed=seed)
    ave = pl.AverageMethod.Geometric if averaging == "geometric" else pl.AverageMethod.Arithmetic
    opt = pl.AsianOption(callput=_callput(pl, option_type), ave_method=ave, strike=st.level(strike),
                         start_date=st.valuation_date, end_date=st.maturity,
                         trade_calendar=pl.CN_CALENDAR, t_step_per_year=243, engine=eng)
    return opt.price() * st.units, None


def snowball(st, terms: dict, engine: str, paths: int = 200_000, seed: int = 3):
    """The demo StandardSnowball (tests/data/pricing_references.json); (value, None).

    'pde': FdmSnowBallEngine(s_step=800, n_smax=2, fdm_theta=1) as in pricelib's demo;
    'mc': MCAutoCallableEngine, pseudorandom, antithetic, ``paths`` paths.
    """
    pl = load()
    proc = _process(pl, st)
    if engine == "pde":
        eng = pl.FdmSnowBallEngine(proc, s_step=800, n_smax=2, fdm_theta=1)
    else:
        eng = pl.MCAutoCallableEngine(proc, n_path=paths, rands_method=pl.RandsMethod.Pseudorandom,
                                      antithetic_variate=True, seed=seed)
    s0 = terms["initial_price"]
    opt = pl.StandardSnowball(maturity=terms["tenor_months"] / 12, s0=s0, start_date=st.valuation_date,
                              trade_calendar=pl.CN_CALENDAR, barrier_out=terms["ko_barrier"] * s0,
                              barrier_in=terms["ki_barrier"] * s0, coupon_out=terms["coupon"],
                              coupon_div=None, lock_term=terms["lockup_months"],
                              status=pl.StatusType.NoTouch, t_step_per_year=243, engine=eng)
    ko = [d for d in opt.obs_dates.date_schedule]
    if ko != st.schedules["ko"]:
        raise RuntimeError(f"pricelib KO dates {ko} differ from otclab's {st.schedules['ko']}")
    return opt.price() / s0 * terms["notional"], None
