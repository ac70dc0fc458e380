"""A trade version's observation plan: which dates it observes, what each observation does.

The plan is the template's ``fused`` program (the same per-date flags, levels and cash the
book-scale engines price with) built on the trade's start date, so that every observation date
lies ahead, and stored once per trade version as compact JSON:

- ``d``: the observation dates (proleptic ordinals), the last one maturity; ``f``: flags per date
  (``KO``, ``KI``, ``CPN``, ``FIX``, ``BAR`` of ``engines/fused/program.py``; ``OBS``: a close the
  settlement needs);
- ``ko``: autocall knock-out positions with their level and cash (fractions of notional,
  undiscounted, principal included for notes); ``s``: the program's scalars.

Templates without a program get a ``generic`` plan: their schedule dates are observed (closes
recorded and required) and the maturity settlement is their own payoff evaluated on the
realised closes; early terminations of such templates are not detected (give them a ``fused``
cell to be lifecycled fully).
"""
from __future__ import annotations

import math

import numpy as np

from ...engines.fused.program import BAR, CPN, FIX, KI, KO
from ...market.snapshot import MarketSnapshot
from ...templates.context import PricingContext

OBS = 32
PLAN_VERSION = 1
_SCALARS = ("ki_level", "cb_level", "cpn_rate", "memory", "acc_from0", "principal", "ki_strike", "loss_floor",
            "end_cash", "init_ki", "barrier", "barrier_low", "up", "out", "continuous", "ko_cash",
            "cash_at_maturity", "rebate_T", "init_hit", "phi", "strike", "part", "payout", "strike2", "part2",
            "geometric", "n_total", "past_sum", "past_logsum", "american")


def start_market(terms) -> MarketSnapshot:
    """A market on the start date; a plan reads dates and terms only (flat placeholders)."""
    return MarketSnapshot.from_dict({"valuation_date": terms["start_date"].isoformat(),
                                     "spots": {terms["underlying"]: terms["initial_price"]},
                                     "rate": 0.0, "vol": 0.2})


def start_context(template, terms, market: MarketSnapshot | None = None) -> PricingContext:
    """The trade on its start date: every observation ahead, no state."""
    return PricingContext(template, terms, market or start_market(terms), {}, {})


def compile_plan(template, terms) -> dict:
    """The observation plan (JSON data) of ``terms`` under ``template``."""
    ctx = start_context(template, terms)
    n = len(ctx.dates)
    d = [x.toordinal() for x in ctx.dates]
    fn = template.get("fused")
    prog = fn(ctx) if callable(fn) else None
    flags = np.zeros(n, np.int64)
    plan = {"v": PLAN_VERSION, "start": ctx.start.toordinal(), "s0": float(ctx.s0), "d": d}
    if prog is None:
        flags[:] = OBS
        plan.update(family="generic", f=flags.tolist(), s={})
        return plan
    fam = prog["family"]
    ko = {}
    if fam == "autocall":
        level = np.asarray(prog["ko_level"], float)
        cash = np.asarray(prog["ko_cash"], float)
        has_ko = np.isfinite(level)
        flags |= np.where(has_ko, KO, 0)
        flags |= np.where(np.asarray(prog.get("ki_obs", np.zeros(n, bool)), bool), KI, 0)
        flags |= np.where(np.asarray(prog.get("cpn_obs", np.zeros(n, bool)), bool), CPN, 0)
        pos = np.flatnonzero(has_ko)
        ko = {"p": pos.tolist(), "l": level[pos].tolist(), "c": cash[pos].tolist()}
    elif fam == "barrier":
        flags |= np.where(np.asarray(prog["bar_obs"], bool), BAR, 0)
    elif fam == "asian":
        flags |= np.where(np.asarray(prog["fix_obs"], bool), FIX, 0)
    flags[-1] |= OBS          # the settlement reads the maturity close
    s = {}
    for k in _SCALARS:
        v = prog.get(k)
        if v is None:
            continue
        if isinstance(v, (bool, np.bool_)):
            s[k] = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v)):
            s[k] = float(v)
    plan.update(family=fam, f=flags.tolist(), ko=ko, s=s)
    return plan
