"""The closed-form trades of a book priced together: value and Greeks as array calls per family.

``price_book(engine="auto")`` sends a contract whose template has an exact closed form for its
terms to that formula. One by one (``pricing.price``), each costs two contexts, seven bumped
markets read and eight formula calls on scalars (~3 ms on a CPU; ~1 s for the 323 closed-form
trades of the demo book's refresh). Here the eight scenarios of the desk's Greeks (``price.py``:
spot ± h, vol ± 1pt, rate ± 25bp, tomorrow's value) are read for all contracts at once
(``closed_inputs.py``) and each family's formula runs once on arrays (``engines/analytic``).

A family's batched formula is this module's transcription of its template's ``analytic`` cell;
it is used only for contracts pinned to the version of the template shipped in ``payoffs/``
(the one ``tests/book/test_closed_form.py`` checks against the one-by-one path, value and every
Greek to rounding); any other version, a contract whose remaining dates all pass tomorrow (its
theta is the payoff at the spot), or a non-finite result goes the one-by-one way.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.errors import OtcError
from ..engines.analytic import barrier_price, bs_price, cash_or_nothing
from ..engines.analytic.black_scholes import black_formula
from ..pricing.price import GREEKS, RATE_BUMP, VOL_BUMP, desk_greeks
from ..templates.loader import BUILTIN_DIR, get_template
from .closed_inputs import Bump, ScenarioGrid

SCENARIOS = ("base", "spot_up", "spot_down", "vol_up", "vol_down", "rate_up", "rate_down", "theta")


def _terms(ctxs, *names):
    return {k: np.array([getattr(c.terms, k) for c in ctxs]) for k in names}


def _vanilla(ctxs, idx, inp):
    t = _terms(ctxs, "option_type", "strike")
    return bs_price(t["option_type"], strike=t["strike"], **inp.bs)


def _digital(ctxs, idx, inp):
    t = _terms(ctxs, "option_type", "strike", "payout")
    return cash_or_nothing(t["option_type"], strike=t["strike"], payout=t["payout"], **inp.bs)


def _sharkfin(ctxs, idx, inp):
    t = _terms(ctxs, "option_type", "strike", "barrier", "participation", "rebate", "form")
    bs, ot = inp.bs, t["option_type"]
    spread = bs_price(ot, strike=t["strike"], **bs) - bs_price(ot, strike=t["barrier"], **bs)
    dig = cash_or_nothing(ot, strike=t["barrier"], **bs)
    principal = np.where(t["form"] == "note", 1.0, 0.0)
    df = np.exp(-bs["rate"] * bs["T_disc"])
    return (principal * df + t["participation"] * (spread - np.abs(t["barrier"] - t["strike"]) * dig)
            + t["rebate"] * dig)


def _barrier(ctxs, idx, inp):
    t = _terms(ctxs, "option_type", "barrier_type", "strike", "barrier", "rebate")
    hit = np.array([bool(c.state["barrier_hit"]) for c in ctxs])
    vanilla = bs_price(t["option_type"], strike=t["strike"], **inp.bs)
    if hit.all():
        return vanilla
    knock = barrier_price(t["option_type"], t["barrier_type"], strike=t["strike"], barrier=t["barrier"],
                          rebate=t["rebate"], **inp.bs)
    return np.where(hit, vanilla, knock)


def _asian(ctxs, idx, inp):
    """Geometric average (discrete Kemna–Vorst): the template's moments per contract."""
    n_c = len(ctxs)
    fwd, sd = np.empty(n_c), np.empty(n_c)
    log_s = np.log(inp.bs["spot"])
    for j, (c, i) in enumerate(zip(ctxs, idx)):
        dtau, vols, carry = inp.steps(i)
        mean = (log_s[j] + np.cumsum((carry - 0.5 * vols**2) * dtau))[c.index["fix"]]
        var = np.cumsum(vols**2 * dtau)[c.index["fix"]]
        n = c.state["n_past"] + len(mean)
        m = (c.state["past_log_sum"] + mean.sum()) / n
        v = np.minimum.outer(var, var).sum() / n**2
        fwd[j], sd[j] = math.exp(m + 0.5 * v), math.sqrt(v)
    phi = np.array([1.0 if c.terms.option_type == "call" else -1.0 for c in ctxs])
    strike = np.array([c.terms.strike for c in ctxs], float)
    return black_formula(np, phi, fwd, strike, sd, inp.df[idx])


def _asian_ok(ctx) -> bool:
    return ctx.terms.averaging == "geometric"


# template name -> (batched formula over the family's contracts, which of its contracts it covers)
FAMILIES = {
    "vanilla": (_vanilla, lambda c: c.terms.exercise == "european"),
    "digital": (_digital, lambda c: True),
    "sharkfin": (_sharkfin, lambda c: c.terms.monitoring == "expiry" and not c.state["knocked_out"]),
    "barrier": (_barrier, lambda c: bool(c.state["barrier_hit"]) or c.terms.monitoring == "continuous"),
    "asian": (_asian, _asian_ok),
}

def shipped_version(name: str) -> str | None:
    """The version of the template ``name`` in ``payoffs/`` now (the one FAMILIES transcribe;
    the loader re-reads a notebook whose file changed), None where there is none."""
    path = BUILTIN_DIR / f"{name}.ipynb"
    try:
        return get_template(str(path)).version if path.exists() else None
    except OtcError:
        return None


def batchable(ctx, shipped: dict | None = None) -> bool:
    """Whether this contract (its closed form already chosen by ``best_engine``) is priced here.
    ``shipped``: template name → ``shipped_version``, read once for a book."""
    tpl = ctx.template
    fam = FAMILIES.get(tpl.name)
    version = shipped[tpl.name] if shipped is not None and tpl.name in shipped else shipped_version(tpl.name)
    if fam is None or tpl.version != version or not fam[1](ctx):
        return False
    return ctx.cal.add_trading_days(ctx.valuation_date, 1) < ctx.maturity


def scenario_values(ctxs, greeks: bool = True) -> dict:
    """{scenario: values (n,) as fractions of notional} of the contexts (every one ``batchable``):
    the base value and, with ``greeks``, the seven scenarios of the desk's Greeks."""
    grid = ScenarioGrid(ctxs)
    h = np.fromiter((c.delta_bump() for c in ctxs), float, len(ctxs))
    bumps = [Bump("base")]
    if greeks:
        bumps += [Bump("spot_up", spot_rel=h), Bump("spot_down", spot_rel=-h), Bump("vol_up", vol_abs=VOL_BUMP),
                  Bump("vol_down", vol_abs=-VOL_BUMP), Bump("rate_up", rate_abs=RATE_BUMP),
                  Bump("rate_down", rate_abs=-RATE_BUMP), Bump("theta", theta=True)]
    fams: dict = {}
    for i, c in enumerate(ctxs):
        fams.setdefault(c.template.name, []).append(i)
    out = {}
    for b in bumps:
        inp = grid.inputs(b)
        vals = np.empty(len(ctxs))
        for name, rows in fams.items():
            sub = _Sub(inp, rows)
            with np.errstate(all="ignore"):
                vals[rows] = np.asarray(FAMILIES[name][0]([ctxs[i] for i in rows], rows, sub), float)
        out[b.name] = vals
    return out


class _Sub:
    """A scenario's inputs restricted to some contracts: ``bs`` sliced to them, ``steps(i)`` and
    ``df[i]`` by a contract's index in the whole set."""

    def __init__(self, inp, rows):
        self.bs = {k: v[rows] for k, v in inp.bs.items()}
        self.df = inp.df
        self._inp = inp

    def steps(self, i):
        return self._inp.steps(i)


def price_closed_forms(items, greeks: bool = True) -> dict:
    """{index: row} for (index, ctx) pairs whose closed form is batched here (``batchable``), the
    rows as ``price_book`` writes them for the one-by-one analytic path (value in currency, the
    desk's Greeks, no standard errors); a contract whose value or a Greek is not finite is left
    out (the one-by-one path then reports it)."""
    shipped = {name: shipped_version(name) for name in {c.template.name for _, c in items} & set(FAMILIES)}
    items = [(i, c) for i, c in items if batchable(c, shipped)]
    if not items:
        return {}
    ctxs = [c for _, c in items]
    vals = scenario_values(ctxs, greeks)
    N = np.fromiter((c.notional for c in ctxs), float, len(ctxs))
    spot = np.fromiter((c.spot for c in ctxs), float, len(ctxs))
    h = np.fromiter((c.delta_bump() for c in ctxs), float, len(ctxs))
    value = N * vals["base"]
    g = desk_greeks(vals, N, spot, h) if greeks else {}
    ok = np.isfinite(value)
    for k in g:
        ok &= np.isfinite(g[k])
    out = {}
    for j, (i, c) in enumerate(items):
        if not ok[j]:
            continue
        row = {"value": float(value[j]), "stderr": None, "engine": "analytic", "vol": c.vol, "rate": c.r}
        if greeks:
            row.update({k: float(g[k][j]) for k in GREEKS})
            row.update({f"{k}_se": None for k in GREEKS})
            row["flagged"] = ""
        out[i] = row
    return out
