"""Log-spot grids for the PDE engine."""
from __future__ import annotations

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
    return np.clip((x + 0.5 * dx - np.log(level)) / dx, 0.0, 1.0)


def fraction_below(s, level: float) -> np.ndarray:
    """Share of each node's cell lying at or below ``level`` (1 − ``fraction_above``)."""
    return 1.0 - fraction_above(s, level)
