"""Price a request with an engine, with Greeks as the desk defines them (design.md).

Greeks, the same definition for every engine:
- delta and gamma: central differences of the value over spot × (1 ± h), per point of spot,
  h = ``spot_bump(ctx)`` (7% of the underlying's standard deviation to maturity, between 0.5% and
  3%: wide enough that a path jumping over a barrier does not dominate a Monte Carlo difference,
  narrow enough to be the local slope); cash delta = delta × spot; delta as % of notional = cash
  delta / notional × 100; 1% cash gamma = gamma × spot² / 100;
- vega: (V(σ + 1pt) − V(σ − 1pt)) / 2, per vol point; rho: per 1% from ±25bp;
- theta: the value on the next trading day minus the value today, today's spot carried forward
  and the next day's observations applied at that spot (a knock-out observed tomorrow at today's
  spot knocks out, a coupon observed tomorrow is paid, cash paid that day counts in tomorrow's
  value); a contract whose every remaining date passes tomorrow has a theta too.
Monte Carlo prices every scenario on the same paths in one pass and gives each Greek the
standard error of its own difference (``greeks_se``); PDE and closed forms give none. The PDE reads
its spot scenarios off its grid and tomorrow's value from the same solve.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

from ..core.backend import get_xp
from ..core.errors import EngineError
from ..core.limits import check_paths
from ..templates.context import PricingContext
from .engines import deterministic_value, run_analytic, run_mc, run_mc_scenarios, run_pde
from .request import PricingRequest, parse_request

ENGINES = ("auto", "analytic", "mc", "pde")
VOL_BUMP = 0.01      # one vol point
RATE_BUMP = 0.0025   # a quarter point, scaled to 1% (small against the convexity, large
                     # enough that Monte Carlo knock-out flips do not dominate the difference)
GREEKS = ("delta", "gamma", "cash_delta", "delta_pct", "cash_gamma_1pct", "vega", "theta", "rho")
GREEK_UNITS = {"delta": "units of the underlying (per point)", "gamma": "delta change per point",
               "cash_delta": "{ccy} of underlying (delta × spot)", "delta_pct": "% of notional (cash delta)",
               "cash_gamma_1pct": "{ccy}: cash delta change for a 1% move", "vega": "{ccy} per vol point",
               "theta": "{ccy} per trading day", "rho": "{ccy} per 1% rate"}
# a Monte Carlo Greek is flagged when its standard error exceeds a quarter of its size and this
# fraction of notional (on the P&L scale: for deltas and gammas the P&L of a 1% move)
FLAG_FLOOR = 1e-5


@dataclass
class PriceResult:
    value: float                   # currency, whole notional
    stderr: float | None           # currency (MC only)
    engine: str
    template: str
    version: str
    notional: float
    greeks: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    greeks_se: dict = field(default_factory=dict)      # MC: standard error of each Greek
    flagged: list = field(default_factory=list)         # MC Greeks too noisy to use (FLAG_FLOOR)

    @property
    def value_pct(self) -> float:
        return self.value / self.notional

    def to_dict(self) -> dict:
        out = asdict(self)
        out["value_pct"] = self.value_pct
        return out


@dataclass
class EngineSettings:
    engine: str = "mc"
    paths: int = 100_000
    seed: int = 20240101
    antithetic: bool = True
    device: str | None = None
    n_x: int = 1201
    steps_per_day: float = 4.0
    chunk_paths: int | None = None
    progress: object = None


def analytic_is_exact(ctx) -> bool:
    """Whether the template's closed form is exact for this contract: its ``ANALYTIC_EXACT(ctx)``
    if it declares one, else True (a template's ``analytic`` returns None where it has none)."""
    fn = ctx.template.get("ANALYTIC_EXACT")
    return bool(fn(ctx)) if callable(fn) else True


def best_engine(ctx) -> str:
    """The engine ``auto`` picks: the closed form where it is exact for these terms, else the PDE
    where the template has one, else Monte Carlo."""
    tpl = ctx.template
    if tpl.has_analytic and analytic_is_exact(ctx) and tpl.get("analytic")(ctx) is not None:
        return "analytic"
    return "pde" if tpl.has_pde else "mc"


def _value(req: PricingRequest, st: EngineSettings, market=None, terms=None, fixings=None):
    """(value fraction, stderr fraction, grid greeks) for a request on a (possibly bumped) market."""
    ctx = PricingContext(req.template, terms or req.terms, market or req.market, req.state,
                         req.fixings if fixings is None else fixings, xp=get_xp(st.device))
    return _run(ctx, st)


def _run(ctx, st: EngineSettings):
    """``_value`` on a context already built (a bumped market read into the base contract's)."""
    if st.engine == "auto":
        st.engine = best_engine(ctx)
    if st.engine == "mc":
        v, se = run_mc(ctx, st.paths, st.seed, st.antithetic, st.chunk_paths, st.progress)
        return v, se, {}, ctx
    if st.engine == "pde":
        v, g, _ = run_pde(ctx, st.n_x, st.steps_per_day, spot_bump(ctx))
        return v, None, g, ctx
    return run_analytic(ctx), None, {}, ctx


def spot_bump(ctx) -> float:
    """Relative spot bump h of delta and gamma (``PricingContext.delta_bump``)."""
    return ctx.delta_bump()


def desk_greeks(values: dict, notional: float, spot: float, h: float) -> dict:
    """Desk Greeks (module docstring) from values per scenario as fractions of notional: "base",
    "spot_up"/"spot_down" (spot × (1 ± h)), "vol_up"/"vol_down", "rate_up"/"rate_down" and
    "theta" (tomorrow's value). Values may be arrays (per-path estimates): the map is linear."""
    v0 = values["base"]
    dS = h * spot
    g = {"delta": notional * (values["spot_up"] - values["spot_down"]) / (2 * dS),
         "gamma": notional * (values["spot_up"] - 2 * v0 + values["spot_down"]) / dS**2}
    g["cash_delta"] = g["delta"] * spot
    g["delta_pct"] = g["cash_delta"] / notional * 100.0
    g["cash_gamma_1pct"] = g["gamma"] * spot**2 / 100.0
    g["vega"] = notional * (values["vol_up"] - values["vol_down"]) / 2
    g["rho"] = notional * (values["rate_up"] - values["rate_down"]) / (2 * RATE_BUMP) * 0.01
    g["theta"] = notional * (values["theta"] - v0)
    return {k: g[k] for k in GREEKS}


def flag_greeks(greeks: dict, se: dict, notional: float) -> list[str]:
    """The Monte Carlo Greeks too noisy to use: standard error above a quarter of the Greek and
    above ``FLAG_FLOOR`` × notional on the P&L scale (deltas and gammas: the P&L of a 1% move)."""
    pnl_scale = {"cash_delta": 0.01, "cash_gamma_1pct": 0.01, "vega": 1.0, "theta": 1.0, "rho": 1.0}
    goes_with = {"cash_delta": ("delta", "delta_pct"), "cash_gamma_1pct": ("gamma",)}
    out = set()
    for k, f in pnl_scale.items():
        e, g = se.get(k), greeks.get(k)
        if e is not None and g is not None and e > 0.25 * abs(g) and e * f > FLAG_FLOOR * notional:
            out |= {k, *goes_with.get(k, ())}
    return [k for k in GREEKS if k in out]


def scenario_contexts(ctx, h: float) -> dict:
    """The bumped contexts of the Greeks (module docstring) and the theta view, on ctx's grid."""
    m, u = ctx.market, ctx.underlying
    bump = lambda **kw: ctx.with_market(m.bumped(underlying=u, **kw))  # noqa: E731
    return {"base": ctx, "spot_up": bump(spot_rel=h), "spot_down": bump(spot_rel=-h),
            "vol_up": bump(vol_abs=VOL_BUMP), "vol_down": bump(vol_abs=-VOL_BUMP),
            "rate_up": bump(rate_abs=RATE_BUMP), "rate_down": bump(rate_abs=-RATE_BUMP), "theta": ctx.theta_view()}


def _theta_value(ctx) -> float:
    """Tomorrow's value at today's spot by the closed form on the ``theta_view`` (today's forward
    rates and variances from tomorrow on, as the PDE and Monte Carlo see them), or, when every
    remaining date passes tomorrow, the payoff at today's spot."""
    tomorrow = ctx.cal.add_trading_days(ctx.valuation_date, 1)
    view = ctx.theta_view()
    if tomorrow >= ctx.maturity:
        return deterministic_value(view)
    return run_analytic(view)


def _greeks(req: PricingRequest, st: EngineSettings, v0: float, grid: dict, ctx):
    """(greeks, standard errors) of the request by its engine (module docstring)."""
    h = spot_bump(ctx)
    quiet = EngineSettings(**{**st.__dict__, "progress": None})
    if st.engine == "mc":
        N, spot = ctx.notional, ctx.spot
        res = run_mc_scenarios(scenario_contexts(ctx, h), lambda v: desk_greeks(v, N, spot, h), st.paths, st.seed,
                               st.antithetic, st.chunk_paths)
        return {k: r.mean for k, r in res.items()}, {k: r.stderr for k, r in res.items()}
    m = req.market
    # the base contract's dates and state with the bumped market read in (no schedule rebuilt)
    val = lambda **kw: _run(ctx.with_market(m.bumped(underlying=req.terms.underlying, **kw)), quiet)[0]  # noqa: E731
    values = {"base": v0, "vol_up": val(vol_abs=VOL_BUMP), "vol_down": val(vol_abs=-VOL_BUMP),
              "rate_up": val(rate_abs=RATE_BUMP), "rate_down": val(rate_abs=-RATE_BUMP)}
    if st.engine == "pde":
        values.update(spot_up=grid["spot_up"], spot_down=grid["spot_down"], theta=grid["theta"])
    else:
        values.update(spot_up=val(spot_rel=h), spot_down=val(spot_rel=-h), theta=_theta_value(ctx))
    return desk_greeks(values, ctx.notional, ctx.spot, h), {}


def price(request, engine: str = "auto", paths: int = 100_000, seed: int = 20240101,
          greeks: bool = False, antithetic: bool = True, device: str | None = None,
          n_x: int = 1201, steps_per_day: float = 4.0, chunk_paths: int | None = None,
          progress=None) -> PriceResult:
    """Price ``request`` (dict, JSON text, file path or ``PricingRequest``) with ``engine``.

    ``engine="auto"`` (default) takes the closed form where it is exact for these terms, else the
    PDE where the template has one, else Monte Carlo; the result names the engine it used.
    Returns the value in currency for the whole notional; MC adds its standard error.
    """
    req = parse_request(request)
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}", "engine")
    paths = check_paths(paths)
    st = EngineSettings(engine, paths, seed, antithetic, device, n_x, steps_per_day, chunk_paths, progress)
    t0 = time.perf_counter()
    v, se, grid, ctx = _value(req, st)
    out = PriceResult(value=ctx.notional * v, stderr=None if se is None else ctx.notional * se,
                      engine=st.engine, template=req.template.name, version=req.template.version,
                      notional=ctx.notional)
    if greeks:
        out.greeks, out.greeks_se = _greeks(req, st, v, grid, ctx)
        out.flagged = flag_greeks(out.greeks, out.greeks_se, ctx.notional)
    # the last line of defence: a number that is not finite is never shown as an answer
    bad = [k for k, x in {"value": out.value, **out.greeks}.items() if x is not None and not math.isfinite(x)]
    if bad:
        raise EngineError(f"the {st.engine} engine gave a non-finite {bad[0]} for these inputs; check the terms and "
                          "the market", "engine")
    out.details = {"seconds": time.perf_counter() - t0, "paths": paths if st.engine == "mc" else None,
                   "device": "gpu" if ctx.xp.__name__ == "cupy" else "cpu",
                   "maturity_date": ctx.maturity.isoformat(), "spot": ctx.spot,
                   "observation_dates": len(ctx.dates), "vol": ctx.vol, "rate": ctx.r,
                   "spot_bump": spot_bump(ctx), "currency": ctx.terms.get("currency", "CNY")}
    return out


def price_many(requests, **kw) -> list[PriceResult]:
    """Price several requests with the same engine settings."""
    return [price(r, **kw) for r in requests]
