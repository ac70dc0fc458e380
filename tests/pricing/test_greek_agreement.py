"""Greeks agree across engines, per family and per Greek, on random contracts (seasoned ones
included): generic Monte Carlo and the fused program within 4 of their own standard errors of the
PDE (or the exact closed form), plus the PDE's discretisation floor; the batched PDE against the
generic PDE. Every engine uses the same definitions (pricing/price.py), so they estimate the same
numbers. Seeds are fixed so that CI is reproducible; benchmarks/fused_check.py draws fresh ones."""
import numpy as np
import pytest

from otclab.book import price_book
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.engines.fused.pde import price_batched
from otclab.pricing import price
from otclab.pricing.request import parse_request
from otclab.templates.context import PricingContext

FAMILIES = ("vanilla", "digital", "barrier", "sharkfin", "double_sharkfin", "snowball", "phoenix", "asian")
COMPARED = ("cash_delta", "cash_gamma_1pct", "vega", "theta", "rho")
# the PDE's own discretisation error, as a fraction of notional (deltas and gammas: per 1% move)
FLOOR = {"cash_delta": 2e-3, "cash_gamma_1pct": 5e-3, "vega": 4e-5, "theta": 2e-5, "rho": 4e-5}


def contracts():
    """Two contracts of every family from a random synthetic book, plus a seasoned Asian."""
    mkt = synthetic_market()
    out, seen = [], {}
    for c in synthetic_book(240, seed=2026):
        if c["terms"].get("monitoring") == "continuous":
            continue      # the PDE's continuous barrier is the BGK approximation: checked in fused_check
        if seen.get(c["template"], 0) < 2:
            seen[c["template"]] = seen.get(c["template"], 0) + 1
            out.append(c)
    from otclab.core.calendar import sse_calendar

    start = "2025-04-01"
    fix = {d.isoformat(): 5600.0 * (1 + 0.002 * i) for i, d in enumerate(sse_calendar().trading_days(start, mkt["valuation_date"]))}
    out.append({"id": "SEASONED-ASIAN", "template": "asian", "fixings": fix,
                "terms": {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5500.0, "start_date": start,
                          "tenor_months": 6, "option_type": "call", "strike": 1.0, "averaging": "arithmetic",
                          "fixings": "daily"}})
    assert set(seen) == set(FAMILIES)
    return out


CONTRACTS = contracts()


def request(c):
    return {"template": c["template"], "terms": c["terms"], "market": synthetic_market(),
            **{k: c[k] for k in ("state", "fixings") if k in c}}


def reference(c) -> dict:
    """The PDE's Greeks, the exact closed form's, or (arithmetic Asians) the batched PDE's."""
    req = request(c)
    r = price(req, greeks=True)          # auto: closed form if exact, else the template's PDE
    if r.engine != "mc":
        return r.greeks
    pr = parse_request(req)
    ctx = PricingContext(pr.template, pr.terms, pr.market, pr.state, pr.fixings)
    h = ctx.delta_bump()
    vals, th = price_batched([(ctx, pr.template.get("fused")(ctx))], (0.0, -0.01, 0.01), (0.0, h, -h), np, n_x=801,
                             theta=True)
    N, S = ctx.notional, ctx.spot
    v = vals[(0, 0.0)]
    g = {"cash_delta": N * (v[1] - v[2]) / (2 * h), "cash_gamma_1pct": N * (v[1] - 2 * v[0] + v[2]) / (h * S) ** 2
         * S**2 / 100, "vega": N * (vals[(0, 0.01)][0] - vals[(0, -0.01)][0]) / 2, "theta": N * th[(0, 0.0)]}
    return g


@pytest.fixture(scope="module")
def refs():
    return [reference(c) for c in CONTRACTS]


@pytest.fixture(scope="module")
def fused():
    return price_book(CONTRACTS, synthetic_market(), paths=65_536, seed=17, greeks=True, device="cpu")


def _check(c, ref, got, se, engine):
    N = c["terms"]["notional"]
    for k in COMPARED:
        if k not in ref or ref[k] is None:
            continue
        scale = 0.01 if k in ("cash_delta", "cash_gamma_1pct") else 1.0
        tol = 4 * se[k] + FLOOR[k] * N / scale
        assert abs(got[k] - ref[k]) <= tol, (c["id"], c["template"], engine, k, got[k], se[k], ref[k])


@pytest.mark.parametrize("i", range(len(CONTRACTS)), ids=[f"{c['template']}-{c['id']}" for c in CONTRACTS])
def test_generic_monte_carlo_greeks_agree_with_the_pde(i, refs):
    c = CONTRACTS[i]
    r = price(request(c), engine="mc", greeks=True, paths=40_000, seed=23)
    assert set(r.greeks_se) == set(r.greeks)
    _check(c, refs[i], r.greeks, r.greeks_se, "mc")


def test_fused_greeks_agree_with_the_pde(refs, fused):
    assert (fused["engine"] == "fused-cpu").all()
    for c, ref, (_, row) in zip(CONTRACTS, refs, fused.iterrows()):
        se = {k: row[f"{k}_se"] for k in COMPARED}
        _check(c, ref, row, se, "fused")


def test_batched_pde_agrees_with_the_generic_pde():
    for c in CONTRACTS:
        req = parse_request(request(c))
        if not req.template.has_pde:
            continue
        ctx = PricingContext(req.template, req.terms, req.market, req.state, req.fixings)
        h = ctx.delta_bump()
        vals, th = price_batched([(ctx, req.template.get("fused")(ctx))], (0.0, -0.01, 0.01), (0.0, h, -h), np,
                                 theta=True)
        g = price(request(c), engine="pde", greeks=True)
        N = ctx.notional
        v = vals[(0, 0.0)]
        assert abs(N * v[0] - g.value) <= 3e-4 * N, c["id"]
        assert abs(N * th[(0, 0.0)] - g.greeks["theta"]) <= 1e-4 * N, c["id"]
        assert abs(N * (v[1] - v[2]) / (2 * h) - g.greeks["cash_delta"]) <= 3e-3 * N, c["id"]
        vega = N * (vals[(0, 0.01)][0] - vals[(0, -0.01)][0]) / 2
        assert abs(vega - g.greeks["vega"]) <= 5e-5 * N, c["id"]


def test_noisy_greeks_are_flagged_not_silently_shown():
    snow = next(c for c in CONTRACTS if c["template"] == "snowball")
    few = price(request(snow), engine="mc", greeks=True, paths=2_000, seed=3)
    many = price(request(snow), engine="mc", greeks=True, paths=80_000, seed=3)
    assert few.flagged and len(few.flagged) >= len(many.flagged)
    for k in few.flagged:
        assert few.greeks_se[k] > 0.25 * abs(few.greeks[k])
