"""Run one engine on one pricing context; values are fractions of notional."""
from __future__ import annotations

import math

import numpy as np

from ..core.errors import EngineError
from ..engines.mc import mc_expectation
from ..engines.pde import PdeInterval, log_grid, solve_backward
from ..templates.context import PricingContext


def run_mc(ctx: PricingContext, paths: int, seed, antithetic: bool = True, chunk_paths=None,
           progress=None, z_offset: int = 0):
    """(value, stderr) by Monte Carlo over the context's date grid."""
    payoff = ctx.template.get("payoff")
    drift, vsd = ctx.mc_drift_vol()
    res = mc_expectation(lambda s: payoff(s, ctx), n_paths=int(paths), log_s0=math.log(ctx.spot_rel),
                         drift=drift, vol_sqrt_dt=vsd, seed=seed, antithetic=antithetic, xp=ctx.xp,
                         chunk_paths=chunk_paths, progress=progress, z_offset=z_offset)
    return res.mean, res.stderr


def run_analytic(ctx: PricingContext) -> float:
    fn = ctx.template.get("analytic")
    if not callable(fn):
        raise EngineError(f"template {ctx.template.name!r} has no analytic formula; "
                          f"engines available: {', '.join(ctx.template.engines())}", "engine")
    value = fn(ctx)
    if value is None:
        raise EngineError(f"no closed form for these terms of {ctx.template.name!r}; use mc or pde", "engine")
    return float(value)


def run_pde(ctx: PricingContext, n_x: int = 801, steps_per_day: float = 2.0):
    """Solve the template's PDE; returns (value, greeks-from-grid dict, result)."""
    tpl = ctx.template
    if not tpl.has_pde:
        raise EngineError(f"template {tpl.name!r} has no PDE events; engines available: "
                          f"{', '.join(tpl.engines())}", "engine")
    levels_fn = tpl.get("pde_levels")
    levels = levels_fn(ctx) if callable(levels_fn) else ()
    x = log_grid(ctx.spot_rel, ctx.vol, ctx.T, n=n_x, levels=levels)
    s = np.exp(x)
    V = np.asarray(tpl.get("pde_terminal")(s, ctx), dtype=float)
    if V.ndim == 1:
        V = V[None, :]
    tomorrow = ctx.cal.add_trading_days(ctx.valuation_date, 1)
    dates = sorted(set(ctx.dates) | ({tomorrow} if tomorrow < ctx.maturity else set()))
    dtau, dcal, vols, carry, r_f = ctx.step_params(dates)
    membership = {}
    for name, fut in ctx.future.items():
        for k, d in enumerate(fut):
            membership.setdefault(d, {})[name] = k
    jumps = set(tpl.get("PDE_JUMPS", ()))
    event_fn = tpl.get("pde_event")
    per_unit = ctx.market.trading_days_per_year * steps_per_day
    intervals = []
    for i in range(len(dates) - 1, -1, -1):
        start_date = dates[i - 1] if i > 0 else None
        events = membership.get(start_date, {}) if start_date is not None else {}
        event = None
        if events and callable(event_fn):
            event = (lambda ev: (lambda V: np.asarray(event_fn(ev, s, V, ctx), dtype=float)))(events)
        tau = max(float(dtau[i]), 1e-12)
        intervals.append(PdeInterval(
            dtau=tau, sigma=float(vols[i]), mu=float(carry[i] - 0.5 * vols[i] ** 2),
            r_eff=float(r_f[i] * dcal[i] / tau), substeps=max(1, int(math.ceil(tau * per_unit - 1e-9))),
            event=event, jump=bool(jumps & set(events)),
            record="tomorrow" if start_date == tomorrow else None))
    cont = tpl.get("pde_continuous")
    continuous = (lambda V, dt: np.asarray(cont(s, V, ctx, dt), dtype=float)) if callable(cont) else None
    res = solve_backward(x, V, intervals, continuous)
    # The starting state: an index, or (index, weight) pairs for a state between grid rows.
    init = tpl.get("pde_initial_state")
    k = init(ctx) if callable(init) else 0
    weights = [(int(k), 1.0)] if isinstance(k, (int, np.integer)) else [(int(i), float(w)) for i, w in k]
    j = int(np.argmin(np.abs(x - math.log(ctx.spot_rel))))
    v = sum(w * res.values[i] for i, w in weights)
    dx = x[1] - x[0]
    vx = (v[j + 1] - v[j - 1]) / (2 * dx)
    vxx = (v[j + 1] - 2 * v[j] + v[j - 1]) / dx**2
    sj = s[j]
    grid_greeks = {"delta_rel": vx / sj, "gamma_rel": (vxx - vx) / sj**2}
    if "tomorrow" in res.recorded:
        grid_greeks["theta_rel"] = sum(w * res.recorded["tomorrow"][i][j] for i, w in weights) - v[j]
    return float(v[j]), grid_greeks, res
