"""Book pricing: the fused program (NumPy reference of the GPU kernel) against the generic
engines, scenario grids, and the Dask path on a local cluster."""
import numpy as np
import pytest

from otclab.book import price_book
from otclab.book.scenarios import scenario_grid
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.engines.fused.philox import normals, philox4x32
from otclab.pricing import price


def test_philox_known_answers_and_shifted_streams():
    # Random123 known-answer vectors for Philox4x32-10
    assert [int(x) for x in philox4x32(0, 0, 0, 0, 0, 0)] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    f = 0xFFFFFFFF
    assert [int(x) for x in philox4x32(f, f, f, f, f, f)] == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    z = normals(3, 9, 50_000, 7)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert np.array_equal(normals(3, 9, 100, 5, z_start=2), normals(3, 9, 100, 7)[:, 2:])


@pytest.fixture(scope="module")
def book():
    return synthetic_book(24, seed=11)


@pytest.fixture(scope="module")
def fused(book):
    return price_book(book, synthetic_market(), paths=40_000, seed=5, greeks=True, device="cpu")


def test_fused_values_agree_with_the_generic_engines(book, fused):
    assert (fused["engine"] == "fused-cpu").all()
    for c, (_, row) in zip(book, fused.iterrows()):
        req = {"template": c["template"], "terms": c["terms"], "market": synthetic_market(),
               **({"state": c["state"]} if "state" in c else {})}
        if c["template"] == "asian":
            ref = price(req, engine="mc", paths=80_000, seed=9)
            tol = 4 * np.hypot(row["stderr"], ref.stderr)
        else:
            ref = price(req, engine="pde")
            tol = 4 * row["stderr"]
        assert abs(row["value"] - ref.value) <= tol + 1e-3 * c["terms"]["notional"], (c["id"], row["value"], ref.value)


def test_fused_greeks_are_close_to_the_pde(book, fused):
    checked = 0
    for c, (_, row) in zip(book, fused.iterrows()):
        if c["template"] not in ("vanilla", "digital", "snowball"):
            continue
        req = {"template": c["template"], "terms": c["terms"], "market": synthetic_market(),
               **({"state": c["state"]} if "state" in c else {})}
        g = price(req, engine="pde", greeks=True).greeks
        N = c["terms"]["notional"]
        assert abs(row["cash_delta"] - g["cash_delta"]) <= 0.05 * N, c["id"]
        assert abs(row["vega"] - g["vega"]) <= 0.003 * N, c["id"]
        assert abs(row["rho"] - g["rho"]) <= 0.003 * N, c["id"]
        checked += 1
    assert checked >= 5


def test_generic_fallback_for_templates_without_a_fused_program():
    mkt = synthetic_market()
    book = [{"template": "vanilla", "terms": {"underlying": "000905.SH", "notional": 1e6, "initial_price": 5600.0,
             "start_date": "2025-06-03", "tenor_months": 3, "option_type": "put", "strike": 1.0,
             "exercise": "american"}},
            {"template": "vanilla", "terms": {"underlying": "000905.SH", "notional": 1e6, "initial_price": 5600.0,
             "start_date": "2025-06-03", "tenor_months": 3, "option_type": "call", "strike": 1.0}}]
    df = price_book(book, mkt, paths=20_000, greeks=False)
    assert list(df["engine"]) == ["pde", "fused-cpu"]
    assert df.attrs["timing"]["fused"] == 1 and df.attrs["timing"]["generic"] == 1


def test_fused_double_sharkfin_and_continuous_barriers_agree_with_the_generic_engines():
    """Two barriers and a put leg; continuous monitoring by Brownian-bridge weights (against the
    closed form, which is exact for continuous barriers under flat parameters)."""
    mkt = {"valuation_date": "2025-06-03", "spot": 5600.0, "rate": 0.018, "div_yield": 0.01, "vol": 0.24}
    common = {"underlying": "000905.SH", "notional": 1e6, "initial_price": 5600.0, "start_date": "2025-06-03",
              "tenor_months": 4}
    book = [{"template": "double_sharkfin", "terms": {**common, "strike_low": 0.96, "strike_high": 1.04,
             "barrier_low": 0.85, "barrier_high": 1.15, "participation_low": 0.6, "participation_high": 0.9,
             "rebate": 0.01, "monitoring": mon, "form": "note"}} for mon in ("daily", "expiry")]
    book += [{"template": "barrier", "terms": {**common, "option_type": ot, "strike": 1.0, "barrier": lv,
              "barrier_type": bt, "rebate": 0.01, "monitoring": "continuous"}}
             for ot, lv, bt in (("call", 1.2, "up_out"), ("put", 0.85, "down_out"), ("put", 0.9, "down_in"),
                                ("call", 1.1, "up_in"))]
    df = price_book(book, mkt, paths=60_000, seed=8, greeks=False, device="cpu")
    assert (df["engine"] == "fused-cpu").all()
    for c, (_, row) in zip(book, df.iterrows()):
        engine = "analytic" if c["terms"].get("monitoring") == "continuous" else "pde"
        ref = price({**c, "market": mkt}, engine=engine).value
        assert abs(row["value"] - ref) <= 4 * row["stderr"] + 2e-4 * 1e6, (c["terms"], row["value"], ref)


def test_scenario_grid_shape_and_behaviour():
    mkt = synthetic_market()
    calls = [{"template": "vanilla", "terms": {"underlying": "000300.SH", "notional": 1e6, "initial_price": 3900.0,
              "start_date": "2025-06-03", "tenor_months": 6, "option_type": "call", "strike": k}} for k in (0.95, 1.05)]
    long, mat = scenario_grid(calls, mkt, paths=4000)
    assert mat.shape == (41, 9) and len(long) == 2 * 41 * 9
    assert abs(mat.loc[0.0, 0.0]) < 1e-6
    assert (np.diff(mat[0.0].to_numpy()) > 0).all()                 # calls gain as spot rises
    assert (np.diff(mat.loc[0.0].to_numpy()) > 0).all()             # and as vol rises


def test_dask_local_cluster_gives_the_same_numbers():
    from dask.distributed import Client, LocalCluster

    from otclab.book.distributed import price_book_dask

    book = synthetic_book(12, seed=4)
    mkt = synthetic_market()
    local = price_book(book, mkt, paths=4000, seed=3, greeks=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dist = price_book_dask(book, mkt, client=client, chunk_size=5, paths=4000, seed=3, greeks=False)
    assert dist.attrs["timing"]["chunks"] == 3
    assert np.allclose(dist["value"].to_numpy(), local["value"].to_numpy(), rtol=1e-12)
    assert list(dist["id"]) == list(local["id"])


def test_a_cached_refresh_prices_like_a_fresh_compile(book):
    """Refresh on new spots and vols of the same day: contexts re-read the market, programs are
    reused; the numbers are those of compiling from scratch on the new market."""
    m1 = synthetic_market()
    m2 = synthetic_market()
    m2["spots"] = {u: s * 1.03 for u, s in m2["spots"].items()}
    m2["vols"] = {u: {**v, "vols": [x + 0.01 for x in v["vols"]]} for u, v in m2["vols"].items()}
    m2["rate"] = {**m2["rate"], "rates": [r + 0.002 for r in m2["rate"]["rates"]]}
    cache: dict = {}
    book = book[:10] + [{"template": "vanilla", "terms": {"underlying": "000905.SH", "notional": 1e6,
                         "initial_price": 5600.0, "start_date": "2025-06-03", "tenor_months": 2,
                         "option_type": "put", "strike": 1.0, "exercise": "american"}}]
    first = price_book(book, m1, paths=4000, seed=2, greeks=True, device="cpu", cache=cache)
    assert len([k for k in cache if k != "batch_layout"]) == len(book)      # one entry per contract
    assert cache["batch_layout"].n == 10                                   # the american put is generic
    cached = price_book(book, m2, paths=4000, seed=2, greeks=True, device="cpu", cache=cache)
    fresh = price_book(book, m2, paths=4000, seed=2, greeks=True, device="cpu")
    cols = ["value", "stderr", "delta", "gamma", "vega", "rho", "theta"]
    assert np.allclose(cached[cols].to_numpy(float), fresh[cols].to_numpy(float), rtol=1e-12, atol=1e-9,
                       equal_nan=True)
    assert not np.allclose(first["value"], cached["value"])      # the market did move
