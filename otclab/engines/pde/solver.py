"""Backward induction of ``dV/dτ = ½σ² V_xx + μ V_x − r V`` on a uniform log-spot grid.

τ is diffusion time; ``mu`` = (r − q) − σ²/2 per unit τ and ``r_eff`` the discount rate per unit
τ (rate × calendar time / diffusion time, so discounting stays ACT/365F). Values carry a leading
axis of discrete states (e.g. knocked-in or not) solved together. Crank–Nicolson, with two
implicit half steps (Rannacher) at maturity and after events that create jumps. Boundaries
assume V linear in x (V_xx = 0). Events between intervals transform V (knock-out, knock-in
state switch, coupons, early exercise).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import solve_banded


@dataclass
class PdeInterval:
    """One interval between consecutive dates, stepped backward in ``substeps`` steps."""

    dtau: float
    sigma: float
    mu: float
    r_eff: float
    substeps: int
    event: object = None          # callable(V) -> V applied at the interval's start date
    jump: bool = False            # restart with Rannacher after this event
    record: str | None = None     # name under which V at the start date is recorded, after its event


@dataclass
class PdeResult:
    x: np.ndarray
    values: np.ndarray            # (states, n) at valuation
    recorded: dict = field(default_factory=dict)


def _operator(n, dx, sigma, mu, r):
    """Tridiagonal coefficients (lower, diag, upper) of L on the grid."""
    s2 = sigma * sigma
    lo = np.full(n, 0.5 * s2 / dx**2 - 0.5 * mu / dx)
    di = np.full(n, -s2 / dx**2 - r)
    up = np.full(n, 0.5 * s2 / dx**2 + 0.5 * mu / dx)
    # V_xx = 0 at both edges: one-sided first derivative only.
    lo[0], di[0], up[0] = 0.0, -mu / dx - r, mu / dx
    lo[-1], di[-1], up[-1] = -mu / dx, mu / dx - r, 0.0
    return lo, di, up


def _apply(lo, di, up, V):
    out = di * V
    out[..., 1:] += lo[1:] * V[..., :-1]
    out[..., :-1] += up[:-1] * V[..., 1:]
    return out


def _step(V, lo, di, up, dt, theta):
    """One theta-scheme step: (I − θ dt L) V_new = (I + (1−θ) dt L) V."""
    rhs = V + (1.0 - theta) * dt * _apply(lo, di, up, V) if theta < 1 else V
    ab = np.empty((3, di.shape[0]))
    ab[0, 1:] = -theta * dt * up[:-1]
    ab[0, 0] = 0.0
    ab[1] = 1.0 - theta * dt * di
    ab[2, :-1] = -theta * dt * lo[1:]
    ab[2, -1] = 0.0
    return solve_banded((1, 1), ab, rhs.T, check_finite=False).T


def solve_backward(x: np.ndarray, terminal: np.ndarray, intervals, continuous=None) -> PdeResult:
    """Solve from maturity back to valuation through ``intervals`` (ordered last to first).

    ``terminal`` has shape (states, n). ``continuous(V, dtau)`` (optional) is applied after
    every time step (barrier monitoring at each step). Returns values at valuation.
    """
    dx = float(x[1] - x[0])
    n = x.shape[0]
    V = np.array(terminal, dtype=float, copy=True)
    recorded = {}
    rannacher = True
    for itv in intervals:
        lo, di, up = _operator(n, dx, itv.sigma, itv.mu, itv.r_eff)
        dt = itv.dtau / itv.substeps
        for _ in range(itv.substeps):
            if rannacher:
                V = _step(V, lo, di, up, 0.5 * dt, 1.0)
                V = _step(V, lo, di, up, 0.5 * dt, 1.0)
                rannacher = False
            else:
                V = _step(V, lo, di, up, dt, 0.5)
            if continuous is not None:
                V = continuous(V, dt)
        if itv.event is not None:
            V = itv.event(V)
            rannacher = rannacher or itv.jump
        if itv.record:
            recorded[itv.record] = V.copy()
    return PdeResult(x=x, values=V, recorded=recorded)
