"""Speed of the fused kernel's variants against the shipped one, in the same run (on a GPU).

    python3 benchmarks/kernel_variants.py [--contracts 2000] [--paths 100000]

Variants of the kernel source or compile options (the shipped kernel is the baseline):
  fast normals   Box–Muller by the SFU intrinsics (__logf, __sincosf) instead of logf/sincosf
  fast math      the whole kernel compiled with --use_fast_math
Each prices the synthetic book's value rows and its Greek rows (8 scenarios); printed: registers,
the best of 3 timings, path-steps/s, the ratio to the shipped kernel and the largest difference
from it in units of the shipped standard error (a variant must not move a value by more than
a small fraction of its Monte Carlo error).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.book.pricing import GREEK_SCENARIOS, compile_book  # noqa: E402
from otclab.book.synthetic import synthetic_book, synthetic_market  # noqa: E402
from otclab.engines.fused import cuda as fc  # noqa: E402
from otclab.engines.fused.program import COL, SCALARS, build_batch  # noqa: E402

BM_EXACT = "float r = sqrtf(-2.0f * logf(u1));\n    float s, c; sincosf(6.2831853071795865f * u2, &s, &c);"
BM_FAST = "float r = sqrtf(-2.0f * __logf(u1));\n    float s, c; __sincosf(6.2831853071795865f * u2, &s, &c);"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--paths", type=int, default=100_000)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    import cupy as cp

    assert BM_EXACT in fc._SRC, "the shipped Box-Muller changed: update this script"
    fused, _ = compile_book(synthetic_book(a.contracts, seed=7), synthetic_market())
    items = [(ctx, prog) for _, ctx, prog in fused]
    batches = {"value": build_batch(items), "greeks": build_batch(items, GREEK_SCENARIOS)}
    base_opts = ("-std=c++14",)
    variants = {"shipped": (fc._SRC, base_opts), "fast normals": (fc._SRC.replace(BM_EXACT, BM_FAST), base_opts),
                "fast math": (fc._SRC, base_opts + ("--use_fast_math",))}
    print(f"GPU: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}; {a.contracts} contracts x {a.paths:,} "
          f"paths; value {batches['value'].n_tasks} tasks, greeks {batches['greeks'].n_tasks} tasks")
    print(f"{'kernel':<14}{'pass':<8}{'registers':>10}{'seconds':>10}{'path-steps/s':>15}{'vs shipped':>11}"
          f"{'max |diff|/se':>15}")
    ref: dict = {}
    try:
        for name, (src, opts) in variants.items():
            fc._KERNEL = cp.RawKernel(src % {"NS": len(SCALARS), **COL}, "fused_mc", options=opts)
            fc.run_cuda(batches["value"], 2048, 1)
            for kind, batch in batches.items():
                times = []
                for _ in range(3):
                    cp.cuda.Device().synchronize()
                    t0 = time.perf_counter()
                    mean, se = fc.run_cuda(batch, a.paths, 5)
                    times.append(time.perf_counter() - t0)
                t = min(times)
                if name == "shipped":
                    ref[kind] = (mean, se, t)
                m0, se0, t0 = ref[kind]
                diff = float(np.max(np.abs(mean - m0) / np.maximum(se0, 1e-12)))
                print(f"{name:<14}{kind:<8}{fc._KERNEL.num_regs:>10}{t:>10.4f}{batch.path_steps(a.paths) / t:>15.3e}"
                      f"{t0 / t:>10.2f}x{diff:>15.3f}")
    finally:
        fc._KERNEL = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
