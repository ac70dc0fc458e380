"""Black–Scholes(–Merton) European prices, Greeks and implied volatility, batched.

Conventions (the platform's market convention, see design.md):

* ``T`` is the diffusion time in years: it carries the variance ``vol**2 * T`` and the drift
  (cost of carry ``b = rate - div_yield`` accrues over ``T``, so the forward is
  ``spot * exp(b * T)``). On the "trading" time basis it is trading days / 243.
* ``T_disc`` is the discounting time in years (ACT/365F); the price is discounted with
  ``exp(-rate * T_disc)``. It defaults to ``T`` (the textbook case).
* Prices are per unit of underlying, in the units of ``spot`` and ``strike``. Rates, yields and
  vols are annual, continuously compounded, as decimals (0.03 = 3%).
* Domain: spot, strike > 0, vol >= 0, T >= 0. ``T == 0`` or ``vol == 0`` gives the discounted
  forward intrinsic value ``exp(-rate*T_disc) * max(phi*(F - K), 0)`` (the plain intrinsic value
  at expiry), never NaN.

All arguments broadcast (NumPy or CuPy arrays or scalars); results are float64 arrays of the
broadcast shape on the inputs' array module.
"""
from __future__ import annotations

from typing import NamedTuple

from .inputs import as_float_arrays, disc_time, option_sign
from .normal import ncdf, npdf


def black_d1_d2(xp, forward, strike, sd):
    """d1, d2 of the Black formula for total standard deviation ``sd = vol*sqrt(T)``.

    Where ``sd == 0`` the limits are returned (+inf, -inf or 0 by the sign of ln(F/K)), so
    N(phi*d) becomes the exercise indicator and the formula gives the intrinsic value.
    """
    log_fk = xp.log(forward / strike)
    positive = sd > 0
    sd_safe = xp.where(positive, sd, 1.0)
    limit = xp.where(log_fk > 0, xp.inf, xp.where(log_fk < 0, -xp.inf, 0.0))
    d1 = xp.where(positive, (log_fk + 0.5 * sd * sd) / sd_safe, limit)
    return d1, d1 - sd


def black_formula(xp, phi, forward, strike, sd, discount):
    """Black's formula: ``discount * E[max(phi*(X - strike), 0)]`` for lognormal X with mean
    ``forward`` and log standard deviation ``sd``; ``phi`` = +1 call, -1 put."""
    d1, d2 = black_d1_d2(xp, forward, strike, sd)
    return discount * phi * (forward * ncdf(phi * d1) - strike * ncdf(phi * d2))


class BlackInputs(NamedTuple):
    """Broadcast float64 inputs with the derived forward, discount factor and total std dev."""

    xp: object
    spot: object
    strike: object
    T: object
    rate: object
    div_yield: object
    vol: object
    T_disc: object
    forward: object  # spot * exp((rate - div_yield) * T)
    discount: object  # exp(-rate * T_disc)
    sd: object  # vol * sqrt(T)


def black_inputs(spot, strike, T, rate, div_yield, vol, T_disc=None) -> BlackInputs:
    """Broadcast the market/contract inputs and derive forward, discount factor and vol*sqrt(T)."""
    xp, (S, K, T, r, q, vol, Td) = as_float_arrays(
        spot, strike, T, rate, div_yield, vol, disc_time(T, T_disc))
    return BlackInputs(xp, S, K, T, r, q, vol, Td, S * xp.exp((r - q) * T), xp.exp(-r * Td),
                       vol * xp.sqrt(T))


def bs_price(option_type, spot, strike, T, rate, div_yield, vol, T_disc=None):
    """Black–Scholes–Merton price of European calls/puts (per unit of underlying).

    ``option_type``: "call"/"put", an array of those strings, or a boolean ``is_call`` array.
    See the module docstring for the T / T_disc convention.
    """
    m = black_inputs(spot, strike, T, rate, div_yield, vol, T_disc)
    phi = option_sign(m.xp, option_type)
    return black_formula(m.xp, phi, m.forward, m.strike, m.sd, m.discount)


def bs_greeks(option_type, spot, strike, T, rate, div_yield, vol, T_disc=None):
    """Analytic Black–Scholes–Merton sensitivities as raw derivatives (no per-1% scaling).

    Returns a dict of arrays:

    * ``price``
    * ``delta`` = dV/dspot, ``gamma`` = d2V/dspot2
    * ``vega`` = dV/dvol per 1.00 of vol
    * ``rho`` = dV/drate per 1.00 of rate (rate moves both the carry over T and the
      discounting over T_disc; dividend yield held fixed)
    * ``theta_diffusion`` = -dV/dT and ``theta_discount`` = -dV/dT_disc, per year
    * ``theta`` = their sum: the value change per year when both clocks run down together
      (with T_disc defaulted to T this is the textbook theta, -dV/dT). An engine whose clocks
      run at different speeds (trading-day diffusion, calendar discounting) combines the two
      parts itself: dV = theta_diffusion * dT_elapsed + theta_discount * dT_disc_elapsed.

    At ``T == 0`` or ``vol == 0`` the limits are returned: delta the discounted exercise
    indicator, gamma and vega zero; exactly at the money (forward == strike), where theta and
    gamma diverge as T -> 0, delta is half the indicator's jump and the divergent terms are
    left out.
    """
    xp, S, K, T, r, q, vol, Td, F, D, sd = black_inputs(
        spot, strike, T, rate, div_yield, vol, T_disc)
    phi = option_sign(xp, option_type)
    d1, d2 = black_d1_d2(xp, F, K, sd)
    n1 = npdf(d1)  # 0 at the sd == 0 limits (d1 = +-inf); at F == K, sd == 0 it multiplies 0
    Nd1 = ncdf(phi * d1)
    price = D * phi * (F * Nd1 - K * ncdf(phi * d2))
    sd_safe = xp.where(sd > 0, sd, 1.0)
    pos = sd > 0
    carry_pv = D * F  # exp(-r*T_disc) * forward: PV of one unit of underlying delivered at expiry
    delta = phi * carry_pv / S * Nd1
    gamma = xp.where(pos, carry_pv * n1 / (S * S * sd_safe), 0.0)
    vega = carry_pv * n1 * xp.sqrt(T)
    # dV/dT: the forward grows at b over T, and the variance vol^2*T grows (dsd/dT = vol^2/(2 sd)).
    dv_dT = (phi * (r - q) * carry_pv * Nd1
             + xp.where(pos, carry_pv * n1 * vol * vol / (2.0 * sd_safe), 0.0))
    dv_dTd = -r * price
    rho = -Td * price + phi * T * carry_pv * Nd1
    greeks = {
        "price": price,
        "delta": delta,
        "gamma": gamma,
        "vega": vega,
        "theta": -(dv_dT + dv_dTd),
        "theta_diffusion": -dv_dT,
        "theta_discount": -dv_dTd,
        "rho": rho,
    }
    # gamma and vega do not depend on call/put: give every entry the full broadcast shape
    full = xp.zeros_like(price)
    return {name: value + full for name, value in greeks.items()}


def implied_vol(price, option_type, spot, strike, T, rate, div_yield, T_disc=None, tol=1e-10,
                max_iter=100):
    """Black–Scholes implied volatility of European option prices, element-wise.

    Solves ``bs_price(vol) == price`` for the total standard deviation s = vol*sqrt(T) with a
    safeguarded Newton iteration (Newton steps inside a shrinking bracket, bisection when a step
    leaves the bracket or does not shrink fast enough, as in Numerical Recipes' rtsafe), started
    at the Manaster–Koehler point s = sqrt(2|ln(F/K)|) from which Newton converges monotonically.
    ``tol`` is the absolute tolerance on vol; elements leave the iteration as they converge.

    Returns NaN (no exception) where no vol fits: price below the discounted forward intrinsic
    value or not below the no-arbitrage upper bound (the discounted forward for a call, the
    discounted strike for a put), ``T <= 0``, a non-finite input, or no convergence within
    ``max_iter`` steps. A price equal to the intrinsic value (to rounding) returns 0: deep in the
    money at short expiry the price carries no information on the vol.
    """
    xp, (c, S, K, T, r, q, Td) = as_float_arrays(
        price, spot, strike, T, rate, div_yield, disc_time(T, T_disc))
    phi, c, S, K, T, r, q, Td = xp.broadcast_arrays(
        option_sign(xp, option_type), c, S, K, T, r, q, Td)
    F = S * xp.exp((r - q) * T)
    target = c * xp.exp(r * Td)  # undiscounted price
    lower = xp.maximum(phi * (F - K), 0.0)
    upper = xp.where(phi > 0, F, K)
    slack = 4.0 * xp.finfo(xp.float64).eps * xp.maximum(F, K)  # rounding in the given price
    finite = xp.isfinite(target) & xp.isfinite(F) & xp.isfinite(K)
    at_intrinsic = finite & (T > 0) & (target <= lower) & (target >= lower - slack)
    solvable = finite & (T > 0) & (target > lower) & (target < upper) & (K > 0) & (F > 0)

    result = xp.where(at_intrinsic, 0.0, xp.nan).ravel()
    idx = xp.nonzero(solvable.ravel())[0]
    sqrt_t = xp.sqrt(T.ravel()[idx])
    sd = _solve_black_sd(xp, phi.ravel()[idx], F.ravel()[idx], K.ravel()[idx],
                         target.ravel()[idx], tol * sqrt_t, max_iter)
    result[idx] = sd / sqrt_t
    return result.reshape(c.shape)


def _solve_black_sd(xp, phi, F, K, target, tol_sd, max_iter):
    """Total standard deviation s with ``black_formula(phi, F, K, s, 1) == target`` (1-D arrays,
    target strictly between the intrinsic value and the upper bound); NaN where not converged."""

    def excess_and_vega(s, phi, F, K, target):
        d1, d2 = black_d1_d2(xp, F, K, s)
        value = phi * (F * ncdf(phi * d1) - K * ncdf(phi * d2))
        return value - target, F * npdf(d1)

    # Bracket [lo, hi]: the Black price rises with s from the intrinsic value (below target at
    # s = 0) to the upper bound; double hi until it prices above target.
    hi = xp.ones_like(target)
    for _ in range(64):
        short = xp.nonzero(excess_and_vega(hi, phi, F, K, target)[0] <= 0)[0]
        if short.size == 0:
            break
        hi[short] *= 2.0
    out = xp.full(target.shape, xp.nan)
    pos = xp.nonzero(excess_and_vega(hi, phi, F, K, target)[0] > 0)[0]  # NaN if never bracketed
    phi, F, K, target, tol_sd, hi = phi[pos], F[pos], K[pos], target[pos], tol_sd[pos], hi[pos]
    lo = xp.zeros_like(target)
    s = xp.minimum(xp.sqrt(2.0 * xp.abs(xp.log(F / K))), hi)
    step_before = hi - lo
    # ``pos``: where each still-active element goes in ``out``; converged ones leave the arrays
    for _ in range(max_iter):
        if pos.size == 0:
            break
        f, vega = excess_and_vega(s, phi, F, K, target)
        lo = xp.where(f < 0, s, lo)
        hi = xp.where(f > 0, s, hi)
        newton = s - f / xp.where(vega > 0, vega, 1.0)
        use_newton = ((vega > 0) & (newton > lo) & (newton < hi)
                      & (xp.abs(2.0 * f) <= xp.abs(step_before * vega)))
        s_next = xp.where(use_newton, newton, 0.5 * (lo + hi))
        step_before = xp.abs(s_next - s)
        converged = (f == 0) | (step_before < tol_sd) | (hi - lo < tol_sd)
        out[pos[converged]] = xp.where(f == 0, s, s_next)[converged]
        keep = xp.nonzero(~converged)[0]
        pos, s, lo, hi, step_before = pos[keep], s_next[keep], lo[keep], hi[keep], step_before[keep]
        phi, F, K, target, tol_sd = phi[keep], F[keep], K[keep], target[keep], tol_sd[keep]
    return out
