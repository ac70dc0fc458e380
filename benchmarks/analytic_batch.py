"""Throughput of the batched analytic formulas: contracts priced per second, NumPy vs CuPy.

Usage: python benchmarks/analytic_batch.py [--sizes 10000 1000000] [--repeats 5]
Prints one table row per (function, backend, batch size). CuPy rows appear only where CuPy and
a GPU are available; each CuPy timing synchronises the device before and after.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from otclab.engines import analytic as an


def _book(xp, n, seed=0):
    rng = np.random.default_rng(seed)
    spot = rng.uniform(50, 150, n)
    T = rng.uniform(0.05, 3.0, n)
    data = {
        "is_call": rng.random(n) < 0.5,
        "spot": spot,
        "strike": spot * rng.uniform(0.7, 1.3, n),
        "T": T,
        "rate": rng.uniform(0.0, 0.05, n),
        "div_yield": rng.uniform(0.0, 0.04, n),
        "vol": rng.uniform(0.1, 0.6, n),
        "barrier": spot * rng.uniform(1.05, 1.5, n),
        "fixings": T[:, None] * np.arange(1, 13) / 12,
    }
    return {k: xp.asarray(v) for k, v in data.items()}


def _cases(b):
    market = (b["spot"], b["strike"], b["T"], b["rate"], b["div_yield"], b["vol"])
    return {
        "bs_price": lambda: an.bs_price(b["is_call"], *market),
        "bs_greeks": lambda: an.bs_greeks(b["is_call"], *market),
        "implied_vol": (lambda price: lambda: an.implied_vol(price, b["is_call"], *market[:-1]))(
            an.bs_price(b["is_call"], *market)),
        "barrier_price": lambda: an.barrier_price(
            b["is_call"], "up_out", b["spot"], b["strike"], b["barrier"], 0.0, *market[2:]),
        "geometric_asian_discrete (12 fixings)": lambda: an.geometric_asian_discrete(
            b["is_call"], b["spot"], b["strike"], b["fixings"], *market[2:]),
    }


def _time(fn, sync, repeats):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    backends = [("numpy", np, lambda: None)]
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        backends.append(("cupy", cupy, cupy.cuda.Device().synchronize))
    except Exception as exc:  # no CuPy or no GPU: NumPy rows only
        print(f"(CuPy rows skipped: {type(exc).__name__})")

    print(f"{'function':40s} {'backend':7s} {'contracts':>10s} {'best s':>10s} {'contracts/s':>12s}")
    for n in args.sizes:
        for name, xp, sync in backends:
            for case, fn in _cases(_book(xp, n)).items():
                t = _time(fn, sync, args.repeats)
                print(f"{case:40s} {name:7s} {n:>10d} {t:>10.5f} {n / t:>12.3g}")


if __name__ == "__main__":
    main()
