"""Run one engine on one pricing context; values are fractions of notional."""
from __future__ import annotations

import math

import numpy as np

from ..core.errors import EngineError
from ..engines.mc import mc_expectation, mc_scenarios
from ..engines.pde import PdeInterval, log_grid, solve_backward
from ..templates.context import PricingContext


def run_mc(ctx: PricingContext, paths: int, seed, antithetic: bool = True, chunk_paths=None, progress=None):
    """(value, stderr) by Monte Carlo over the context's date grid."""
    payoff = ctx.template.get("payoff")
    drift, vsd = ctx.mc_drift_vol()
    res = mc_expectation(lambda s: payoff(s, ctx), n_paths=int(paths), log_s0=math.log(ctx.spot_rel),
                         drift=drift, vol_sqrt_dt=vsd, seed=seed, antithetic=antithetic, xp=ctx.xp,
                         chunk_paths=chunk_paths, progress=progress)
    return res.mean, res.stderr


def run_mc_scenarios(ctxs: dict, combine, paths: int, seed, antithetic: bool = True, chunk_paths=None,
                     progress=None) -> dict:
    """{output: MCResult} of ``combine`` over the contexts ``ctxs`` (name → context: bumped
    markets, a theta view), all priced on the same paths (one pass, common random numbers)."""
    scen = {}
    for name, c in ctxs.items():
        payoff = c.template.get("payoff")
        drift, vsd = c.mc_drift_vol()
        scen[name] = ((lambda s, c=c, f=payoff: f(s, c)), math.log(c.spot_rel), drift, vsd)
    base = next(iter(ctxs.values()))
    return mc_scenarios(scen, n_paths=int(paths), combine=combine, seed=seed, antithetic=antithetic, xp=base.xp,
                        chunk_paths=chunk_paths, progress=progress)


def deterministic_value(ctx: PricingContext) -> float:
    """The payoff on the path that stays at today's spot: what a ``theta_view`` is worth when its
    every date passes tomorrow (no diffusion left)."""
    s = ctx.xp.full((1, len(ctx.dates)), ctx.spot_rel)
    with np.errstate(over="ignore", divide="ignore"):
        return float(ctx.xp.asarray(ctx.template.get("payoff")(s, ctx))[0])


def run_analytic(ctx: PricingContext) -> float:
    fn = ctx.template.get("analytic")
    if not callable(fn):
        raise EngineError(f"template {ctx.template.name!r} has no analytic formula; "
                          f"engines available: {', '.join(ctx.template.engines())}", "engine")
    value = fn(ctx)
    if value is None:
        raise EngineError(f"no closed form for these terms of {ctx.template.name!r}; use mc or pde", "engine")
    return float(value)


def run_pde(ctx: PricingContext, n_x: int = 801, steps_per_day: float = 2.0, spot_bump: float | None = None):
    """Solve the template's PDE; returns (value, readouts, result). ``readouts`` holds the values
    at spot × (1 ± ``spot_bump``) read off the grid ("spot_up", "spot_down") when a bump is
    given, and "theta": the value on the next trading day at today's spot, the day's observations
    applied (cum-event: cash paid that day included)."""
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
    dates = sorted(set(ctx.dates) | {tomorrow})
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
    if tomorrow >= ctx.maturity:
        res.recorded["tomorrow"] = V       # maturity is tomorrow: its payoff, observations included
    # The starting state: an index, or (index, weight) pairs for a state between grid rows.
    init = tpl.get("pde_initial_state")
    k = init(ctx) if callable(init) else 0
    weights = [(int(k), 1.0)] if isinstance(k, (int, np.integer)) else [(int(i), float(w)) for i, w in k]
    j = int(np.argmin(np.abs(x - math.log(ctx.spot_rel))))
    v = sum(w * res.values[i] for i, w in weights)
    out = {"theta": float(sum(w * res.recorded["tomorrow"][i][j] for i, w in weights))}
    if spot_bump:
        for name, h in (("spot_up", spot_bump), ("spot_down", -spot_bump)):
            out[name] = float(np.interp(math.log(ctx.spot_rel * (1 + h)), x, v))
    return float(v[j]), out, res
