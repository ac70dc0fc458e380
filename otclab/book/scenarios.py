"""Scenario grids: the book revalued over spot shifts × vol shifts.

``method="auto"`` (default) solves every contract whose program the batched PDE supports (all
built-in families, American exercise included) on its own grid once per vol shift — the spot
axis comes free by reading values off the grid — and prices the rest by fused Monte Carlo,
every grid point a task of one pass (same random numbers for all points, so the surface is
smooth). ``"mc"`` forces fused Monte Carlo where a contract has a fused program. Contracts
without any program are revalued one by one by their template's engine.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..core.backend import default_device, get_xp
from ..core.errors import EngineError, InputError
from ..core.limits import MAX_SPOT_RANGE, MAX_SPOT_STEPS, MAX_VOL_RANGE, MAX_VOL_STEPS, check_paths
from ..engines.fused.pde import price_batched, supported
from ..engines.fused.program import Scenario
from ..templates.context import PricingContext
from .pricing import _as_market, check_book, compile_book, price_book


METHODS = ("auto", "mc")


def _pde_only(generic, snap):
    """Programs of generic contracts whose template gives one for the batched PDE only
    (``"mc": False``, e.g. American exercise)."""
    out = []
    for i, req in generic:
        fn = req.template.get("fused")
        if callable(fn):
            ctx = PricingContext(req.template, req.terms, snap, req.state, req.fixings)
            prog = fn(ctx)
            if prog is not None:
                out.append((i, ctx, prog))
    return out


def grid_scenarios(spot_shifts, vol_shifts) -> list[Scenario]:
    return [Scenario(f"s{ds:+.4f}_v{dv:+.4f}", spot_rel=float(ds), vol_abs=float(dv))
            for ds in spot_shifts for dv in vol_shifts]


def _col(ds, dv):
    return f"value[s{ds:+.4f}_v{dv:+.4f}]"


def scenario_grid(contracts, market, spot_shifts=np.linspace(-0.3, 0.3, 41), vol_shifts=np.linspace(-0.05, 0.05, 9),
                  paths: int = 20_000, seed: int = 20240101, device: str | None = None, method: str = "auto",
                  n_x: int = 601, positions=None, cache: dict | None = None):
    """(per-contract long table, book P&L matrix spot × vol) relative to the unshifted value.
    ``cache``: see ``compile_book`` (a refresh service keeps one between runs)."""
    if method not in METHODS:
        raise EngineError(f"must be one of {', '.join(METHODS)}; got {method!r}", "method")
    t0 = time.perf_counter()
    spot_shifts, vol_shifts = np.asarray(spot_shifts, float), np.asarray(vol_shifts, float)
    paths = check_paths(paths)
    for name, arr, cap, n in (("spot_shifts", spot_shifts, MAX_SPOT_RANGE, MAX_SPOT_STEPS),
                              ("vol_shifts", vol_shifts, MAX_VOL_RANGE, MAX_VOL_STEPS)):
        if arr.ndim != 1 or not 1 <= arr.size <= n or not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > cap):
            raise InputError(f"must be 1 to {n} finite shifts within ±{cap:g}", name)
    check_book(contracts, positions=positions)
    snap = _as_market(market)
    check_book(contracts, snap, positions)
    low = min((min(min(r) for r in snap.vol(c["terms"]["underlying"]).vols) for c in contracts), default=1.0)
    if low + vol_shifts.min() <= 0:
        raise InputError(f"a vol shift of {vol_shifts.min():+.2%} takes the lowest vol of the book ({low:.2%}) to zero "
                         "or below", "vol_shifts")
    fused, generic = compile_book(contracts, snap, cache, positions=positions)
    by_pde = [(i, ctx, prog) for i, ctx, prog in fused + _pde_only(generic, snap)
              if method == "auto" and supported(prog)]
    pde_ids = {i for i, _, _ in by_pde}
    n, ns, nv = len(contracts), len(spot_shifts), len(vol_shifts)
    # every contract's values as one (spot shift, vol shift) matrix; the long table built by columns
    grid = np.full((n, ns, nv), np.nan)
    base = np.full(n, np.nan)
    methods = np.empty(n, dtype=object)
    pde_batches: list = []
    t_mc = 0.0
    if by_pde:
        dev = device or default_device()
        xp = get_xp("gpu") if dev in ("gpu", "cuda", "cupy") else np
        vs = np.unique(np.concatenate([vol_shifts, [0.0]]))
        vals = price_batched([(ctx, prog) for _, ctx, prog in by_pde], vs, np.concatenate([[0.0], spot_shifts]), xp,
                             n_x=n_x, timings=pde_batches)
        for (j, dv), row in vals.items():
            i, ctx, _ = by_pde[j]
            if dv == 0.0:
                base[i] = ctx.notional * row[0]
            grid[i][:, vol_shifts == dv] = ctx.notional * np.asarray(row[1:], float)[:, None]
            methods[i] = "pde"
    rest_ids = [i for i in range(n) if i not in pde_ids]
    if rest_ids:
        scen = [Scenario("base")] + grid_scenarios(spot_shifts, vol_shifts)
        t1 = time.perf_counter()
        df = price_book([contracts[i] for i in rest_ids], snap, paths=paths, seed=seed, greeks=False, device=device,
                        scenarios=scen)
        t_mc = time.perf_counter() - t1
        cols = [_col(ds, dv) for ds in spot_shifts for dv in vol_shifts]
        got = df.reindex(columns=cols).to_numpy(dtype=float, na_value=np.nan).reshape(len(rest_ids), ns, nv)
        grid[rest_ids] = got
        base[rest_ids] = df["value"].to_numpy(dtype=float)
        methods[rest_ids] = ["mc" if str(e).startswith("fused") else e for e in df["engine"]]
    k = ns * nv
    long = pd.DataFrame({"id": np.repeat(np.array([c.get("id", i) for i, c in enumerate(contracts)], dtype=object), k),
                         "template": np.repeat(np.array([c["template"] for c in contracts], dtype=object), k),
                         "method": np.repeat(methods, k),
                         "spot_shift": np.tile(np.repeat(spot_shifts, nv), n), "vol_shift": np.tile(vol_shifts, n * ns),
                         "value": grid.ravel(), "pnl": (grid - base[:, None, None]).ravel()})
    matrix = grid_matrix(long)
    long.attrs["timing"] = {"total_s": time.perf_counter() - t0, "pde": len(by_pde), "mc_or_generic": len(rest_ids),
                            "pde_batches": pde_batches, "mc_s": t_mc}
    return long, matrix


def grid_matrix(long: pd.DataFrame) -> pd.DataFrame:
    """The book's P&L matrix (spot shift × vol shift) from a long table."""
    return long.pivot_table(index="spot_shift", columns="vol_shift", values="pnl", aggfunc="sum")
