"""The batched PDE of a scenario grid, batch by batch (run on a GPU; --device cpu for a small book).

    python3 benchmarks/pde_batch.py [--contracts 2000] [--vol-shifts 9] [--block 128 64 32]

Solves every contract of the synthetic book × vol shifts with ``price_batched`` (batches: two
states, memory phoenixes, continuous barriers, Asians) and prints rows, states, substeps a day
and seconds per batch for each Thomas-kernel block size given, and the largest difference
between block sizes (they must agree to rounding).
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
from otclab.engines.fused import pde  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--vol-shifts", type=int, default=9)
    ap.add_argument("--block", type=int, nargs="+", default=[128])
    ap.add_argument("--device", choices=("gpu", "cpu"), default="gpu")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    if a.device == "gpu":
        import cupy as xp

        print(f"GPU: {xp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    else:
        xp = np
    fused, _ = compile_book(synthetic_book(a.contracts, seed=7), synthetic_market())
    items = [(ctx, prog) for _, ctx, prog in fused if pde.supported(prog)]
    vs = np.linspace(-0.05, 0.05, a.vol_shifts)
    pde.price_batched(items[:3], (0.0,), (0.0,), xp)         # compile the kernel
    print(f"{len(items)} contracts x {len(vs)} vol shifts")
    print(f"{'block':>6}{'rows':>8}{'states':>8}{'substeps':>10}{'seconds':>10}")
    first = None
    for block in a.block:
        pde.THOMAS_BLOCK = block
        timings: list = []
        t0 = time.perf_counter()
        vals = pde.price_batched(items, vs, (0.0,), xp, timings=timings)
        total = time.perf_counter() - t0
        for t in timings:
            print(f"{block:>6}{t['rows']:>8}{t['states']:>8}{t['substeps']:>10}{t['seconds']:>10.3f}")
        print(f"{block:>6}{'all':>8}{'':>8}{'':>10}{total:>10.3f}")
        if first is None:
            first = vals
        else:
            print(f"       largest difference from block {a.block[0]}: "
                  f"{max(abs(float(vals[k][0] - first[k][0])) for k in vals):.2e} of notional")
    return 0


if __name__ == "__main__":
    sys.exit(main())
