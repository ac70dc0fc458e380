"""Price a request with an engine, with Greeks as the desk defines them (design.md).

Greeks: delta and gamma per point of spot (index points), cash delta = delta × spot, vega per
1 vol point, theta = value one trading day later (same spot, same state) minus value now, rho per
1% rate. MC Greeks are bump-and-reprice with common random numbers; PDE delta, gamma and theta
come from the grid.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from ..core.backend import get_xp
from ..core.errors import EngineError
from ..templates.context import PricingContext
from .engines import run_analytic, run_mc, run_pde
from .request import PricingRequest, parse_request

ENGINES = ("auto", "analytic", "mc", "pde")
SPOT_BUMP = 0.01     # relative, for MC delta/gamma
VOL_BUMP = 0.01      # one vol point
RATE_BUMP = 0.001    # ten basis points, scaled to 1% (small enough to be linear, large
                     # enough that MC knock-out flips do not dominate the difference)


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
    z_offset: int = 0


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
    if st.engine == "auto":
        st.engine = best_engine(ctx)
    if st.engine == "mc":
        v, se = run_mc(ctx, st.paths, st.seed, st.antithetic, st.chunk_paths, st.progress, st.z_offset)
        return v, se, {}, ctx
    if st.engine == "pde":
        v, g, _ = run_pde(ctx, st.n_x, st.steps_per_day)
        return v, None, g, ctx
    return run_analytic(ctx), None, {}, ctx


def desk_greeks(values: dict, notional: float, spot: float, s0: float, grid: dict | None = None) -> dict:
    """Desk Greeks (design.md) from values per scenario, as fractions of notional.

    ``values`` holds "base", "vol_up"/"vol_down", "rate_up"/"rate_down", "theta" (tomorrow's
    value, or None past the last day) and, unless ``grid`` gives delta and gamma in relative
    levels (``delta_rel``, ``gamma_rel``, optionally ``theta_rel``) from a PDE grid,
    "spot_up"/"spot_down" (spot × (1 ± SPOT_BUMP)). ``s0`` is the initial price.
    """
    grid = grid or {}
    v0 = values["base"]
    if "delta_rel" in grid:
        g = {"delta": notional * grid["delta_rel"] / s0, "gamma": notional * grid["gamma_rel"] / s0**2}
    else:
        h = SPOT_BUMP * spot
        g = {"delta": notional * (values["spot_up"] - values["spot_down"]) / (2 * h),
             "gamma": notional * (values["spot_up"] - 2 * v0 + values["spot_down"]) / h**2}
    g["cash_delta"] = g["delta"] * spot
    g["vega"] = notional * (values["vol_up"] - values["vol_down"]) / 2
    g["rho"] = notional * (values["rate_up"] - values["rate_down"]) / (2 * RATE_BUMP) * 0.01
    if "theta_rel" in grid:
        g["theta"] = notional * grid["theta_rel"]
    else:
        g["theta"] = None if values.get("theta") is None else notional * (values["theta"] - v0)
    return g


def _greeks(req: PricingRequest, st: EngineSettings, v0: float, grid: dict, ctx) -> dict:
    spot, m = ctx.spot, req.market
    quiet = EngineSettings(**{**st.__dict__, "progress": None})
    val = lambda **kw: _value(req, quiet, market=m.bumped(underlying=req.terms.underlying, **kw))[0]  # noqa: E731
    values = {"base": v0, "vol_up": val(vol_abs=VOL_BUMP), "vol_down": val(vol_abs=-VOL_BUMP),
              "rate_up": val(rate_abs=RATE_BUMP), "rate_down": val(rate_abs=-RATE_BUMP), "theta": None}
    if "delta_rel" not in grid:
        values["spot_up"], values["spot_down"] = val(spot_rel=SPOT_BUMP), val(spot_rel=-SPOT_BUMP)
    tomorrow = ctx.cal.add_trading_days(m.valuation_date, 1)
    if "theta_rel" not in grid and tomorrow < ctx.maturity:
        # Tomorrow's observation passes at today's spot with today's state (an average
        # fixing takes today's spot); tomorrow's paths reuse today's normals after tomorrow.
        fix = {**req.fixings, tomorrow.isoformat(): spot}
        shifted = EngineSettings(**{**quiet.__dict__, "z_offset": int(ctx.dates[0] == tomorrow)})
        req_t = PricingRequest(req.template, req.terms, req.market, {**req.state, **ctx.state}, fix, req.raw_terms)
        values["theta"] = _value(req_t, shifted, market=m.bumped(valuation_date=tomorrow))[0]
    return desk_greeks(values, ctx.notional, spot, ctx.s0, grid)


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
    if paths < 2:
        raise EngineError("paths must be at least 2", "paths")
    st = EngineSettings(engine, paths, seed, antithetic, device, n_x, steps_per_day, chunk_paths, progress)
    t0 = time.perf_counter()
    v, se, grid, ctx = _value(req, st)
    out = PriceResult(value=ctx.notional * v, stderr=None if se is None else ctx.notional * se,
                      engine=st.engine, template=req.template.name, version=req.template.version,
                      notional=ctx.notional)
    if greeks:
        out.greeks = _greeks(req, st, v, grid, ctx)
    out.details = {"seconds": time.perf_counter() - t0, "paths": paths if st.engine == "mc" else None,
                   "device": "gpu" if ctx.xp.__name__ == "cupy" else "cpu",
                   "maturity_date": ctx.maturity.isoformat(), "spot": ctx.spot,
                   "observation_dates": len(ctx.dates), "vol": ctx.vol, "rate": ctx.r}
    return out


def price_many(requests, **kw) -> list[PriceResult]:
    """Price several requests with the same engine settings."""
    return [price(r, **kw) for r in requests]
