"""Brownian-bridge barrier crossing between simulated dates (continuous monitoring in MC).

Given log-normal levels at consecutive dates, the probability that the path crossed ``level``
in between is exp(-2 ln(H/s_a) ln(H/s_b) / (vol² dτ)) when both ends lie on the safe side, and
1 when either end is already beyond the barrier.
"""
from __future__ import annotations


def crossing_probability(xp, s_prev, s_next, level, var_step, direction: str):
    """Per-step crossing probabilities, same shape as ``s_next``; ``direction`` is "up" or "down".

    ``s_prev``/``s_next`` are levels at the step ends (broadcastable), ``var_step`` = vol² dτ
    per step (last axis).
    """
    a = xp.log(level / s_prev)
    b = xp.log(level / s_next)
    if direction == "up":
        beyond = (a <= 0) | (b <= 0)
    else:
        beyond = (a >= 0) | (b >= 0)
    p = xp.exp(-2.0 * a * b / xp.maximum(var_step, 1e-300))
    return xp.where(beyond, 1.0, xp.minimum(p, 1.0))
