"""Log-spot grids for the PDE engine."""
from __future__ import annotations

import math

import numpy as np


def log_grid(spot: float, vol: float, horizon: float, n: int = 801, n_std: float = 6.0,
             levels=()) -> np.ndarray:
    """Uniform grid in ``x = ln s`` with a node exactly at ``ln spot``.

    Spans ``spot · exp(±n_std · vol · √horizon)`` widened to hold every level in ``levels``
    (barriers) with room around it. Returns x (n,).
    """
    width = n_std * max(vol, 0.05) * np.sqrt(max(horizon, 1.0 / 243))
    lo, hi = np.log(spot) - width, np.log(spot) + width
    for lv in levels:
        if lv is not None and lv > 0:
            lo = min(lo, np.log(lv) - 0.5 * width)
            hi = max(hi, np.log(lv) + 0.5 * width)
    dx = (hi - lo) / (n - 1)
    below = int(np.ceil((np.log(spot) - lo) / dx))
    start = np.log(spot) - below * dx
    return start + dx * np.arange(n)


def fraction_above(s, level: float) -> np.ndarray:
    """Share of each node's cell (uniform in log s) lying at or above ``level``.

    Events that switch value at a barrier use it as a weight instead of an indicator: cell
    averaging keeps the error second order wherever the barrier falls between nodes.
    """
    x = np.log(np.asarray(s, float))
    dx = x[1] - x[0]
    with np.errstate(divide="ignore"):      # a level of 0 (e.g. a coupon barrier of 0%): log 0 = −inf, all above
        return np.clip((x + 0.5 * dx - np.log(level)) / dx, 0.0, 1.0)


def fraction_below(s, level: float) -> np.ndarray:
    """Share of each node's cell lying at or below ``level`` (1 − ``fraction_above``)."""
    return 1.0 - fraction_above(s, level)


def average_nodes(vol: float, horizon: float, spot_rel: float, n_past: int, past_average: float, n_future: int,
                  n: int) -> np.ndarray:
    """``n`` log running-average nodes (relative levels) for an Asian PDE: centred on the log of
    the expected final average (past fixings at their average, future ones at today's spot),
    ± 3·max(vol, 5%)·√horizon + 0.05."""
    width = 3.0 * max(vol, 0.05) * math.sqrt(max(horizon, 1 / 243)) + 0.05
    past = past_average if n_past else spot_rel
    centre = math.log((n_past * past + n_future * spot_rel) / (n_past + n_future))
    return np.linspace(centre - width, centre + width, n)


def lagrange3(xp, V, pos):
    """``V`` read at fractional node positions ``pos`` along its first axis (``pos`` shaped like
    ``V``, clipped to [1, n − 2]) by 3-point (quadratic) Lagrange interpolation: at fixings of an
    Asian, linear interpolation of the convex value leaves a bias that adds up."""
    pos = xp.clip(pos, 1.0, V.shape[0] - 2.0)
    j = xp.rint(pos).astype(np.int64)
    u = pos - j
    take = lambda k: xp.take_along_axis(V, k, axis=0)  # noqa: E731
    return 0.5 * u * (u - 1) * take(j - 1) + (1 - u * u) * take(j) + 0.5 * u * (u + 1) * take(j + 1)
