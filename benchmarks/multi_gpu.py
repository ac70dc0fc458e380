"""Multi-GPU book pricing on one host: one Dask worker process per GPU, same numbers as one GPU.

    python benchmarks/multi_gpu.py [--contracts 2000] [--paths 100000] [--refreshes 2] [--scenarios]
    python benchmarks/multi_gpu.py --device cpu --contracts 40 --paths 4000     # no GPU: NumPy

Prints, for the same book and seed: the time in this process on one GPU (after a warm-up), then
with one worker process per GPU (``MultiGpuPricer``): the cluster start and the warm-up (kernel
compile on every worker) reported apart, then each refresh (both sides keep the day's compile
cache: refresh 1 compiles every contract, later ones re-read the market); where each worker ran and how its
chunk was split; and the largest difference of values and Greeks from the one-GPU run (chunks
use the same seed, so they agree to float rounding on GPU, exactly on CPU).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.book import price_book  # noqa: E402
from otclab.book.gpu_cluster import MultiGpuPricer, resolve_gpus  # noqa: E402
from otclab.book.scenarios import scenario_grid  # noqa: E402
from otclab.book.synthetic import synthetic_book, synthetic_market  # noqa: E402
from otclab.core.calendar import CalendarWarning  # noqa: E402

GREEKS = ("delta", "gamma", "cash_delta", "vega", "rho", "theta")


def _max_diff(a, b, cols) -> float:
    cols = [c for c in cols if c in a and c in b]
    return float(np.nanmax(np.abs(a[cols].to_numpy(float) - b[cols].to_numpy(float)))) if cols else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--paths", type=int, default=100_000)
    ap.add_argument("--refreshes", type=int, default=2, help="timed refreshes on each side")
    ap.add_argument("--device", choices=("gpu", "cpu"), default="gpu")
    ap.add_argument("--gpus", default=None, help="comma-separated GPUs (default: all this process sees; "
                                                 "with --device cpu: 0,1)")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--scenarios", action="store_true", help="also the 41 x 9 spot x vol grid, 1 GPU vs workers")
    a = ap.parse_args()
    warnings.simplefilter("ignore", CalendarWarning)   # 2027 maturities: weekdays count as trading days
    gpus = resolve_gpus(a.gpus if a.gpus is not None else ("0,1" if a.device == "cpu" else None), a.device)
    book, mkt = synthetic_book(a.contracts, seed=7), synthetic_market()
    kw = {"paths": a.paths, "seed": a.seed, "greeks": True}
    one_label = "1 GPU, in process" if a.device == "gpu" else "1 process (NumPy)"
    n_label = f"{len(gpus)} GPU workers" if a.device == "gpu" else f"{len(gpus)} NumPy workers"
    rows = []

    t0 = time.perf_counter()
    price_book(book[:4], mkt, paths=2048, device=a.device)            # warm-up: templates, kernel compile
    rows.append((one_label, "warm-up", time.perf_counter() - t0))
    one = None
    cache: dict = {}    # compiled contracts kept between refreshes, as each worker keeps its own
    for k in range(a.refreshes):
        t0 = time.perf_counter()
        one = price_book(book, mkt, device=a.device, cache=cache, **kw)
        rows.append((one_label, f"refresh {k + 1}", time.perf_counter() - t0))

    pricer = MultiGpuPricer(gpus, device=a.device)
    t0 = time.perf_counter()
    with pricer:
        rows.append((n_label, "cluster start", pricer.start_s))
        rows.append((n_label, "warm-up", time.perf_counter() - t0 - pricer.start_s))
        many = None
        for k in range(a.refreshes):
            t0 = time.perf_counter()
            many = pricer.price(book, mkt, **kw)
            rows.append((n_label, f"refresh {k + 1}", time.perf_counter() - t0))
        if a.scenarios:
            gkw = {"spot_shifts": np.linspace(-0.3, 0.3, 41), "vol_shifts": np.linspace(-0.05, 0.05, 9),
                   "seed": a.seed}
            t0 = time.perf_counter()
            _, grid_one = scenario_grid(book, mkt, device=a.device, **gkw)
            rows.append((one_label, "grid 41x9", time.perf_counter() - t0))
            t0 = time.perf_counter()
            _, grid_many = pricer.scenarios(book, mkt, **gkw)
            rows.append((n_label, "grid 41x9", time.perf_counter() - t0))
    t = many.attrs["timing"]

    print(f"{a.contracts} contracts x {a.paths:,} paths, value + Greeks, device {a.device}; "
          f"workers on CUDA_VISIBLE_DEVICES {', '.join(gpus)}")
    print(f"{'run':<22}{'step':<16}{'seconds':>10}")
    for run, step, s in rows:
        print(f"{run:<22}{step:<16}{s:>10.3f}")
    print("\nlast refresh, per worker (seconds on the worker):")
    print(f"{'worker':<9}{'CUDA_VISIBLE':>13}{'sees':>5}  {'card':<24}{'contracts':>9}{'cost':>8}{'compile':>9}"
          f"{'build':>7}{'run':>8}{'total':>8}")
    warm = {w["worker"]: w for w in pricer.warm}
    for p in t["per_chunk"]:
        w = warm.get(p["worker"], {})
        card = f"{w.get('gpu_name', '-')[:12]} {w.get('pci_bus_id', '')}".strip()
        print(f"{p['worker']:<9}{p['cuda_visible_devices']:>13}{w.get('gpus_seen', '-'):>5}  {card:<24}"
              f"{p['contracts']:>9}{p['cost']:>8}{p['compile_s']:>9.3f}{p['build_s']:>7.3f}{p['run_s']:>8.3f}"
              f"{p['total_s']:>8.3f}")
    if a.device == "gpu":
        buses = [w.get("pci_bus_id") for w in pricer.warm]
        print(f"each worker on its own card: {len(set(buses)) == len(buses)}")
    print(f"\nlargest difference from the 1-process run: value {_max_diff(one, many, ['value']):.3e}, "
          f"Greeks {_max_diff(one, many, GREEKS):.3e} (currency); ids in the same order: "
          f"{list(one['id']) == list(many['id'])}")
    if a.scenarios:
        print(f"grid: largest difference of the book's P&L matrix from the 1-process run "
              f"{np.max(np.abs(grid_one.to_numpy() - grid_many.to_numpy())):.3e} (currency)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
