"""The batched PDE (many contracts × vol shifts in one backward sweep) against the generic PDE."""
import numpy as np
import pytest

from otclab.book.pricing import compile_book
from otclab.book.scenarios import scenario_grid
from otclab.engines.fused.pde import build_pde, read_values, solve_pde, supported
from otclab.market.snapshot import MarketSnapshot
from otclab.pricing import price

from builders import market, terms

BOOK = [
    {"template": "vanilla", "terms": terms(option_type="put", strike=0.95, tenor_months=3)},
    {"template": "digital", "terms": terms(option_type="call", strike=1.05, payout=0.1, tenor_months=3)},
    {"template": "sharkfin", "terms": terms(option_type="call", barrier=1.15, participation=0.9, rebate=0.02, tenor_months=3)},
    {"template": "barrier", "terms": terms(option_type="put", strike=1.0, barrier=0.85, barrier_type="down_in",
                                           rebate=0.01, monitoring="daily", tenor_months=3)},
    {"template": "barrier", "terms": terms(option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out",
                                           rebate=0.01, monitoring="daily", tenor_months=2)},
    {"template": "snowball", "terms": terms(tenor_months=4, ko_barrier=1.0, ki_barrier=0.8, coupon=0.15, lockup_months=1)},
    {"template": "phoenix", "terms": terms(tenor_months=4, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.8,
                                           coupon=0.12, memory=False, lockup_months=1)},
]


def test_batched_pde_matches_the_generic_pde_across_shifts():
    m = market()
    fused, _ = compile_book(BOOK, MarketSnapshot.from_dict(m))
    assert all(supported(p) for _, _, p in fused)
    b = build_pde([(c, p) for _, c, p in fused], vol_shifts=(0.0, 0.02), n_x=601)
    vals = read_values(b, solve_pde(b), [0.0, 0.1])
    for (i, dv), v in zip(b.rows, vals):
        c = BOOK[i]
        for j, ds in enumerate((0.0, 0.1)):
            mm = {**m, "vol": m["vol"] + dv, "spot": m["spot"] * (1 + ds)}
            ref = price({"template": c["template"], "terms": c["terms"], "market": mm}, engine="pde").value
            assert v[j] * 1e6 == pytest.approx(ref, abs=3e-4 * 1e6), (c["template"], dv, ds)


def test_memory_phoenix_goes_to_monte_carlo_in_the_grid():
    m = market()
    book = BOOK[:1] + [{"template": "phoenix", "terms": terms(tenor_months=3, ko_barrier=1.0, ki_barrier=0.7,
                                                               coupon_barrier=0.8, coupon=0.12, memory=True)}]
    long, mat = scenario_grid(book, m, spot_shifts=[-0.1, 0.0, 0.1], vol_shifts=[0.0, 0.02], paths=2000)
    assert dict(long.groupby("template")["method"].first()) == {"vanilla": "pde", "phoenix": "mc"}
    assert abs(mat.loc[0.0, 0.0]) < 1e-6 and mat.shape == (3, 2)


def test_grid_by_pde_agrees_with_grid_by_mc():
    m = market()
    book = [BOOK[0], BOOK[5]]
    _, by_pde = scenario_grid(book, m, spot_shifts=[-0.2, 0.0, 0.2], vol_shifts=[-0.03, 0.03])
    _, by_mc = scenario_grid(book, m, spot_shifts=[-0.2, 0.0, 0.2], vol_shifts=[-0.03, 0.03], paths=40_000,
                             method="mc")
    assert np.allclose(by_pde.to_numpy(), by_mc.to_numpy(), atol=0.006 * 2e6)
