"""The refresh's grid view (``workflows/risk/views.grid_view``): the book's and each
underlying's P&L matrix equal the pivot of the long table, sells negated, a missing value
adding nothing, a trade the rows do not know in no matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from otclab.workflows.risk.views import grid_view


def _pivot(df, spots, vols):
    m = df.pivot_table(index="spot_shift", columns="vol_shift", values="pnl", aggfunc="sum")
    return m.reindex(index=spots, columns=vols).fillna(0.0).to_numpy()


def test_matrices_are_the_pivots_of_the_holders_pnl():
    rng = np.random.default_rng(3)
    spots, vols = [-0.1, 0.0, 0.1, 0.2], [-0.02, 0.0, 0.03]
    ids = [f"T{i}" for i in range(7)]
    rows = pd.DataFrame({"trade_id": ids[:6], "underlying": ["A", "B", "A", "C", "B", "A"],
                         "direction": ["buy", "sell", "sell", "buy", "buy", "buy"], "spot": [10.0, 20, 10, 5, 20, 10]})
    recs = [{"id": t, "spot_shift": s, "vol_shift": v, "pnl": float(rng.standard_normal())}
            for t in ids for s in spots for v in vols]
    long = pd.DataFrame(recs).sample(frac=1.0, random_state=1).reset_index(drop=True)   # any order
    long.loc[5, "pnl"] = np.nan
    g = grid_view(long, rows)
    assert g["spot_shifts"] == spots and g["vol_shifts"] == vols
    sign = rows.set_index("trade_id")["direction"].map({"buy": 1.0, "sell": -1.0})
    ref = long.copy()
    ref["underlying"] = ref["id"].map(rows.set_index("trade_id")["underlying"])
    ref["pnl"] = ref["pnl"] * ref["id"].map(sign)
    np.testing.assert_allclose(g["book"], _pivot(ref, spots, vols), rtol=1e-12, atol=1e-12)
    assert sorted(g["by_underlying"]) == ["A", "B", "C"]
    for u, m in g["by_underlying"].items():
        np.testing.assert_allclose(m, _pivot(ref[ref.underlying == u], spots, vols), rtol=1e-12, atol=1e-12)
    # T6 is not in the rows: no sign, so in no matrix; the ladders read the unshifted vol's column
    assert g["ladders"]["A"]["spot"] == pytest.approx([10 * (1 + s) for s in spots])
    pnl = np.array(g["book"])[:, 1]
    assert g["ladders"]["book"]["cash_delta"] == pytest.approx((np.gradient(pnl, spots) * (1 + np.array(spots))).tolist())


def test_an_empty_grid_gives_no_view():
    assert grid_view(None, pd.DataFrame()) == {}
    assert grid_view(pd.DataFrame(columns=["id", "spot_shift", "vol_shift", "pnl"]), pd.DataFrame()) == {}
