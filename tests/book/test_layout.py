"""The batched layout of a book's rows equals the contract-by-contract reference, and a refresh
from the day's cache equals a compile from scratch on the new market."""
import warnings

import numpy as np
import pytest

from otclab.book.pricing import GREEK_SCENARIOS, compile_book
from otclab.book.scenarios import grid_scenarios
from otclab.book.synthetic import UNDERLYINGS, synthetic_book, synthetic_market
from otclab.engines.fused.layout import BatchLayout
from otclab.engines.fused.program import BASE, build_batch, build_batch_reference
from otclab.market.snapshot import MarketSnapshot

FIELDS = ("fam", "n_steps", "zoff", "key", "log_s0", "dtau", "vol", "carry", "tdisc", "flags", "lvl", "cash", "acc",
          "dfk", "scal", "scen", "task_row", "task_scen")


def smile_market(shift: float = 0.0) -> dict:
    """The synthetic market with a smile per underlying, its own dividend curve and moved spots."""
    m = synthetic_market()
    m["spots"] = {u: s * (1 + shift) for u, s in m["spots"].items()}
    m["div_yields"] = {u: {"tenors": ["6M", "2Y"], "rates": [0.01 + 0.002 * i, 0.02]} for i, u in enumerate(UNDERLYINGS)}
    m["vols"] = {u: {"tenors": ["1M", "1Y", "2Y"], "moneyness": [0.7, 1.0, 1.3],
                     "vols": [[0.30 + shift, 0.22, 0.20], [0.28, 0.21 + shift, 0.19], [0.27, 0.2, 0.185 + shift]]}
                 for u in UNDERLYINGS}
    return m


def assert_same(a, b):
    for k in FIELDS:
        x, y = getattr(a, k), getattr(b, k)
        assert x.shape == y.shape and x.dtype == y.dtype, k
        if x.dtype.kind == "f":
            np.testing.assert_allclose(y, x, rtol=2e-7, atol=1e-12, err_msg=k)
        else:
            np.testing.assert_array_equal(y, x, err_msg=k)
    assert a.tasks == b.tasks


@pytest.fixture(scope="module")
def book():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return synthetic_book(300, seed=11)


@pytest.mark.parametrize("market", [synthetic_market(), smile_market()], ids=["term-vols", "smiles"])
@pytest.mark.parametrize("scenarios", [(BASE,), GREEK_SCENARIOS,
                                       grid_scenarios(np.linspace(-0.2, 0.2, 3), np.linspace(-0.02, 0.02, 3))],
                         ids=["value", "greeks", "grid"])
def test_batched_rows_equal_the_reference(book, market, scenarios):
    fused, _ = compile_book(book, market)
    items = [(ctx, prog) for _, ctx, prog in fused]
    fams = {prog["family"] for _, prog in items}
    assert fams == {"european", "barrier", "autocall", "asian"}
    assert any(prog.get("cash_at_maturity") for _, prog in items)
    assert_same(build_batch_reference(items, scenarios), build_batch(items, scenarios))


def test_a_refresh_from_the_cache_equals_a_compile_from_scratch(book):
    cache: dict = {}
    compile_book(book, smile_market(), cache)
    build_batch([(c, p) for _, c, p in compile_book(book, smile_market(), cache)[0]], GREEK_SCENARIOS, cache)
    layout = cache["batch_layout"]
    moved = MarketSnapshot.from_dict(smile_market(0.01))
    moved_rate = {**smile_market(0.01), "rate": 0.02}
    for mkt in (moved, MarketSnapshot.from_dict(moved_rate)):
        warm, _ = compile_book(book, mkt, cache)
        cold, _ = compile_book(book, mkt)
        for (i, a, _), (j, b, _) in zip(warm, cold):
            assert i == j
            for k in ("spot", "spot_rel", "vol", "vol_moneyness", "r", "q", "T", "T_disc"):
                assert getattr(a, k) == pytest.approx(getattr(b, k), rel=1e-14), k
            np.testing.assert_allclose(a._df_grid, b._df_grid, rtol=1e-14)
        items_w = [(c, p) for _, c, p in warm]
        batch_w = build_batch(items_w, GREEK_SCENARIOS, cache)
        assert cache["batch_layout"] is layout          # the day's layout reused, the market re-read
        assert_same(build_batch_reference([(c, p) for _, c, p in cold], GREEK_SCENARIOS), batch_w)


def test_a_layout_knows_its_own_contracts(book):
    fused, _ = compile_book(book, synthetic_market())
    items = [(ctx, prog) for _, ctx, prog in fused]
    lay = BatchLayout(items)
    assert lay.matches(items)
    assert not lay.matches(items[:-1])
    assert not lay.matches(items[1:] + items[:1])
