"""Multi-GPU book pricing on one host: chunks on every GPU, same numbers as one GPU.

    python benchmarks/multi_gpu.py [--contracts 2000] [--paths 100000]

Prints the time on one GPU and on all GPUs of the host, and the largest difference between the
two runs' values (chunks are priced with the same seed, so they must agree to rounding).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.book import price_book  # noqa: E402
from otclab.book.distributed import price_book_multi_gpu  # noqa: E402
from otclab.book.synthetic import synthetic_book, synthetic_market  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--paths", type=int, default=100_000)
    a = ap.parse_args()
    import cupy

    n_gpu = cupy.cuda.runtime.getDeviceCount()
    book, mkt = synthetic_book(a.contracts, seed=7), synthetic_market()
    price_book(book[:4], mkt, paths=2048, device="gpu")            # warm-up: kernel compile
    t0 = time.perf_counter()
    one = price_book(book, mkt, paths=a.paths, device="gpu", greeks=True)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = price_book_multi_gpu(book, mkt, paths=a.paths, greeks=True)
    tn = time.perf_counter() - t0
    diff = np.max(np.abs(one["value"].to_numpy() - many["value"].to_numpy()) / one["notional"].to_numpy()
                  if "notional" in one else np.abs(one["value"].to_numpy() - many["value"].to_numpy()))
    print(f"GPUs on this host: {n_gpu}; {a.contracts} contracts x {a.paths:,} paths, value + Greeks")
    print(f"{'run':<14}{'seconds':>10}")
    print(f"{'1 GPU':<14}{t1:>10.3f}")
    print(f"{f'{n_gpu} GPU(s)':<14}{tn:>10.3f}")
    print(f"largest value difference between the runs: {diff:.3e} (currency)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
