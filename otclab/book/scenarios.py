"""Scenario grids: the book revalued over spot shifts × vol shifts.

Every grid point is a row of the fused Monte Carlo pass, so all points read the same random
numbers and the surface is smooth in both directions. Contracts without a fused program are
revalued one by one by their template's engine (PDE where it has one).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines.fused.program import Scenario
from .pricing import price_book


def grid_scenarios(spot_shifts, vol_shifts) -> list[Scenario]:
    return [Scenario(f"s{ds:+.4f}_v{dv:+.4f}", spot_rel=float(ds), vol_abs=float(dv))
            for ds in spot_shifts for dv in vol_shifts]


def scenario_grid(contracts, market, spot_shifts=np.linspace(-0.3, 0.3, 41), vol_shifts=np.linspace(-0.05, 0.05, 9),
                  paths: int = 20_000, seed: int = 20240101, device: str | None = None):
    """(per-contract long table, book P&L matrix spot × vol) relative to the unshifted value."""
    spot_shifts, vol_shifts = np.asarray(spot_shifts, float), np.asarray(vol_shifts, float)
    scen = [Scenario("base")] + grid_scenarios(spot_shifts, vol_shifts)
    df = price_book(contracts, market, paths=paths, seed=seed, greeks=False, device=device, scenarios=scen)
    rows = []
    for _, r in df.iterrows():
        for ds in spot_shifts:
            for dv in vol_shifts:
                col = f"value[s{ds:+.4f}_v{dv:+.4f}]"
                rows.append({"id": r["id"], "template": r["template"], "spot_shift": ds, "vol_shift": dv,
                             "value": r.get(col, np.nan), "pnl": r.get(col, np.nan) - r["value"]})
    long = pd.DataFrame(rows)
    matrix = long.pivot_table(index="spot_shift", columns="vol_shift", values="pnl", aggfunc="sum")
    long.attrs["timing"] = df.attrs.get("timing", {})
    return long, matrix
