"""One Dask worker process per GPU (run here with NumPy workers): same numbers as one process,
each worker on its own CUDA_VISIBLE_DEVICES, the cost-balanced split, and bad arguments."""
import os

import numpy as np
import pytest

from otclab.book import price_book
from otclab.book.balance import balanced_split, contract_costs
from otclab.book.distributed import price_book_multi_gpu
from otclab.book.gpu_cluster import MultiGpuPricer, resolve_gpus
from otclab.book.pricing import _as_market
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.core.errors import EngineError, OtcError

NUMERIC = ["value", "stderr", "delta", "gamma", "cash_delta", "vega", "rho", "theta"]


@pytest.fixture(scope="module")
def pricer():
    with MultiGpuPricer(gpus=[3, 1], device="cpu") as p:
        yield p


def _generic_contract():
    # no fused program (American exercise): priced by the PDE engine on whichever worker gets it
    return {"id": "AMP", "template": "vanilla", "terms": {
        "underlying": "000905.SH", "notional": 1e6, "initial_price": 5600.0, "start_date": "2025-06-03",
        "tenor_months": 3, "option_type": "put", "strike": 1.0, "exercise": "american"}}


def test_two_worker_processes_give_the_in_process_values_and_greeks():
    book = synthetic_book(14, seed=4) + [_generic_contract()]
    mkt = synthetic_market()
    local = price_book(book, mkt, paths=3000, seed=3, greeks=True, device="cpu")
    dist = price_book_multi_gpu(book, mkt, gpus=[0, 1], device="cpu", paths=3000, seed=3, greeks=True)
    assert list(dist["id"]) == list(local["id"]) and list(dist["engine"]) == list(local["engine"])
    assert "pde" in set(local["engine"])
    # same seed: a contract's paths do not depend on its chunk, so NumPy gives the same bits
    assert np.array_equal(dist[NUMERIC].to_numpy(), local[NUMERIC].to_numpy(), equal_nan=True)   # PDE: no stderr
    t = dist.attrs["timing"]
    assert t["chunks"] == 2 and sum(p["contracts"] for p in t["per_chunk"]) == len(book)
    assert {p["worker"] for p in t["per_chunk"]} == {"gpu-0", "gpu-1"}
    assert len({p["pid"] for p in t["per_chunk"]} | {os.getpid()}) == 3     # two other processes


def test_each_worker_sees_its_own_cuda_visible_devices(pricer):
    info = pricer.worker_info()
    assert {i["worker"]: i["cuda_visible_devices"] for i in info} == {"gpu-3": "3", "gpu-1": "1"}
    assert len({i["pid"] for i in info} | {os.getpid()}) == 3
    assert {w["worker"] for w in pricer.warm} == {"gpu-3", "gpu-1"}           # both warmed at start


def test_refreshes_reuse_the_workers_and_keep_the_input_order(pricer):
    pids = {i["pid"] for i in pricer.worker_info()}
    book = [{k: v for k, v in c.items() if k != "id"} for c in synthetic_book(9, seed=12)]   # ids by position
    mkt = synthetic_market()
    for spot in (5600.0, 5800.0):
        mkt["spots"]["000905.SH"] = spot
        local = price_book(book, mkt, paths=2000, seed=8, greeks=False, device="cpu")
        dist = pricer.price(book, mkt, paths=2000, seed=8, greeks=False)
        assert list(dist["id"]) == list(range(len(book))) == list(local["id"])
        assert list(dist["template"]) == [c["template"] for c in book]
        assert np.array_equal(dist["value"].to_numpy(), local["value"].to_numpy())
        chunks = dist.attrs["timing"]["per_chunk"]
        assert {p["pid"] for p in chunks} == pids
        assert all(p["cuda_visible_devices"] == p["worker"].removeprefix("gpu-") for p in chunks)


def test_a_bad_contract_names_its_field_and_the_workers_stay_usable(pricer):
    book, mkt = synthetic_book(3, seed=2), synthetic_market()
    bad = {**book[1], "terms": {**book[1]["terms"], "notional": "abc"}}
    with pytest.raises(OtcError) as e:
        pricer.price([book[0], bad, book[2]], mkt, paths=1000, greeks=False)
    assert e.value.field == f"book[1] ({book[1]['id']}).terms.notional"      # its place in the whole book
    assert len(pricer.price(book, mkt, paths=1000, greeks=False)) == 3


def test_cost_balanced_split_covers_every_contract_once_in_order():
    rng = np.random.default_rng(5)
    costs = rng.integers(1, 500, size=101)
    for n in (1, 2, 3, 8):
        groups = balanced_split(costs, n)
        assert sorted(i for g in groups for i in g) == list(range(len(costs)))
        assert all(g == sorted(g) for g in groups) and len(groups) == n
        loads = [costs[g].sum() for g in groups]
        assert max(loads) - costs.sum() / n <= costs.max()                # greedy bound
        assert groups == balanced_split(costs, n)                          # deterministic
    # a long trade against many short ones: it gets a worker of its own
    assert balanced_split([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 500], 2) == [[11], list(range(11))]
    assert balanced_split([3, 2], 4) == [[0], [1]]                         # no empty chunks
    assert balanced_split([], 2) == []


def test_contract_cost_is_trading_days_to_maturity():
    snap = _as_market(synthetic_market())                                  # valuation 2025-06-03
    base = {"underlying": "000300.SH", "start_date": "2025-06-03"}
    book = [{"template": "vanilla", "terms": {**base, "tenor_months": 1}},          # to 2025-07-03
            {"template": "vanilla", "terms": {**base, "maturity_date": "2025-07-03"}},
            {"template": "vanilla", "terms": {**base, "maturity_date": "2025-10-09"}},  # over the National Day week
            {"template": "vanilla", "terms": {"underlying": "000300.SH"}}]               # unreadable: 1
    # June 4-30: 19 trading days, July 1-3: 3; to Oct 9 also July 4-Sep 30 (63) and Oct 9 (Oct 1-8 closed)
    assert list(contract_costs(book, snap)) == [22, 22, 22 + 63 + 1, 1]


@pytest.mark.parametrize("gpus, device, word", [([], "gpu", "at least one"), ("", "cpu", "at least one"),
                                                 ([0, 0], "cpu", "at most once"), ([-1], "cpu", ">= 0"),
                                                 (None, "cpu", "explicitly"), ([True], "cpu", "GPU index")])
def test_bad_gpu_lists_are_refused_before_anything_starts(gpus, device, word):
    with pytest.raises(EngineError, match=word) as e:
        price_book_multi_gpu(synthetic_book(2), synthetic_market(), gpus=gpus, device=device, paths=1000)
    assert e.value.field == "gpus"


def test_pricer_arguments(pricer):
    assert resolve_gpus("2, 0", "cpu") == ["2", "0"]
    with pytest.raises(EngineError) as e:
        pricer.price(synthetic_book(2), synthetic_market(), device="gpu")
    assert e.value.field == "device"
    with pytest.raises(EngineError, match="device"):
        MultiGpuPricer([0], device="tpu")
    with pytest.raises(RuntimeError, match="start the pricer"):
        MultiGpuPricer([0], device="cpu").price(synthetic_book(2), synthetic_market())


def test_scenario_grid_split_across_workers_and_through_dask(pricer):
    """The grid of a chunked book (PDE rows and Monte Carlo rows) is the in-process grid: same
    long table in the input order, same P&L matrix."""
    from dask.distributed import Client, LocalCluster

    from otclab.book.distributed import scenario_grid_dask
    from otclab.book.scenarios import scenario_grid

    # short contracts without many-state rows keep the CPU PDE quick; ids missing on some
    book = [c for c in synthetic_book(60, seed=12)
            if c["template"] in ("vanilla", "digital", "barrier", "sharkfin") and c["terms"]["tenor_months"] <= 3][:6]
    assert len(book) == 6
    for c in book[::2]:
        del c["id"]
    mkt = synthetic_market()
    kw = dict(spot_shifts=[-0.1, 0.0, 0.1], vol_shifts=[-0.02, 0.02], paths=2000, seed=4)
    local, local_m = scenario_grid(book, mkt, device="cpu", **kw)
    long, matrix = pricer.scenarios(book, mkt, **kw)
    assert long.attrs["timing"]["chunks"] == 2
    cols = ["id", "template", "method", "spot_shift", "vol_shift"]
    assert long[cols].equals(local[cols])
    assert np.allclose(long["value"], local["value"], rtol=1e-12, atol=1e-9)
    assert np.allclose(matrix.to_numpy(), local_m.to_numpy(), rtol=1e-12, atol=1e-6)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dlong, dmat = scenario_grid_dask(book, mkt, client=client, chunk_size=4, device="cpu", **kw)
    assert dlong[cols].equals(local[cols]) and np.allclose(dmat.to_numpy(), local_m.to_numpy(), atol=1e-6)
