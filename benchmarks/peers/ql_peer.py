"""QuantLib prices of the comparison contracts, in currency for the whole notional.

QuantLib works in absolute prices per unit of the underlying: spot, strike and barrier are
fraction × initial_price, and the value is multiplied by notional / initial_price units.

Time. With ``time_basis: "calendar"`` otclab diffuses and discounts over ACT/365F, which is exactly
QuantLib's ``Actual365Fixed`` on a ``NullCalendar`` with flat continuously compounded curves
(European, continuous barrier, discrete geometric Asian on otclab's own fixing dates).

QuantLib has no discretely monitored barrier on given dates; its ``MCBarrierEngine`` with
``isBiased=True`` monitors the barrier on every step of a uniform time grid. Daily SSE closes are
uniform in otclab's trading-day time (1/243 year each), so the daily knock-out is compared under
``time_basis: "trading"`` with a change of clock: QuantLib runs N steps over N calendar days
(N = trading days to maturity) and gets σ, r − q and r rescaled so that total variance and forward
match otclab's trading time and the maturity discount factor matches otclab's ACT/365F discount.
Only the rebate paid at a knock-out date before maturity is then discounted on QuantLib's linear
clock instead of ACT/365F to that date (a difference of order rebate × r × a few days).

Every function builds fresh objects: a QuantLib instrument caches its NPV.
"""
from __future__ import annotations

import math


def _ql():
    import QuantLib as ql
    return ql


def version() -> str:
    return _ql().__version__


def _date(ql, d):
    return ql.Date(d.day, d.month, d.year)


def _process(ql, today, spot, rate, div, vol):
    """Black–Scholes–Merton process on flat continuously compounded ACT/365F curves."""
    dc = ql.Actual365Fixed()
    rts = ql.YieldTermStructureHandle(ql.FlatForward(today, rate, dc, ql.Continuous))
    qts = ql.YieldTermStructureHandle(ql.FlatForward(today, div, dc, ql.Continuous))
    vts = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol, dc))
    return ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(spot)), qts, rts, vts)


def _calendar_process(ql, st):
    if st.time_basis != "calendar":
        raise ValueError("QuantLib closed forms are compared under time_basis 'calendar' (ACT/365F)")
    today = _date(ql, st.valuation_date)
    ql.Settings.instance().evaluationDate = today
    return today, _process(ql, today, st.spot, st.rate, st.div_yield, st.vol)


def _opt_type(ql, option_type):
    return ql.Option.Call if option_type == "call" else ql.Option.Put


def european(st, option_type: str, strike: float):
    """AnalyticEuropeanEngine; (value, None)."""
    ql = _ql()
    _, proc = _calendar_process(ql, st)
    opt = ql.VanillaOption(ql.PlainVanillaPayoff(_opt_type(ql, option_type), st.level(strike)),
                           ql.EuropeanExercise(_date(ql, st.maturity)))
    opt.setPricingEngine(ql.AnalyticEuropeanEngine(proc))
    return opt.NPV() * st.units, None


_BARRIER = {"up_out": "UpOut", "up_in": "UpIn", "down_out": "DownOut", "down_in": "DownIn"}


def barrier_continuous(st, option_type: str, strike: float, barrier: float, barrier_type: str,
                       rebate: float):
    """AnalyticBarrierEngine (Reiner–Rubinstein; knock-out rebate paid at the hit); (value, None).

    otclab's rebate is a fraction of notional: per unit that is rebate × initial_price.
    """
    ql = _ql()
    _, proc = _calendar_process(ql, st)
    opt = ql.BarrierOption(getattr(ql.Barrier, _BARRIER[barrier_type]), st.level(barrier),
                           rebate * st.s0,
                           ql.PlainVanillaPayoff(_opt_type(ql, option_type), st.level(strike)),
                           ql.EuropeanExercise(_date(ql, st.maturity)))
    opt.setPricingEngine(ql.AnalyticBarrierEngine(proc))
    return opt.NPV() * st.units, None


def geometric_asian(st, option_type: str, strike: float, fixing_dates):
    """AnalyticDiscreteGeometricAveragePriceAsianEngine on otclab's fixing dates; (value, None)."""
    ql = _ql()
    _, proc = _calendar_process(ql, st)
    opt = ql.DiscreteAveragingAsianOption(
        ql.Average.Geometric, 1.0, 0, [_date(ql, d) for d in fixing_dates],
        ql.PlainVanillaPayoff(_opt_type(ql, option_type), st.level(strike)),
        ql.EuropeanExercise(_date(ql, st.maturity)))
    opt.setPricingEngine(ql.AnalyticDiscreteGeometricAveragePriceAsianEngine(proc))
    return opt.NPV() * st.units, None


def barrier_daily_mc(st, option_type: str, strike: float, barrier: float, barrier_type: str,
                     rebate: float, paths: int, seed: int):
    """MCBarrierEngine(isBiased=True): barrier checked on each of N uniform steps; (value, stderr).

    Needs otclab's ``time_basis: "trading"``: N daily closes are then uniform in diffusion time.
    QuantLib's clock: N steps over N calendar days (t = N/365). ``k`` converts QuantLib years to
    otclab diffusion years; σ√k and (r − q)k keep variance and forward, and the rate is set so
    exp(−r_ql N/365) equals otclab's exp(−r T_disc). ``paths`` counts paths: with antithetic
    variates QuantLib's sample is a pair, so it draws paths / 2 samples.
    """
    ql = _ql()
    if st.time_basis != "trading":
        raise ValueError("the daily knock-out is compared under time_basis 'trading'")
    monitor = st.schedules["monitor"]
    n = len(monitor)
    if monitor[-1] != st.maturity:
        raise ValueError("the last monitoring date must be the maturity")
    t_ql = n / 365.0
    k = st.T / t_ql
    r_ql = st.rate * st.T_disc / t_ql
    q_ql = r_ql - (st.rate - st.div_yield) * k
    today = _date(ql, st.valuation_date)
    ql.Settings.instance().evaluationDate = today
    proc = _process(ql, today, st.spot, r_ql, q_ql, st.vol * math.sqrt(k))
    opt = ql.BarrierOption(getattr(ql.Barrier, _BARRIER[barrier_type]), st.level(barrier),
                           rebate * st.s0,
                           ql.PlainVanillaPayoff(_opt_type(ql, option_type), st.level(strike)),
                           ql.EuropeanExercise(today + n))
    opt.setPricingEngine(ql.MCBarrierEngine(proc, "pseudorandom", timeSteps=n, brownianBridge=False,
                                            antitheticVariate=True, requiredSamples=paths // 2,
                                            isBiased=True, seed=seed))
    return opt.NPV() * st.units, opt.errorEstimate() * st.units
