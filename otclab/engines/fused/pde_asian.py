"""Asians in the batched PDE: the running average as the state axis.

A row carries ``N_AVG`` states, the nodes of a log-average grid around the expected final
average (``average_nodes``, as the template's own PDE). Backward in time, a fixing maps the
value after it to the value before it: the state whose average is a becomes (i−1)·a + S over i
fixings (or the geometric counterpart), read off the grid by 3-point interpolation
(``lagrange3``) in the average. Between
fixings every state is an ordinary Crank–Nicolson system.
"""
from __future__ import annotations

import math

import numpy as np

from ..pde.grid import average_nodes, lagrange3
from .program import COL, FIX

N_AVG = 100   # the template's own PDE uses 160; 100 agree with it within 2.5e-5 of notional


def average_grid(ctx, prog: dict, dv: float = 0.0) -> np.ndarray:
    """Log running-average nodes (relative levels) of one contract (vol shifted by ``dv``)."""
    n_fut = int(np.count_nonzero(prog["fix_obs"]))
    n_past = int(prog["n_total"]) - n_fut
    past = prog.get("past_sum", 0.0) / n_past if n_past else 0.0
    return average_nodes(ctx.vol + dv, ctx.T, ctx.spot_rel, n_past, past, n_fut, N_AVG)


def fixing_numbers(prog: dict, flags_by_day: np.ndarray) -> np.ndarray:
    """Per day: the number (1-based, past fixings counted) of the fixing taken that day, else 0."""
    n_past = int(prog["n_total"]) - int(np.count_nonzero(prog["fix_obs"]))
    is_fix = (flags_by_day & FIX) > 0
    return np.where(is_fix, n_past + np.cumsum(is_fix), 0)


def initial_weights(prog: dict, la: np.ndarray):
    """(nodes, weights) of today's running average on the grid (any node before a first fixing)."""
    n_past = int(prog["n_total"]) - int(np.count_nonzero(prog["fix_obs"]))
    if n_past == 0:
        return (0, 1), (1.0, 0.0)
    la0 = prog["past_logsum"] / n_past if prog.get("geometric") else math.log(prog["past_sum"] / n_past)
    pos = float(np.clip((la0 - la[0]) / (la[1] - la[0]), 0.0, len(la) - 1 - 1e-9))
    j = int(pos)
    return (j, j + 1), (1 - (pos - j), pos - j)


def terminal(xp, b, n_x: int):
    """The payoff on every average node (states, nodes, rows): after the last fixing."""
    a = xp.exp(xp.asarray(b.la.T))                                    # (A, R)
    sc = {k: xp.asarray(b.scal[:, COL[k]]) for k in ("principal_T", "phi", "strike", "part")}
    pay = sc["principal_T"] + sc["part"] * xp.maximum(sc["phi"] * (a - sc["strike"]), 0.0)
    return xp.broadcast_to(pay[:, None, :], (a.shape[0], n_x, a.shape[1])).copy()


def fixing(xp, b, day: int, x, V, dev):
    """Value before the fixings of ``day`` from the value after them (rows without one: as is).
    ``dev``: the solve's device copies of the batch (``pde._Dev``)."""
    if not (b.fix_no[:, day] > 0).any():      # the host's copy: skip a day without fixings
        return V
    i = dev.day("fix_no", day)                 # the device's: no host-to-device copy a day
    rows = i > 0
    la = dev.get("la_t", lambda: b.la.T)[:, None, :]                   # (A, 1, R)
    ii = xp.maximum(i, 1).astype(xp.float64)
    geo = dev.col("geo", lambda a: a > 0)
    new = xp.where(geo, ((ii - 1) * la + x[None]) / ii, xp.log(((ii - 1) * xp.exp(la) + xp.exp(x)[None]) / ii))
    dla = dev.get("dla", lambda: b.la[:, 1] - b.la[:, 0])
    out = lagrange3(xp, V, (new - la[:1]) / dla)
    return xp.where(rows, out, V)
