"""Single-barrier European options: continuous monitoring (Reiner–Rubinstein) and the
Broadie–Glasserman–Kou correction for discrete monitoring, batched.

Formulas: Haug, *The Complete Guide to Option Pricing Formulas* (1998), pp. 69-72, terms A-F
(Reiner & Rubinstein 1991). ``barrier_type`` is one of up_out, up_in, down_out, down_in; the
``rebate`` (currency per unit of underlying) is paid at the hitting time for knock-outs and at
expiry for knock-ins that never knocked in.

Time convention (as in :mod:`black_scholes`): ``T`` is diffusion time in years (variance, and the
carry ``b = rate - div_yield``), ``T_disc`` the ACT/365F discounting time (default ``T``). The
textbook formulas have one clock; here they are evaluated with the effective discount rate
``r_eff = rate * T_disc / T`` and carry ``b``. That is exactly the solution of the pricing PDE in
diffusion time that discounts at ``r_eff``: terminal cash flows are discounted by
``exp(-r_eff*T) = exp(-rate*T_disc)``, and a rebate paid at a hitting time t (diffusion years) is
discounted by ``exp(-r_eff*t)``, i.e. with discounting time accruing in proportion to diffusion
time.

Spot already at or beyond the barrier (>= an up barrier, <= a down barrier) is the knocked state:
a knock-out is worth its rebate now (undiscounted, it is paid at the hit), a knock-in is the
vanilla option. ``T == 0`` with spot inside gives the payoff: intrinsic value for a knock-out,
the rebate for a knock-in. Domain: spot, strike, barrier > 0, vol > 0 when T > 0. A non-zero
rebate on a knock-out with a negative rate so low that ``mu**2 + 2*r_eff/vol**2 < 0`` gives NaN.
"""
from __future__ import annotations

import numpy as np

from .black_scholes import black_formula
from .inputs import as_float_arrays, barrier_codes, disc_time, option_sign
from .normal import ncdf

BGK_BETA = 0.5826  # -zeta(1/2)/sqrt(2*pi), Broadie–Glasserman–Kou (1997)

# Coefficients of Haug's terms (A, B, C, D), indexed
# [barrier type (inputs.BARRIER_TYPES order), call 0 / put 1,
#  strike > barrier 0 / strike <= barrier 1].
# Knock-ins add the rebate term E, knock-outs the rebate term F. At strike == barrier both columns
# agree (A = B and C = D there).
_ABCD = np.array([
    # up_out
    [[(0, 0, 0, 0), (1, -1, 1, -1)],     # call: K > H worthless; K <= H: A - B + C - D
     [(0, 1, 0, -1), (1, 0, -1, 0)]],    # put:  B - D;  A - C
    # up_in
    [[(1, 0, 0, 0), (0, 1, -1, 1)],      # call: A;  B - C + D
     [(1, -1, 0, 1), (0, 0, 1, 0)]],     # put:  A - B + D;  C
    # down_out
    [[(1, 0, -1, 0), (0, 1, 0, -1)],     # call: A - C;  B - D
     [(1, -1, 1, -1), (0, 0, 0, 0)]],    # put:  A - B + C - D;  K <= H worthless
    # down_in
    [[(0, 0, 1, 0), (1, -1, 0, 1)],      # call: C;  A - B + D
     [(0, 1, -1, 1), (1, 0, 0, 0)]],     # put:  B - C + D;  A
], dtype=np.float64)


def barrier_price(option_type, barrier_type, spot, strike, barrier, rebate, T, rate, div_yield,
                  vol, T_disc=None):
    """Price of a continuously monitored single-barrier call/put (per unit of underlying).

    See the module docstring for conventions. ``option_type`` as in :func:`bs_price`;
    ``barrier_type`` a string or array of strings among up_out, up_in, down_out, down_in.
    """
    xp, (S, K, H, R, T, r, q, vol, Td) = as_float_arrays(
        spot, strike, barrier, rebate, T, rate, div_yield, vol, disc_time(T, T_disc))
    phi = option_sign(xp, option_type)
    code = barrier_codes(xp, barrier_type)
    phi, code, S, K, H, R, T, r, q, vol, Td = xp.broadcast_arrays(
        phi, code, S, K, H, R, T, r, q, vol, Td)
    is_up = code < 2
    is_out = (code % 2) == 0
    eta = xp.where(is_up, -1.0, 1.0)  # Haug's eta: +1 down, -1 up

    knocked = xp.where(is_up, S >= H, S <= H)
    live = ~knocked & (T > 0)
    b = r - q
    discount = xp.exp(-r * Td)
    vanilla = black_formula(xp, phi, S * xp.exp(b * T), K, vol * xp.sqrt(T), discount)

    # Stand-in values where the closed form is not used, so no warnings arise there.
    S_ = xp.where(live, S, H * xp.exp(0.1 * eta))
    T_ = xp.where(live, T, 1.0)
    vol_ = xp.where(live, vol, 0.2)
    r_eff = xp.where(live, r * Td / T_, 0.0)

    sd = vol_ * xp.sqrt(T_)
    var = vol_ * vol_
    mu = (b - 0.5 * var) / var
    # lambda^2 < 0 only for negative rates (r_eff < -mu^2 vol^2 / 2); the rebate-at-hit term
    # then needs complex arithmetic and is returned as NaN (a zero rebate still prices).
    lam_sq = mu * mu + 2.0 * r_eff / var
    lam = xp.sqrt(xp.maximum(lam_sq, 0.0))
    df = xp.exp(-r_eff * T_)
    carry_pv = S_ * xp.exp((b - r_eff) * T_)
    h_s = H / S_
    h_s_2mu = h_s ** (2.0 * mu)
    h_s_2mu2 = h_s ** (2.0 * mu + 2.0)

    x1 = xp.log(S_ / K) / sd + (1.0 + mu) * sd
    x2 = xp.log(S_ / H) / sd + (1.0 + mu) * sd
    y1 = xp.log(H * H / (S_ * K)) / sd + (1.0 + mu) * sd
    y2 = xp.log(H / S_) / sd + (1.0 + mu) * sd
    z = xp.log(H / S_) / sd + lam * sd

    A = phi * carry_pv * ncdf(phi * x1) - phi * K * df * ncdf(phi * (x1 - sd))
    B = phi * carry_pv * ncdf(phi * x2) - phi * K * df * ncdf(phi * (x2 - sd))
    C = (phi * carry_pv * h_s_2mu2 * ncdf(eta * y1)
         - phi * K * df * h_s_2mu * ncdf(eta * (y1 - sd)))
    D = (phi * carry_pv * h_s_2mu2 * ncdf(eta * y2)
         - phi * K * df * h_s_2mu * ncdf(eta * (y2 - sd)))
    E = R * df * (ncdf(eta * (x2 - sd)) - h_s_2mu * ncdf(eta * (y2 - sd)))
    F = R * (h_s ** (mu + lam) * ncdf(eta * z)
             + h_s ** (mu - lam) * ncdf(eta * (z - 2.0 * lam * sd)))
    F = xp.where(R == 0, 0.0, xp.where(lam_sq >= 0, F, xp.nan))

    table = xp.asarray(_ABCD)
    coef = table[code, (phi < 0).astype(xp.int64), (K <= H).astype(xp.int64)]
    closed_form = (coef[..., 0] * A + coef[..., 1] * B + coef[..., 2] * C + coef[..., 3] * D
                   + xp.where(is_out, F, E))

    at_expiry = xp.where(is_out, vanilla, R * discount)
    knocked_value = xp.where(is_out, R, vanilla)
    return xp.where(knocked, knocked_value, xp.where(live, closed_form, at_expiry))


def bgk_barrier(option_type, barrier_type, spot, strike, barrier, rebate, T, rate, div_yield,
                vol, dt, T_disc=None):
    """Discretely monitored barrier option by the Broadie–Glasserman–Kou (1997) correction.

    The continuous-monitoring price with the barrier moved away from spot by
    ``exp(0.5826 * vol * sqrt(dt))`` (up barriers up, down barriers down); ``dt`` is the
    monitoring interval in diffusion years. The correction is asymptotic in ``dt``: it is accurate
    when the barrier is several ``vol*sqrt(dt)`` away from spot and degrades next to it; spot
    between the contractual and the shifted barrier is treated as knocked.
    """
    xp, (H, vol, dt) = as_float_arrays(barrier, vol, dt)
    code = barrier_codes(xp, barrier_type)
    direction = xp.where(code < 2, 1.0, -1.0)
    shifted = H * xp.exp(direction * BGK_BETA * vol * xp.sqrt(dt))
    return barrier_price(option_type, barrier_type, spot, strike, shifted, rebate, T, rate,
                         div_yield, vol, T_disc)
