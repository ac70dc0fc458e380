"""Backward induction of ``dV/dτ = ½σ² V_xx + μ V_x − r V`` on a uniform log-spot grid.

τ is diffusion time; ``mu`` = (r − q) − σ²/2 per unit τ and ``r_eff`` the discount rate per unit
τ (rate × calendar time / diffusion time, so discounting stays ACT/365F). Values carry a leading
axis of discrete states (e.g. knocked-in or not) solved together: each state is one system of
the shared stepper (``stepper.py``, one row). Crank–Nicolson, with two implicit half steps
(Rannacher) at maturity and after events that create jumps. Boundaries assume V linear in x
(V_xx = 0). Events between intervals transform V (knock-out, knock-in state switch, coupons,
early exercise).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import stepper


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


def solve_backward(x: np.ndarray, terminal: np.ndarray, intervals, continuous=None) -> PdeResult:
    """Solve from maturity back to valuation through ``intervals`` (ordered last to first).

    ``terminal`` has shape (states, n). ``continuous(V, dtau)`` (optional) is applied after
    every time step (barrier monitoring at each step). Returns values at valuation.
    """
    dx = float(x[1] - x[0])
    V = np.array(terminal, dtype=float, copy=True)
    recorded = {}
    rannacher = True
    after = None
    if continuous is not None:
        # the template's callback sees (states, n); the stepper's values are (states, n, 1)
        after = lambda U: np.asarray(continuous(U[..., 0], dt), dtype=float)[..., None]  # noqa: E731
    for itv in intervals:
        op = stepper.operator(np, np.array([itv.sigma]), np.array([itv.mu]), np.array([itv.r_eff]), dx)
        dt = itv.dtau / itv.substeps
        V = stepper.march(np, V[..., None], op, dt, itv.substeps, restart=rannacher, rannacher="halves",
                          after=after)[..., 0]
        rannacher = False
        if itv.event is not None:
            V = itv.event(V)
            rannacher = rannacher or itv.jump
        if itv.record:
            recorded[itv.record] = V.copy()
    return PdeResult(x=x, values=V, recorded=recorded)
