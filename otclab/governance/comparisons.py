"""Risk control's independent template against the desk's, on agreed cases, with the same random numbers.

Both templates price each case by Monte Carlo on one set of paths (``mc_scenarios``: the same
normals drive both payoffs, on the same calendar, day counts and date grid), so the error of the
comparison is that of the per-path (with antithetic pairs, per-pair) difference desk − risk, not
the two values' errors combined: an exact copy differs by exactly 0, a real discrepancy shows at
a few basis points of notional. Per case: the desk's and risk's values (currency), the mean
difference and its standard error (currency), ``limit`` = ``tol`` × notional + 3 standard errors,
and ``ok`` = |difference| ≤ limit. ``record`` keeps the comparison in the store for the approval.
"""
from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy import insert

from ..core.backend import get_xp
from ..core.errors import InputError
from ..engines.mc import mc_scenarios
from ..pricing.request import parse_request
from ..store.db import now
from ..store.tables_governance import template_comparisons as TC
from ..templates.context import PricingContext
from ..templates.loader import get_template


def _context(case: dict, template) -> PricingContext:
    req = parse_request({**{k: case[k] for k in ("terms", "market", "state", "fixings") if k in case},
                         "template": template})
    return PricingContext(req.template, req.terms, req.market, req.state, req.fixings, xp=get_xp(None))


def compare_paired(desk: str, risk: str, cases: list[dict], paths: int = 100_000, seed: int = 7,
                   tol: float = 1e-3) -> dict:
    """Price ``desk`` and ``risk`` (template names, or notebook paths in a trusted folder) on
    ``cases`` on common random numbers; returns {desk_template, desk_version, risk_template,
    risk_version, rows, ok} (rows as in the module docstring)."""
    a, b = get_template(desk), get_template(risk)
    rows = []
    for i, case in enumerate(cases):
        ca, cb = _context(case, a), _context(case, b)
        if len(ca.dates) != len(cb.dates):
            raise InputError(f"the two templates build different date grids ({len(ca.dates)} and {len(cb.dates)} "
                             "dates): they are not the same structure on these terms", f"cases[{i}]")
        scen = {}
        for key, c in (("desk", ca), ("risk", cb)):
            drift, vsd = c.mc_drift_vol()
            scen[key] = ((lambda s, c=c: c.template.get("payoff")(s, c)), math.log(c.spot_rel), drift, vsd)
        try:
            res = mc_scenarios(scen, n_paths=int(paths), seed=seed, xp=ca.xp,
                               combine=lambda v: {"desk": v["desk"], "risk": v["risk"], "diff": v["desk"] - v["risk"]})
        except ValueError as e:
            raise InputError(f"the two templates cannot share paths on this case: {e}", f"cases[{i}]") from None
        n = ca.notional
        diff, se = n * res["diff"].mean, n * res["diff"].stderr
        limit = tol * n + 3 * se
        rows.append({"case": case.get("name", i), "desk": n * res["desk"].mean, "risk": n * res["risk"].mean,
                     "diff": diff, "diff_se": se, "diff_pct_notional": diff / n, "limit": limit,
                     "ok": abs(diff) <= limit})
    return {"desk_template": a.name if not str(desk).endswith(".ipynb") else Path(desk).stem,
            "desk_version": a.version, "risk_template": Path(risk).stem if str(risk).endswith(".ipynb") else b.name,
            "risk_version": b.version, "rows": rows, "ok": all(r["ok"] for r in rows)}


def record(conn, result: dict, cases: list[dict], paths: int, seed: int, tol: float, by: str) -> int:
    """Keep a ``compare_paired`` result in the store; its id (cited by an approval)."""
    return conn.execute(insert(TC).values(
        desk_template=result["desk_template"], desk_version=result["desk_version"],
        risk_template=result["risk_template"], risk_version=result["risk_version"], cases=cases, paths=int(paths),
        seed=int(seed), tol=float(tol), rows=result["rows"], ok=bool(result["ok"]), compared_by=by,
        compared_at=now())).inserted_primary_key[0]
