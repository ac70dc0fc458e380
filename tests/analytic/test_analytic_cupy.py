"""On a machine with CuPy and an NVIDIA GPU: every formula gives on CuPy arrays what it gives on
NumPy arrays (same code path, the array module taken from the inputs). Skipped elsewhere (CI)."""
import numpy as np
import pytest

from otclab.engines import analytic as an


@pytest.fixture(scope="module")
def cp():
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        cupy.zeros(1) + 1
    except Exception as exc:  # no CuPy, or no usable device
        pytest.skip(f"needs CuPy and a GPU ({type(exc).__name__})")
    return cupy


BS = ["is_call", "spot", "strike", "T", "rate", "div_yield", "vol", "T_disc"]
BARRIER = ["option_type", "barrier_type", "spot", "strike", "barrier", "rebate", "T", "rate",
           "div_yield", "vol", "T_disc"]
ASIAN = BS + ["fixing_times", "past_log_sum", "n_past"]


def _on_both(cp, func, book, names, **extra):
    """``func`` on the NumPy book and on the same book moved to the GPU (strings stay on host)."""
    args = {("option_type" if k == "is_call" else k): book[k] for k in names} | extra
    on_gpu = {k: v if v.dtype.kind == "U" else cp.asarray(v) for k, v in args.items()}
    return func(**args), func(**on_gpu)


def _check(on_cpu, on_gpu):
    assert type(on_gpu).__module__.startswith("cupy")
    np.testing.assert_allclose(on_gpu.get(), on_cpu, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("func, names", [
    (an.bs_price, BS), (an.cash_or_nothing, BS), (an.asset_or_nothing, BS),
    (an.geometric_asian_continuous, BS), (an.geometric_asian_discrete, ASIAN),
    (an.barrier_price, BARRIER), (an.bgk_barrier, BARRIER + ["dt"]),
])
def test_prices_on_cupy_equal_numpy(cp, book, func, names):
    _check(*_on_both(cp, func, book, names))


def test_greeks_and_implied_vol_on_cupy_equal_numpy(cp, book):
    cpu, gpu = _on_both(cp, an.bs_greeks, book, BS)
    for name in cpu:
        _check(cpu[name], gpu[name])
    pinned = (book["T"] > 0) & (cpu["vega"] > 1e-3 * book["spot"])  # price pins the vol down
    sub = {k: v[pinned] for k, v in book.items()} | {"price": cpu["price"][pinned]}
    vol_cpu, vol_gpu = _on_both(cp, an.implied_vol, sub,
                                ["price", "is_call", "spot", "strike", "T", "rate", "div_yield",
                                 "T_disc"])
    np.testing.assert_allclose(vol_gpu.get(), vol_cpu, atol=1e-9)
    np.testing.assert_allclose(vol_cpu, sub["vol"], atol=1e-8)
