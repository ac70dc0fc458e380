"""Closed-form European prices on NumPy or CuPy arrays: Black–Scholes (prices, Greeks, implied
vol), digitals, single barriers (continuous and BGK-discrete) and geometric Asians.

Every function takes scalars or broadcasting arrays and returns arrays on the inputs' array
module. Time convention: ``T`` is diffusion time (variance and carry b = rate - div_yield),
``T_disc`` the ACT/365F discounting time, default ``T``; see :mod:`.black_scholes`.
"""
from .asian import geometric_asian_continuous, geometric_asian_discrete
from .barrier import barrier_price, bgk_barrier
from .black_scholes import bs_greeks, bs_price, implied_vol
from .digital import asset_or_nothing, cash_or_nothing
from .normal import ncdf, npdf

__all__ = [
    "asset_or_nothing",
    "barrier_price",
    "bgk_barrier",
    "bs_greeks",
    "bs_price",
    "cash_or_nothing",
    "geometric_asian_continuous",
    "geometric_asian_discrete",
    "implied_vol",
    "ncdf",
    "npdf",
]
