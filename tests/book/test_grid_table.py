"""The scenario grid's long table (``book/scenarios.py``, built by columns): every row is the
value its engine gives for that contract and shift, contract-major, spot then vol."""
from __future__ import annotations

import numpy as np
import pytest

from otclab.book.pricing import compile_book, price_book
from otclab.book.scenarios import _col, grid_scenarios, scenario_grid
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.engines.fused.pde import price_batched
from otclab.engines.fused.program import Scenario
from otclab.market.snapshot import MarketSnapshot

SPOTS = np.array([-0.1, 0.0, 0.05])
VOLS = np.array([-0.02, 0.01])          # the unshifted vol not among them: the base is solved apart


def _book():
    book = synthetic_book(40, seed=9)
    return [c for c in book if c["template"] in ("snowball", "barrier")][:3] + [c for c in book if c["template"] == "asian"][:2]


def test_rows_are_the_engines_values_in_order():
    snap = MarketSnapshot.from_dict(synthetic_market())
    book = _book()
    long, mat = scenario_grid(book[:3], snap, SPOTS, VOLS, paths=400, device="cpu", n_x=121)
    long_all = long
    assert len(long) == 3 * len(SPOTS) * len(VOLS)
    assert list(long.columns) == ["id", "template", "method", "spot_shift", "vol_shift", "value", "pnl"]
    assert long["id"].tolist() == [c["id"] for c in book[:3] for _ in range(len(SPOTS) * len(VOLS))]
    assert long["spot_shift"].tolist() == [s for _ in book[:3] for s in SPOTS for _ in VOLS]
    assert long["vol_shift"].tolist() == [v for _ in book[:3] for _ in SPOTS for v in VOLS]
    # the PDE contracts: the batched PDE's values on the same grid
    fused, _ = compile_book(book, snap)
    pde = [(ctx, prog) for i, ctx, prog in fused if i < 3]
    vals = price_batched(pde, np.unique(np.concatenate([VOLS, [0.0]])), np.concatenate([[0.0], SPOTS]), np,
                         n_x=121)
    for j, c in enumerate(book[:3]):
        got = long[long["id"] == c["id"]]
        assert set(got["method"]) == {"pde"}
        N = c["terms"]["notional"]
        base = N * vals[(j, 0.0)][0]
        for k, dv in enumerate(VOLS):
            want = N * np.asarray(vals[(j, dv)][1:])
            np.testing.assert_allclose(got["value"].to_numpy()[k::len(VOLS)], want, rtol=1e-14)
            np.testing.assert_allclose(got["pnl"].to_numpy()[k::len(VOLS)], want - base, rtol=1e-12, atol=1e-9)
    # by Monte Carlo (method "mc"): the fused pass over the grid's scenarios
    long, _ = scenario_grid(book[3:], snap, SPOTS, VOLS, paths=400, device="cpu", method="mc")
    df = price_book(book[3:], snap, paths=400, greeks=False, device="cpu",
                    scenarios=[Scenario("base")] + grid_scenarios(SPOTS, VOLS))
    for (_, r), c in zip(df.iterrows(), book[3:]):
        got = long[long["id"] == c["id"]]
        assert set(got["method"]) == {"mc"}
        want = np.array([r[_col(ds, dv)] for ds in SPOTS for dv in VOLS])
        np.testing.assert_allclose(got["value"].to_numpy(), want, rtol=1e-14)
        np.testing.assert_allclose(got["pnl"].to_numpy(), want - r["value"], rtol=1e-12, atol=1e-9)
    # the book's matrix sums the contracts' P&L
    assert mat.shape == (len(SPOTS), len(VOLS))
    assert mat.loc[0.05, 0.01] == pytest.approx(long_all[(long_all.spot_shift == 0.05) & (long_all.vol_shift == 0.01)].pnl.sum())
