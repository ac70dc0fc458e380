"""European digital (binary) options under Black–Scholes–Merton, batched.

Same conventions as :mod:`black_scholes`: ``T`` is diffusion time (variance and the carry
``b = rate - div_yield``), ``T_disc`` the ACT/365F discounting time (default ``T``); discounting
is ``exp(-rate * T_disc)``.

* cash-or-nothing pays ``payout`` (in currency per contract unit) if the option finishes in the
  money: ``payout * exp(-rate*T_disc) * N(phi*d2)``;
* asset-or-nothing pays one unit of the underlying if it finishes in the money:
  ``spot * exp(b*T - rate*T_disc) * N(phi*d1)``.

At ``T == 0`` (or ``vol == 0``) the payoff indicator is used; exactly at the money
(forward == strike) it is 1/2 for both call and put, which keeps call + put parity exact.
"""
from __future__ import annotations

from .black_scholes import black_d1_d2, black_inputs
from .inputs import option_sign
from .normal import ncdf


def cash_or_nothing(option_type, spot, strike, T, rate, div_yield, vol, payout=1.0, T_disc=None):
    """Price of a cash-or-nothing call/put paying ``payout`` if ``phi*(S_T - strike) > 0``."""
    m = black_inputs(spot, strike, T, rate, div_yield, vol, T_disc)
    phi = option_sign(m.xp, option_type)
    _d1, d2 = black_d1_d2(m.xp, m.forward, m.strike, m.sd)
    return m.xp.asarray(payout, dtype=m.xp.float64) * m.discount * ncdf(phi * d2)


def asset_or_nothing(option_type, spot, strike, T, rate, div_yield, vol, T_disc=None):
    """Price of an asset-or-nothing call/put delivering one unit of underlying if
    ``phi*(S_T - strike) > 0`` (value in the units of ``spot``)."""
    m = black_inputs(spot, strike, T, rate, div_yield, vol, T_disc)
    phi = option_sign(m.xp, option_type)
    d1, _d2 = black_d1_d2(m.xp, m.forward, m.strike, m.sd)
    return m.discount * m.forward * ncdf(phi * d1)
