"""The same Monte Carlo requests on NumPy (CPU) and CuPy (GPU): values must agree within MC error.

    python benchmarks/gpu_mc_check.py [--paths 1000000]

Prints one row per request: CPU value ± se, GPU value ± se, the difference in combined standard
errors, and the wall time of each (the GPU time after a warm-up run). Exit 1 if any difference
exceeds 4 combined standard errors. Needs CuPy and an NVIDIA GPU.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from otclab.pricing import price  # noqa: E402


def requests():
    ref = json.loads((ROOT / "tests" / "data" / "pricing_references.json").read_text())
    snow = ref["snowball"]["request"]
    mkt = {"valuation_date": "2025-03-03", "spot": 6000.0, "rate": 0.018, "div_yield": 0.01, "vol": 0.22}
    base = {"underlying": "000852.SH", "notional": 1e6, "initial_price": 6000.0, "start_date": "2025-03-03"}
    return [
        ("snowball (pricelib sheet)", snow),
        ("phoenix memory 12M", {"template": "phoenix", "market": mkt, "terms": {**base, "tenor_months": 12,
                                "ko_barrier": 1.0, "ki_barrier": 0.7, "coupon_barrier": 0.8, "coupon": 0.12,
                                "memory": True, "lockup_months": 3}}),
        ("sharkfin daily 6M", {"template": "sharkfin", "market": mkt, "terms": {**base, "tenor_months": 6,
                               "option_type": "call", "barrier": 1.15, "participation": 0.9, "rebate": 0.01}}),
        ("barrier cont. up-out", {"template": "barrier", "market": mkt, "terms": {**base, "tenor_months": 6,
                                  "option_type": "call", "strike": 1.0, "barrier": 1.2, "barrier_type": "up_out",
                                  "rebate": 0.01, "monitoring": "continuous"}}),
        ("asian arithmetic daily", {"template": "asian", "market": mkt, "terms": {**base, "tenor_months": 6,
                                    "option_type": "call", "averaging": "arithmetic", "fixings": "daily"}}),
    ]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1_000_000)
    args = ap.parse_args()
    import cupy

    dev = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"GPU: {dev}; paths per run: {args.paths:,}")
    print(f"{'request':<28}{'CPU value':>16}{'± se':>10}{'GPU value':>16}{'± se':>10}{'z':>7}{'CPU s':>8}{'GPU s':>8}")
    bad = 0
    for name, req in requests():
        t0 = time.perf_counter()
        cpu = price(req, engine="mc", paths=args.paths, seed=1, device="cpu")
        t_cpu = time.perf_counter() - t0
        price(req, engine="mc", paths=min(args.paths, 20_000), seed=2, device="gpu")  # warm-up: kernels compile
        cupy.cuda.Device().synchronize()
        t0 = time.perf_counter()
        gpu = price(req, engine="mc", paths=args.paths, seed=3, device="gpu")
        cupy.cuda.Device().synchronize()
        t_gpu = time.perf_counter() - t0
        z = (gpu.value - cpu.value) / math.hypot(cpu.stderr, gpu.stderr)
        bad += abs(z) > 4
        print(f"{name:<28}{cpu.value:>16,.4f}{cpu.stderr:>10,.4f}{gpu.value:>16,.4f}{gpu.stderr:>10,.4f}"
              f"{z:>7.2f}{t_cpu:>8.2f}{t_gpu:>8.2f}")
    print("all within 4 combined standard errors" if not bad else f"{bad} request(s) disagree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
