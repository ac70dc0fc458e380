"""Geometric-average Asian options in closed form (continuous and discrete fixings), batched.

The geometric average of a lognormal price is lognormal, so both prices are Black's formula
for the average's own forward and log-variance.

Time convention (as in :mod:`black_scholes`): ``T`` and the fixing times are diffusion times in
years (they carry variance and the carry ``b = rate - div_yield``); ``T_disc`` is the ACT/365F
time to the payment date (default ``T``), discounting with ``exp(-rate * T_disc)``. Prices are per
unit of underlying in the units of ``spot`` and ``strike``.
"""
from __future__ import annotations

from .black_scholes import black_formula, black_inputs
from .inputs import as_float_arrays, disc_time, option_sign


def geometric_asian_continuous(option_type, spot, strike, T, rate, div_yield, vol, T_disc=None):
    """Continuously averaged geometric Asian call/put, average from now to ``T``
    (Kemna & Vorst 1990; Haug 1998 p. 96).

    The average ``exp(mean of ln S_t over [0, T])`` is lognormal with log-volatility
    ``vol/sqrt(3)`` and carry ``b_A = (b - vol**2/6)/2``: its forward is
    ``spot*exp(b_A*T)`` and its log standard deviation ``vol*sqrt(T/3)``.
    """
    m = black_inputs(spot, strike, T, rate, div_yield, vol, T_disc)
    xp = m.xp
    b = m.rate - m.div_yield
    carry_avg = 0.5 * (b - m.vol * m.vol / 6.0)
    forward = m.spot * xp.exp(carry_avg * m.T)
    return black_formula(xp, option_sign(xp, option_type), forward, m.strike,
                         m.sd / xp.sqrt(3.0), m.discount)


def geometric_asian_discrete(option_type, spot, strike, fixing_times, T, rate, div_yield, vol,
                             T_disc=None, past_log_sum=0.0, n_past=0):
    """Discretely averaged geometric Asian call/put, paid at ``T`` (Clewlow–Strickland form).

    ``fixing_times`` has shape ``(..., n)``: the n future fixings in diffusion years from now
    (last axis = fixings; the leading axes broadcast against the other arguments). A seasoned
    trade passes its ``n_past`` fixings already observed through ``past_log_sum`` (the sum of
    their natural logs); the average is over ``n_past + n`` fixings:

        ln G = (past_log_sum + sum_i ln S(t_i)) / N,   N = n_past + n,

    normal with mean ``(past_log_sum + n ln S + (b - vol^2/2) sum_i t_i) / N`` and variance
    ``vol^2 / N^2 * sum_ij min(t_i, t_j)``. Fixings need not be sorted; a fixing at time 0 enters
    as today's spot.
    """
    xp, (t_fix,) = as_float_arrays(fixing_times)
    if t_fix.ndim == 0:
        t_fix = t_fix[None]
    n = t_fix.shape[-1]
    # sum_ij min(t_i, t_j) = sum_k (2(n-k) - 1) t_(k) over the sorted times t_(1) <= ... <= t_(n).
    weights = 2.0 * (n - xp.arange(1, n + 1, dtype=xp.float64)) + 1.0
    sum_min = xp.sum(xp.sort(t_fix, axis=-1) * weights, axis=-1)
    sum_t = xp.sum(t_fix, axis=-1)

    xp, (S, K, T, r, q, vol, Td, L_past, n_past, sum_t, sum_min) = as_float_arrays(
        spot, strike, T, rate, div_yield, vol, disc_time(T, T_disc), past_log_sum, n_past,
        sum_t, sum_min)
    total = n_past + n
    mean_log = (L_past + n * xp.log(S) + (r - q - 0.5 * vol * vol) * sum_t) / total
    var_log = vol * vol * sum_min / (total * total)
    forward = xp.exp(mean_log + 0.5 * var_log)
    return black_formula(xp, option_sign(xp, option_type), forward, K, xp.sqrt(var_log),
                         xp.exp(-r * Td))
