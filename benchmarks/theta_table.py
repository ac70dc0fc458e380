"""Theta across observation dates: every family with an observation (or its maturity) tomorrow,
today's spot above and below each barrier, theta by every engine that prices it.

    python benchmarks/theta_table.py [--paths 40000]

The convention (pricing/price.py): theta = the value on the next trading day minus today's, with
today's spot carried forward and tomorrow's observations applied at that spot (a knock-out
observed tomorrow knocks out and pays, a coupon is paid, a knock-in knocks in, an averaging date
fixes at today's spot). Engines: the closed form (where exact), the PDE (value on its grid on the
next day after the day's events), generic Monte Carlo (the template's payoff, paths starting
tomorrow at today's spot; ± its standard error), the fused program (NumPy reference of the GPU
kernel; ± standard error from batch means) and the batched PDE. ``expected`` is theta where the
outcome is all but certain (spot far beyond tomorrow's knock-out level): the cash paid tomorrow
less today's value of it, one day of carry.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.engines.fused.pde import price_batched, supported  # noqa: E402
from otclab.engines.fused.program import Scenario, build_batch  # noqa: E402
from otclab.engines.fused.reference import run_numpy  # noqa: E402
from otclab.pricing import price  # noqa: E402
from otclab.pricing.engines import run_mc_scenarios, run_pde  # noqa: E402
from otclab.pricing.request import parse_request  # noqa: E402
from otclab.templates.context import PricingContext  # noqa: E402

VAL = "2025-06-03"          # tomorrow is 2025-06-04
N = 10_000_000.0
S0 = 6000.0


def market(spot_rel: float) -> dict:
    return {"valuation_date": VAL, "spot": S0 * spot_rel, "rate": 0.02, "div_yield": 0.01, "vol": 0.2,
            "time_basis": "trading"}


def terms(start: str, **kw) -> dict:
    return {"underlying": "000905.SH", "notional": N, "initial_price": S0, "start_date": start, **kw}


def cases() -> list[dict]:
    """(family, what tomorrow observes, spot vs barrier, request, expected theta or None)."""
    snow = terms("2025-03-04", tenor_months=12, ko_barrier=1.03, ki_barrier=0.75, coupon=0.15, lockup_months=3)
    phx = terms("2025-05-04", tenor_months=12, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.8, coupon=0.12,
                memory=True, lockup_months=1)
    shark = terms("2025-05-06", tenor_months=3, option_type="call", strike=1.0, barrier=1.15, participation=1.0,
                  rebate=0.02, monitoring="daily")
    dshark = terms("2025-05-06", tenor_months=3, strike_low=1.0, strike_high=1.0, barrier_low=0.85,
                   barrier_high=1.15, participation_low=0.5, participation_high=0.5, rebate=0.01, monitoring="daily")
    up_out = terms("2025-05-06", tenor_months=3, option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out",
                   rebate=0.01, monitoring="daily")
    down_in = terms("2025-05-06", tenor_months=3, option_type="put", strike=1.0, barrier=0.8, barrier_type="down_in",
                    monitoring="daily")
    asian = terms("2025-05-06", tenor_months=3, option_type="call", strike=1.0, averaging="arithmetic",
                  fixings="daily")
    geo = dict(asian, averaging="geometric")
    mature = "2025-06-04"     # maturity tomorrow
    van = terms("2025-03-04", maturity_date=mature, option_type="call", strike=1.0)
    dig = terms("2025-03-04", maturity_date=mature, option_type="call", strike=1.0, payout=0.05)
    ann = 0.15 * 92 / 365            # the snowball's coupon accrued 2025-03-04 -> 2025-06-04
    df1 = math.exp(-0.02 / 365)      # one calendar day of discounting (flat 2%)
    phx_cpn = 0.12 * 31 / 365        # the phoenix's coupon for 2025-05-04 -> 2025-06-04
    out = [
        ("snowball", "KO date", "6% above KO", "snowball", snow, 1.09, {"ki_hit": False}, (1 + ann) * (1 - df1)),
        ("snowball", "KO date", "2% above KO", "snowball", snow, 1.05, {"ki_hit": False}, None),
        ("snowball", "KO date", "below KO, above KI", "snowball", snow, 0.98, {"ki_hit": False}, None),
        ("snowball", "KI day", "below KI", "snowball", snow, 0.72, {"ki_hit": False}, None),
        ("phoenix", "KO + coupon date", "5.5% above KO", "phoenix", phx, 1.055, {"ki_hit": False, "missed": 0},
         (1 + phx_cpn) * (1 - df1)),
        ("phoenix", "coupon date", "above coupon barrier, below KO", "phoenix", phx, 0.9, {"ki_hit": False, "missed": 0},
         None),
        ("phoenix", "coupon date", "below coupon barrier", "phoenix", phx, 0.75, {"ki_hit": False, "missed": 0}, None),
        ("phoenix", "KI day", "below KI", "phoenix", phx, 0.68, {"ki_hit": False, "missed": 0}, None),
        ("sharkfin", "daily KO", "above barrier", "sharkfin", shark, 1.16, {"knocked_out": False}, None),
        ("sharkfin", "daily KO", "below barrier", "sharkfin", shark, 1.10, {"knocked_out": False}, None),
        ("double_sharkfin", "daily KO", "above upper", "double_sharkfin", dshark, 1.16, {}, None),
        ("double_sharkfin", "daily KO", "between", "double_sharkfin", dshark, 1.0, {}, None),
        ("double_sharkfin", "daily KO", "below lower", "double_sharkfin", dshark, 0.84, {}, None),
        ("barrier", "daily up-out", "above barrier", "barrier", up_out, 1.21, {"barrier_hit": False}, None),
        ("barrier", "daily up-out", "below barrier", "barrier", up_out, 1.1, {"barrier_hit": False}, None),
        ("barrier", "daily down-in", "below barrier", "barrier", down_in, 0.79, {"barrier_hit": False}, None),
        ("barrier", "daily down-in", "above barrier", "barrier", down_in, 0.9, {"barrier_hit": False}, None),
        ("asian", "averaging date", "at the money", "asian", asian, 1.0, {}, None),
        ("asian", "averaging date (geometric)", "at the money", "asian", geo, 1.02, {}, None),
        ("vanilla", "maturity", "in the money", "vanilla", van, 1.05, {}, None),
        ("vanilla", "maturity", "out of the money", "vanilla", van, 0.95, {}, None),
        ("digital", "maturity", "in the money", "digital", dig, 1.02, {}, None),
    ]
    from otclab.core.calendar import sse_calendar

    past = {d.isoformat(): S0 * 1.01 for d in sse_calendar().trading_days("2025-05-06", VAL)}
    rows = []
    for fam, obs, where, tpl, t, spot, state, expected in out:
        req = {"template": tpl, "terms": t, "market": market(spot), "state": state}
        if tpl == "asian":
            req["fixings"] = past            # the averaging dates so far
        rows.append({"family": fam, "tomorrow": obs, "spot": where, "spot_rel": spot, "request": req,
                     "expected": None if expected is None else N * expected})
    return rows


def theta_by_engine(case: dict, paths: int = 40_000, seed: int = 7) -> dict:
    """{engine: (theta, standard error or None)} for one case (currency, desk = holder)."""
    req = parse_request(case["request"])
    ctx = PricingContext(req.template, req.terms, req.market, req.state, req.fixings)
    out = {}
    from otclab.pricing.price import analytic_is_exact

    if req.template.has_analytic and analytic_is_exact(ctx) and req.template.get("analytic")(ctx) is not None:
        r = price(req, engine="analytic", greeks=True)
        out["analytic"] = (r.greeks["theta"], None)
    if req.template.has_pde:
        v, g, _ = run_pde(ctx, 1201, 4.0)
        out["pde"] = (N * (g["theta"] - v), None)
    res = run_mc_scenarios({"base": ctx, "theta": ctx.theta_view()},
                           lambda v: {"theta": N * (v["theta"] - v["base"])}, paths, seed)
    out["mc"] = (res["theta"].mean, res["theta"].stderr)
    fn = req.template.get("fused")
    prog = fn(ctx) if callable(fn) else None
    if prog is not None:
        if prog.get("mc") is not False:
            b = build_batch([(ctx, prog)], (Scenario("base"), Scenario("theta", theta=True)))
            mean, se, gm, count = run_numpy(b, paths, seed, groups=True)
            names = [name for _, name in b.tasks]
            d = gm[names.index("theta")] - gm[names.index("base")]
            w = count / count.sum()
            m = float(np.sum(w * d))
            e = float(np.sqrt(np.sum(w**2 * (d - m) ** 2) * len(w) / max(len(w) - 1, 1)))
            out["fused"] = (N * m, N * e)
        if supported(prog):
            _, th = price_batched([(ctx, prog)], (0.0,), (0.0,), np, theta=True)
            out["batched_pde"] = (N * th[(0, 0.0)], None)
    return out


def table(paths: int = 40_000):
    """One row a case (generated as they are computed)."""
    for c in cases():
        yield {**{k: c[k] for k in ("family", "tomorrow", "spot", "expected")}, "theta": theta_by_engine(c, paths)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=40_000)
    a = ap.parse_args()
    engines = ("analytic", "pde", "batched_pde", "mc", "fused")
    print(f"theta (CNY, notional {N:,.0f}), valuation {VAL}, tomorrow 2025-06-04; Monte Carlo {a.paths:,} paths")
    head = f"{'family':<16}{'tomorrow':<27}{'spot':<31}{'expected':>10}" + "".join(f"{e:>20}" for e in engines)
    print(head)
    for r in table(a.paths):
        cells = []
        for e in engines:
            if e not in r["theta"]:
                cells.append(f"{'-':>20}")
                continue
            v, se = r["theta"][e]
            cells.append(f"{v:>12,.0f} ±{se:>6,.0f}" if se is not None else f"{v:>20,.0f}")
        exp = f"{r['expected']:>10,.0f}" if r["expected"] is not None else f"{'':>10}"
        print(f"{r['family']:<16}{r['tomorrow']:<27}{r['spot']:<31}{exp}" + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
