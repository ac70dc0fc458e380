"""The end of day on the GPU against the same end of day on the CPU, then its time at book scale.

    python benchmarks/eod_gpu.py [--trades 4800] [--check-paths 20000] [--paths 100000]

Builds the demo store (two years of closes, ~4800 trades booked, lifecycle through 2025-12-30:
about 2000 live), copies it, and runs ``otclab eod`` for 2025-12-30:
  1. on the CPU (NumPy reference of the fused kernels) and on the GPU (CUDA kernels) with the same
     paths and seed: the kernels draw the same Philox normals, so every trade's value and Greeks
     must agree to float32 rounding (checked per trade; exit 1 if a value, vega, theta or rho
     differs by more than 2e-4 of notional, or a cash delta by more than 5e-3: a delta is a
     difference of two values over a 2% spot move, which magnifies their rounding 50 times);
  2. on the GPU with ``--paths`` (the desk's setting), twice (cold, then with compiled kernels),
     with the stages of the run: lifecycle, store read, valuation, margin and snapshot write.
Prints a table; needs CuPy and an NVIDIA GPU.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.store import risk  # noqa: E402
from otclab.store.db import Store  # noqa: E402
from otclab.workflows import demo as D  # noqa: E402
from otclab.workflows.eod.run import run_eod  # noqa: E402


def rows(store: Store, sid: int):
    with store.connect() as c:
        return risk.rows(c, sid).set_index("trade_id")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trades", type=int, default=4800)
    ap.add_argument("--check-paths", type=int, default=20_000)
    ap.add_argument("--paths", type=int, default=100_000)
    args = ap.parse_args()
    import cupy

    dev = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        t0 = time.perf_counter()
        D.init_demo(base, trades=args.trades, upto="lifecycle", log=lambda *a: None)
        print(f"demo store: {args.trades} trades booked, lifecycle through {D.EOD_DATE} "
              f"({time.perf_counter() - t0:.1f} s); GPU {dev}", flush=True)
        copies = {}
        for name in ("cpu", "gpu", "gpu100k"):
            shutil.copytree(base, Path(tmp) / name)
            copies[name] = Store(f"sqlite:///{Path(tmp) / name / 'otclab.db'}")

        # 1. the same paths on both: per-trade agreement
        rc = run_eod(copies["cpu"], D.EOD_DATE, paths=args.check_paths, device="cpu")
        rg = run_eod(copies["gpu"], D.EOD_DATE, paths=args.check_paths, device="gpu")
        a, b = rows(copies["cpu"], rc.snapshot_id), rows(copies["gpu"], rg.snapshot_id)
        fused = a.index[a.engine == "fused-cpu"]
        worst = {}
        bad = 0
        for k in ("value", "cash_delta", "vega", "theta", "rho"):
            tol = (5e-3 if k == "cash_delta" else 2e-4) * a.loc[fused, "notional"]
            d = (b.loc[fused, k] - a.loc[fused, k]).abs()
            worst[k] = float((d / a.loc[fused, "notional"]).max())
            bad += int((d > tol).sum())
        same_analytic = np.allclose(a.loc[a.engine == "analytic", "value"], b.loc[b.engine == "analytic", "value"])
        print(f"\n1. CPU reference vs GPU kernels, {args.check_paths:,} paths, seed {rc.seed}, {len(fused)} fused trades "
              f"+ {int((a.engine == 'analytic').sum())} analytic")
        print(f"   {'measure':<10} worst |GPU - CPU| / notional")
        for k, v in worst.items():
            print(f"   {k:<10} {v:.2e}")
        print(f"   trades beyond tolerance: {bad}; analytic rows identical: {same_analytic}; "
              f"book value CPU {rc.totals['value']:,.0f} GPU {rg.totals['value']:,.0f}")
        print(f"   wall: CPU {rc.wall_s:.1f} s, GPU {rg.wall_s:.1f} s (GPU including kernel compilation)")

        # 2. the desk's setting on the GPU, cold then warm (same process: compiled kernels kept)
        print(f"\n2. otclab eod run on the GPU, {args.paths:,} paths ({dev})")
        print(f"   {'run':<6} {'trades':>6} {'total s':>8} {'lifecycle':>9} {'compile':>8} {'build':>7} {'kernel':>7} "
              f"{'other':>7}")
        for run in ("cold", "warm"):
            st = copies["gpu100k"]
            if run == "warm":
                shutil.rmtree(Path(tmp) / "gpu100k")
                shutil.copytree(base, Path(tmp) / "gpu100k")
                st = Store(f"sqlite:///{Path(tmp) / 'gpu100k' / 'otclab.db'}")
            r = run_eod(st, D.EOD_DATE, paths=args.paths, device="gpu")
            with st.connect() as c:
                h = risk.header(c, r.snapshot_id)
            tm = h["settings"]["timing"]
            other = r.wall_s - r.lifecycle.seconds - tm["compile_s"] - tm["build_s"] - tm["run_s"]
            print(f"   {run:<6} {r.trades:>6} {r.wall_s:>8.2f} {r.lifecycle.seconds:>9.2f} {tm['compile_s']:>8.2f} "
                  f"{tm['build_s']:>7.2f} {tm['run_s']:>7.2f} {other:>7.2f}")
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
