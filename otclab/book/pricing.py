"""Price a whole book in one call: mixed templates, underlyings, tenors and seasoned states.

Contracts whose template declares a fused program run together in one fused Monte Carlo pass
(GPU kernel or its NumPy reference), their Greeks as extra rows of the same pass: every bump
reads the same random numbers (common random numbers), and contracts on one underlying share
paths. The others fall back to the generic engine one by one. Greeks as in design.md.
"""
from __future__ import annotations

import json
import time

import pandas as pd

from ..core.backend import default_device, get_xp
from ..core.calendar import dates_of
from ..core.errors import EngineError, InputError, MarketError, OtcError
from ..core.limits import check_paths, max_contracts
from ..engines.fused.program import Scenario, build_batch
from ..market.snapshot import MarketSnapshot
from ..pricing import price
from ..pricing.price import GREEKS, RATE_BUMP, VOL_BUMP, best_engine, desk_greeks, flag_greeks
from ..pricing.request import parse_request
from ..templates.loader import get_template
from ..templates.context import PricingContext, with_market_all
from .closed_form import price_closed_forms

GREEK_SCENARIOS = (
    Scenario("base"),
    Scenario("spot_up", spot_bump=1), Scenario("spot_down", spot_bump=-1),
    Scenario("vol_up", vol_abs=VOL_BUMP), Scenario("vol_down", vol_abs=-VOL_BUMP),
    Scenario("rate_up", rate_abs=RATE_BUMP), Scenario("rate_down", rate_abs=-RATE_BUMP),
    Scenario("theta", theta=True),
)


def _as_market(market) -> MarketSnapshot:
    return market if isinstance(market, MarketSnapshot) else MarketSnapshot.from_dict(market)


def _template_key(t) -> str:
    return t if isinstance(t, str) else t.id


def template_name(t) -> str | None:
    """The template's name for the result table (None for a contract recorded as failed because it
    names no template)."""
    return t if isinstance(t, str) or t is None else getattr(t, "name", str(t))


def _cache_key(c: dict, snap: MarketSnapshot) -> str:
    return json.dumps([_template_key(c["template"]), c["terms"], c.get("state"), c.get("fixings"),
                       str(snap.valuation_date), snap.time_basis, snap.trading_days_per_year],
                      sort_keys=True, default=str)


CONTRACT_KEYS = ("id", "template", "terms", "state", "fixings")


def check_book(contracts, market: MarketSnapshot | None = None, positions=None) -> None:
    """The book as a whole: a non-empty list of contracts {template, terms, state?, fixings?, id?}
    within ``limits.max_contracts()``, unique ids, and (with ``market``) a spot and a vol for every
    underlying (the error names the contracts that need a missing one). ``positions``: the
    contracts' places in a larger book (a chunk on a worker), for the messages."""
    if not isinstance(contracts, (list, tuple)) or not contracts:
        raise InputError("a book is a non-empty JSON list of {template, terms, state?, fixings?, id?}", "book")
    cap = max_contracts()
    if len(contracts) > cap:
        raise InputError(f"has {len(contracts):,} contracts; at most {cap:,} (OTCLAB_MAX_CONTRACTS)", "book")
    seen: dict = {}
    need: dict = {}
    for k, c in enumerate(contracts):
        i = positions[k] if positions is not None else k
        if not isinstance(c, dict) or "template" not in c or "terms" not in c:
            raise InputError("each contract needs 'template' and 'terms'", f"book[{i}]")
        unknown = sorted(set(c) - set(CONTRACT_KEYS))
        if unknown:
            raise InputError(f"unknown key(s) {unknown}; allowed: {', '.join(CONTRACT_KEYS)}", f"book[{i}]")
        if "id" in c:
            cid = c["id"]
            if isinstance(cid, bool) or not isinstance(cid, (str, int)) or (isinstance(cid, str) and not cid.strip()):
                raise InputError(f"must be text or a whole number; got {cid!r}", f"book[{i}].id")
            if cid in seen:
                raise InputError(f"duplicate contract id {cid!r} (also book[{seen[cid]}])", f"book[{i}].id")
            seen[cid] = i
        u = c["terms"].get("underlying") if isinstance(c["terms"], dict) else None
        if isinstance(u, str):
            need.setdefault(u, []).append(c.get("id", f"book[{i}]"))
    if market is None:
        return
    for table, name in ((market.spots, "spot"), (market.vols, "vol")):
        if "*" in table:
            continue
        missing = sorted(u for u in need if u not in table)
        if missing:
            u = missing[0]
            ids = [str(x) for x in need[u]]
            shown = ", ".join(ids[:5]) + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else "")
            more = f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else ""
            raise MarketError(f"no {name} for {u} (have: {', '.join(sorted(table))}), needed by {shown}{more}",
                              f"market.{name}s.{u}")


def _named(e: OtcError, i: int, c: dict) -> OtcError:
    """``e`` re-raised naming the contract it is about (index and id)."""
    cid = c.get("id") if isinstance(c, dict) else None
    where = f"book[{i}]" + (f" ({cid})" if cid is not None else "")
    return type(e)(e.message, f"{where}.{e.field}" if e.field else where)


def compile_book(contracts, market, cache: dict | None = None, engine: str = "fused", errors: dict | None = None,
                 positions=None, closed: dict | None = None):
    """(fused items, generic requests) where items are (index, ctx, program) for the fused Monte
    Carlo pass; contracts without a program (or with one for the batched PDE only) are generic.

    ``engine="auto"`` sends contracts whose template has an exact closed form for their terms to
    the generic path (priced analytically there) instead of the fused pass. ``errors``: a dict
    that receives index → message for contracts that cannot be priced (user errors such as a
    fixing missing); without it such a contract raises. A contract's ``template`` is a name or
    a loaded ``Template`` (a booked trade's pinned version).

    ``cache`` (a dict kept by the caller between refreshes) holds each contract's compiled
    form for its valuation date: a refresh on new market data of the same day only re-reads
    spot, curves and vols (``PricingContext.with_market``). Fused programs depend on terms,
    dates and state only, so they are reused as they are. Clear the cache when templates change.

    ``closed`` (with ``engine="auto"``): a dict that receives index → context (on ``market``) of
    every generic contract whose engine is its exact closed form (``closed_form.py`` prices
    those together); the context is kept in the cache with the contract.
    """
    snap = _as_market(market)
    fused, generic, moved, reread = [], [], [], []
    named: dict = {}
    for i, c in enumerate(contracts):
        key = engine + _cache_key(c, snap) if cache is not None else None
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            kind, obj, prog = hit
            if kind == "fused":
                fused.append((i, obj, prog))      # its market is read below, for all at once
                moved.append(len(fused) - 1)
            else:
                generic.append((i, obj.with_market(snap)))
                if prog is not None and closed is not None:
                    reread.append((i, prog))       # the closed form's context, re-read below
            continue
        try:
            tpl = c["template"]
            if isinstance(tpl, str):
                # one lookup per template name and book (each checks the template folders on disk)
                tpl = named.get(tpl) or named.setdefault(tpl, get_template(tpl))
            req = parse_request({"template": tpl, "terms": c["terms"], "market": snap,
                                 **{k: c[k] for k in ("state", "fixings") if k in c}})
            fn = req.template.get("fused")
            with dates_of(c.get("id", f"book[{i}]")):     # a calendar warning names the contract
                ctx = PricingContext(req.template, req.terms, snap, req.state, req.fixings)
            prog = fn(ctx) if callable(fn) else None
            if prog is not None and prog.get("mc") is False:   # a program for the batched PDE only
                prog = None
            analytic = engine == "auto" and req.template.has_analytic and best_engine(ctx) == "analytic"
            if analytic:
                prog = None
        except OtcError as e:
            e = _named(e, positions[i] if positions is not None else i, c)
            if errors is None:
                raise e from None
            errors[i] = str(e)
            continue
        if prog is None:
            generic.append((i, req))
            if analytic and closed is not None:
                closed[i] = ctx
        else:
            fused.append((i, ctx, prog))
        if cache is not None:
            # a generic entry keeps the closed form's context (None for the PDE or Monte Carlo)
            cache[key] = ("generic", req, ctx if analytic else None) if prog is None else ("fused", ctx, prog)
    if moved:
        ctxs = with_market_all([fused[j][1] for j in moved], snap)
        for j, ctx in zip(moved, ctxs):
            fused[j] = (fused[j][0], ctx, fused[j][2])
    if reread:
        for (i, _), ctx in zip(reread, with_market_all([c for _, c in reread], snap)):
            closed[i] = ctx
    return fused, generic


def run_batch(batch, paths: int, seed: int, device: str | None, progress=None, groups: bool = False):
    """The fused pass on the GPU (``device="gpu"``) or its NumPy reference: (mean, stderr) per
    task, with ``groups`` also the group means and pairs per group (Greek standard errors)."""
    dev = device or default_device()
    if dev in ("gpu", "cuda", "cupy"):
        get_xp("gpu")  # clear error when no GPU
        from ..engines.fused.cuda import run_cuda

        return run_cuda(batch, paths, seed, groups=groups)
    from ..engines.fused.reference import run_numpy

    return run_numpy(batch, paths, seed, progress=progress, groups=groups)


def group_greeks(gvals: dict, count, notional: float, spot: float, h: float) -> tuple[dict, dict]:
    """Greeks and their standard errors from group means of every scenario (batch means: each
    group prices every scenario on the same pairs, so a Greek's spread over groups is its own)."""
    import numpy as np

    g = desk_greeks(gvals, notional, spot, h)
    w = np.asarray(count) / np.sum(count)
    G = len(w)
    out, se = {}, {}
    for k, arr in g.items():
        m = float(np.sum(w * arr))
        out[k] = m
        se[k] = float(np.sqrt(np.sum(w**2 * (arr - m) ** 2) * G / max(G - 1, 1))) if G > 1 else None
    return out, se


def group_greeks_many(gvals: dict, count, notional, spot, h) -> tuple[dict, dict]:
    """``group_greeks`` for n contracts at once: ``gvals`` scenario → (n, groups) group means,
    ``notional``, ``spot``, ``h`` arrays (n,); returns Greek → (n,) and its standard errors
    (None with one group)."""
    import numpy as np

    g = desk_greeks(gvals, notional[:, None], spot[:, None], h[:, None])
    w = np.asarray(count) / np.sum(count)
    G = len(w)
    out, se = {}, {}
    for k, arr in g.items():
        m = np.sum(w * arr, axis=1)
        out[k] = m
        se[k] = np.sqrt(np.sum(w**2 * (arr - m[:, None]) ** 2, axis=1) * G / max(G - 1, 1)) if G > 1 else None
    return out, se


ENGINE_CHOICES = ("fused", "auto")


def price_book(contracts, market, paths: int = 100_000, seed: int = 20240101, greeks: bool = True,
               device: str | None = None, scenarios=None, progress=None, cache: dict | None = None,
               engine: str = "fused", errors: str = "raise", task_progress=None, positions=None) -> pd.DataFrame:
    """Value (and Greeks) of every contract; one row per contract, in the input order.

    ``contracts``: dicts ``{"template", "terms", "state"?, "fixings"?, "id"?}`` on one market.
    ``scenarios`` overrides the bump set (e.g. a scenario grid); values per scenario are then
    returned as columns ``value[<name>]``. ``cache``: see ``compile_book`` (refreshes).
    ``engine``: ``fused`` prices every contract with a program in the fused Monte Carlo pass;
    ``auto`` first takes the exact closed form where the template has one for the terms (the
    other contracts as with ``fused``; without a program: PDE, else Monte Carlo).
    ``errors="record"`` gives a contract that cannot be priced a row with its ``error`` instead
    of raising. Columns ``vol`` and ``rate`` are the contract's vol and zero rate to maturity.
    ``task_progress(done, total)`` is called as the CPU pass completes its tasks. ``positions``:
    the contracts' places in a larger book (a chunk on a worker), for error messages.
    """
    if engine not in ENGINE_CHOICES:
        raise EngineError(f"must be one of {', '.join(ENGINE_CHOICES)}; got {engine!r}", "engine")
    paths = check_paths(paths)
    check_book(contracts, positions=positions)
    t0 = time.perf_counter()
    snap = _as_market(market)
    check_book(contracts, snap, positions)
    failed: dict | None = {} if errors == "record" else None
    closed: dict | None = {} if engine == "auto" and not scenarios else None
    fused, generic = compile_book(contracts, snap, cache, engine=engine, errors=failed, positions=positions,
                                  closed=closed)
    t_compile = time.perf_counter() - t0
    scen = tuple(scenarios) if scenarios else (GREEK_SCENARIOS if greeks else GREEK_SCENARIOS[:1])
    out = [None] * len(contracts)
    t1 = time.perf_counter()
    if fused:
        batch = build_batch([(ctx, prog) for _, ctx, prog in fused], scen, cache)
        t_build = time.perf_counter() - t1
        with_greeks = greeks and not scenarios
        mean, se, gmean, count = run_batch(batch, paths, seed, device, progress=task_progress, groups=True)
        t_run = time.perf_counter() - t1 - t_build
        per: dict = {}
        for t, (j, name) in enumerate(batch.tasks):
            per.setdefault(j, {})[name] = t
        if with_greeks:
            # every contract's Greeks from its scenarios' group means as array operations
            import numpy as np

            gm = np.asarray(gmean)
            nf = len(fused)
            G_all, SE_all = group_greeks_many(
                {s.name: gm[[per[j][s.name] for j in range(nf)]] for s in scen}, count,
                np.fromiter((c.notional for _, c, _ in fused), float, nf), np.fromiter((c.spot for _, c, _ in fused), float, nf),
                np.fromiter((c.delta_bump() for _, c, _ in fused), float, nf))
        for j, (i, ctx, _) in enumerate(fused):
            tj = per[j]
            row = {"value": ctx.notional * mean[tj["base"]], "stderr": ctx.notional * se[tj["base"]],
                   "engine": "fused-" + ("gpu" if (device or default_device()) in ("gpu", "cuda", "cupy") else "cpu"),
                   "vol": ctx.vol, "rate": ctx.r}
            if scenarios:
                row.update({f"value[{k}]": ctx.notional * mean[t] for k, t in tj.items()})
            elif with_greeks:
                g = {k: float(v[j]) for k, v in G_all.items()}
                gse = {k: None if v is None else float(v[j]) for k, v in SE_all.items()}
                row.update(g)
                row.update({f"{k}_se": v for k, v in gse.items()})
                row["flagged"] = ",".join(flag_greeks(g, gse, ctx.notional))
            out[i] = row
    else:
        t_build = t_run = 0.0
    t2 = time.perf_counter()
    # the closed forms together (closed_form.py); what it leaves out goes one by one below
    batched = price_closed_forms(sorted(closed.items()), greeks) if closed else {}
    for i, row in batched.items():
        out[i] = row
    t_closed = time.perf_counter() - t2
    for i, req in generic:
        if i in batched:
            continue
        eng = "auto" if engine == "auto" else ("pde" if req.template.has_pde else "mc")
        dev = device
        try:
            if eng == "auto" and req.template.has_analytic:
                # a closed form on one contract is faster in NumPy than launched on a GPU
                ctx = PricingContext(req.template, req.terms, req.market, req.state, req.fixings)
                if best_engine(ctx) == "analytic":
                    eng, dev = "analytic", "cpu"
            r = price(req, engine=eng, paths=paths, seed=seed, greeks=greeks and not scenarios, device=dev)
        except OtcError as e:
            e = _named(e, positions[i] if positions is not None else i, contracts[i])
            if failed is None:
                raise e from None
            failed[i] = str(e)
            continue
        eng = r.engine
        out[i] = {"value": r.value, "stderr": r.stderr, "engine": r.engine, "vol": r.details.get("vol"),
                  "rate": r.details.get("rate"), **r.greeks}
        if r.greeks:
            out[i].update({f"{k}_se": r.greeks_se.get(k) for k in GREEKS})
            out[i]["flagged"] = ",".join(r.flagged)
        for sc in scenarios or ():
            if sc.theta:
                continue
            bumped = req.with_market(req.market.bumped(spot_rel=sc.spot_rel, vol_abs=sc.vol_abs, rate_abs=sc.rate_abs,
                                                       underlying=req.terms.underlying))
            out[i][f"value[{sc.name}]"] = price(bumped, engine=eng, paths=paths, seed=seed, device=dev).value
    for i, msg in (failed or {}).items():
        out[i] = {"value": float("nan"), "engine": "failed", "error": msg}
    df = pd.DataFrame(out)
    df.insert(0, "template", [template_name(c["template"]) for c in contracts])
    df.insert(0, "id", [c.get("id", i) for i, c in enumerate(contracts)])
    df.attrs["timing"] = {"compile_s": t_compile, "build_s": t_build, "run_s": t_run, "closed_s": t_closed,
                          "closed": len(batched),
                          "total_s": time.perf_counter() - t0, "fused": len(fused), "generic": len(generic),
                          "failed": len(failed or {}),
                          "rows": len(fused) * len(scen)}
    if progress:
        progress(df.attrs["timing"])
    return df
