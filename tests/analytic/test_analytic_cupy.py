"""On a machine with CuPy and an NVIDIA GPU: every formula gives on CuPy arrays what it gives on
NumPy arrays (same code path, the module taken from the inputs). Skipped elsewhere (CI)."""
import numpy as np
import pytest

from otclab.engines import analytic as an


def _cupy():
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        cupy.zeros(1) + 1
    except Exception as exc:  # no CuPy, or no usable device
        pytest.skip(f"needs CuPy and a GPU ({type(exc).__name__})")
    return cupy


N = 4096


@pytest.fixture(scope="module")
def contracts():
    rng = np.random.default_rng(11)
    spot = rng.uniform(50, 150, N)
    T = rng.uniform(0.0, 3.0, N)
    T[:32] = 0.0
    return {
        "is_call": rng.random(N) < 0.5,
        "spot": spot,
        "strike": spot * rng.uniform(0.6, 1.5, N),
        "T": T,
        "T_disc": T * rng.uniform(0.8, 1.5, N),
        "rate": rng.uniform(0.0, 0.08, N),
        "div_yield": rng.uniform(-0.02, 0.06, N),
        "vol": rng.uniform(0.05, 0.8, N),
        "barrier": spot * rng.uniform(0.6, 1.5, N),
        "rebate": rng.choice([0.0, 2.0], N),
        "fixings": np.sort(rng.uniform(0.0, 1.0, (N, 12)), axis=-1) * T[:, None],
    }


def _both(func, c, keys, *extra, **kw):
    cp = _cupy()
    on_cpu = func(*extra, *(c[k] for k in keys), **kw)
    on_gpu = func(*extra, *(cp.asarray(c[k]) for k in keys),
                  **{k: cp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
    return on_cpu, on_gpu


def _check(on_cpu, on_gpu):
    assert type(on_gpu).__module__.startswith("cupy")
    np.testing.assert_allclose(on_gpu.get(), on_cpu, rtol=1e-11, atol=1e-11)


BS = ["is_call", "spot", "strike", "T", "rate", "div_yield", "vol"]


@pytest.mark.parametrize("func", [an.bs_price, an.cash_or_nothing, an.asset_or_nothing,
                                  an.geometric_asian_continuous])
def test_europeans_on_cupy(contracts, func):
    _check(*_both(func, contracts, BS, T_disc=contracts["T_disc"]))


def test_greeks_and_implied_vol_on_cupy(contracts):
    cpu, gpu = _both(an.bs_greeks, contracts, BS, T_disc=contracts["T_disc"])
    for name in cpu:
        _check(cpu[name], gpu[name])
    c = dict(contracts, price=cpu["price"])
    live = (c["T"] > 0) & (cpu["vega"] > 1e-3 * c["spot"])  # where the price pins the vol down
    c = {k: v[live] for k, v in c.items()}
    vol_cpu, vol_gpu = _both(an.implied_vol, c, ["price", "is_call", "spot", "strike", "T", "rate",
                                                 "div_yield"], T_disc=c["T_disc"])
    np.testing.assert_allclose(vol_gpu.get(), vol_cpu, atol=1e-9)
    np.testing.assert_allclose(vol_cpu, c["vol"], atol=1e-8)


@pytest.mark.parametrize("barrier_type", ["up_out", "up_in", "down_out", "down_in"])
def test_barriers_on_cupy(contracts, barrier_type):
    rest = ["spot", "strike", "barrier", "rebate", "T", "rate", "div_yield", "vol"]
    cp = _cupy()
    cpu = an.barrier_price(contracts["is_call"], barrier_type, *(contracts[k] for k in rest),
                           T_disc=contracts["T_disc"])
    gpu = an.barrier_price(cp.asarray(contracts["is_call"]), barrier_type,
                           *(cp.asarray(contracts[k]) for k in rest),
                           T_disc=cp.asarray(contracts["T_disc"]))
    _check(cpu, gpu)
    cpu = an.bgk_barrier(contracts["is_call"], barrier_type, *(contracts[k] for k in rest),
                         dt=1 / 243)
    gpu = an.bgk_barrier(cp.asarray(contracts["is_call"]), barrier_type,
                         *(cp.asarray(contracts[k]) for k in rest), dt=1 / 243)
    _check(cpu, gpu)


def test_discrete_asian_on_cupy(contracts):
    cp = _cupy()
    args = ("spot", "strike")
    rest = ("T", "rate", "div_yield", "vol")
    cpu = an.geometric_asian_discrete("call", *(contracts[k] for k in args), contracts["fixings"],
                                      *(contracts[k] for k in rest), past_log_sum=0.0, n_past=0)
    gpu = an.geometric_asian_discrete("call", *(cp.asarray(contracts[k]) for k in args),
                                      cp.asarray(contracts["fixings"]),
                                      *(cp.asarray(contracts[k]) for k in rest))
    _check(cpu, gpu)
