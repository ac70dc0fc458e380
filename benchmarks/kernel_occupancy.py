"""Registers and speed of the fused kernel under different register caps (run on a GPU).

    python3 benchmarks/kernel_occupancy.py [--contracts 2000] [--paths 100000]

Compiles the kernel as shipped (``__launch_bounds__(256, 4)``: at most 64 registers a thread)
and variants (no cap: the compiler's choice; 2 or 3 blocks of 256 per SM), prices the value rows
of the synthetic book with each, and prints registers, the best of 3 timings, path-steps/s and
the largest difference from the shipped kernel (a register cap must not change results).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.book.pricing import compile_book  # noqa: E402
from otclab.book.synthetic import synthetic_book, synthetic_market  # noqa: E402
from otclab.engines.fused import cuda as fc  # noqa: E402
from otclab.engines.fused.program import COL, SCALARS, build_batch  # noqa: E402

SHIPPED = "__launch_bounds__(256, 4) "


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--paths", type=int, default=100_000)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    import cupy as cp

    assert SHIPPED in fc._SRC, "the shipped kernel's launch bounds changed: update this script"
    fused, _ = compile_book(synthetic_book(a.contracts, seed=7), synthetic_market())
    batch = build_batch([(ctx, prog) for _, ctx, prog in fused])
    variants = {"shipped (256, 4)": fc._SRC, "no cap": fc._SRC.replace(SHIPPED, "")}
    for k in (2, 3):
        variants[f"(256, {k})"] = fc._SRC.replace(SHIPPED, f"__launch_bounds__(256, {k}) ")
    print(f"GPU: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}; {batch.n_rows} rows x {a.paths:,} paths")
    print(f"{'kernel':<18}{'registers':>10}{'seconds':>10}{'path-steps/s':>15}{'max |diff|':>12}")
    ref = None
    try:
        for name, src in variants.items():
            fc._KERNEL = cp.RawKernel(src % {"NS": len(SCALARS), **COL}, "fused_mc", options=("-std=c++14",))
            fc.run_cuda(batch, 2048, 1)
            times = []
            for _ in range(3):
                cp.cuda.Device().synchronize()
                t0 = time.perf_counter()
                mean, _ = fc.run_cuda(batch, a.paths, 5)
                times.append(time.perf_counter() - t0)
            ref = mean if ref is None else ref
            t = min(times)
            print(f"{name:<18}{fc._KERNEL.num_regs:>10}{t:>10.4f}{batch.path_steps(a.paths) / t:>15.3e}"
                  f"{np.max(np.abs(mean - ref)):>12.2e}")
    finally:
        fc._KERNEL = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
