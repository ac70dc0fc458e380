"""The risk refresh on the GPU, as ``otclab risk serve`` runs it: store read to snapshot written.

    python3 benchmarks/refresh_gpu.py [--trades 4800] [--paths 100000] [--runs 3] [--no-grid] [--between N]

Builds the demo store (~2000 live trades, one end of day), drops an intraday market into a feed
folder and runs ``run_refresh`` on the GPU ``--runs`` times in one process (the first compiles
the kernels): value and Greeks of every live trade at ``--paths`` paths, the 41 x 9 spot x vol
grid (batched PDE where a template has one, Monte Carlo otherwise), the views and the limits,
one snapshot each. Before each warm run a new intraday market lands (spots moved up to 0.5%, as
``otclab demo tick --seed`` does) and the runs share one compile cache, as ``otclab risk serve``
keeps one between the refreshes of a day (``--no-cache``: each run compiles from scratch, the
code before the cache). Prints the stages of each run; the first run's CPU baseline is the same
refresh on this host's CPUs without the grid at ``--cpu-paths`` (default 2,000). Needs CuPy and an
NVIDIA GPU.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "--code" in sys.argv:       # otclab from another tree (a `git archive` of an earlier commit)
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))

from otclab.store import risk  # noqa: E402
from otclab.store.db import Store  # noqa: E402
from otclab.workflows import demo as D  # noqa: E402
from otclab.workflows.risk.feed import CST, FolderFeed  # noqa: E402
from otclab.workflows.risk.refresh import run_refresh  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trades", type=int, default=4800)
    ap.add_argument("--paths", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpu-paths", type=int, default=2_000)
    ap.add_argument("--no-grid", action="store_true")
    ap.add_argument("--between", type=int, default=0, metavar="N",
                    help="then N warm refreshes without the grid, as `otclab risk serve --grid-every` runs between "
                         "grids (the valuation, views and store alone)")
    ap.add_argument("--no-cache", action="store_true", help="compile every run from scratch")
    ap.add_argument("--code", metavar="DIR", help="import otclab from DIR (e.g. `git archive REV otclab payoffs`) "
                    "to time an earlier commit with this script")
    ap.add_argument("--no-cpu-baseline", action="store_true", help="skip the CPU refresh at the end")
    args = ap.parse_args()
    import cupy

    from otclab.book import scenarios

    pde_time = [0.0]
    solve = scenarios.price_batched

    def timed_solve(*a, **kw):        # the batched PDE's share of the grid (device synchronised)
        t = time.perf_counter()
        out = solve(*a, **kw)
        cupy.cuda.Device().synchronize()
        pde_time[0] += time.perf_counter() - t
        return out

    scenarios.price_batched = timed_solve
    dev = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        D.init_demo(Path(tmp) / "demo", trades=args.trades, log=lambda *a: None)
        store = Store(f"sqlite:///{Path(tmp) / 'demo' / 'otclab.db'}")
        feed = Path(tmp) / "feed"
        D.demo_tick(store, feed, as_of=dt.datetime.now(CST))
        print(f"demo store: {args.trades} trades, lifecycle and one end of day ({time.perf_counter() - t0:.1f} s); "
              f"GPU {dev}", flush=True)
        print(f"\nrisk refresh on the GPU, {args.paths:,} paths, grid {'off' if args.no_grid else '41 x 9'}")
        import otclab

        print(f"otclab from {Path(otclab.__file__).parent}")
        print(f"{'run':<6} {'trades':>6} {'total s':>8} {'value':>7} {'compile':>8} {'build':>6} {'kernel':>7} "
              f"{'closed':>7} {'grid':>7} {'pde':>6} {'views':>6} {'store':>6}  engines / grid method")
        cache = None if args.no_cache else {}
        t_tick = dt.datetime.now(CST)
        for i in range(args.runs + args.between):
            if i:
                t_tick += dt.timedelta(minutes=10)
                D.demo_tick(store, feed, as_of=t_tick, seed=i)
            pde_time[0] = 0.0
            with_grid = not args.no_grid and i < args.runs
            rep = run_refresh(store, FolderFeed(feed, settle=0), paths=args.paths, device="gpu",
                              grid=with_grid, cache=cache)
            with store.connect() as c:
                h = risk.header(c, rep.snapshot_id)
            tm, pt = rep.timing, h["settings"].get("timing", {})
            store_s = rep.wall_s - tm["value_s"] - tm.get("grid_s", 0.0) - tm["views_s"]
            grid = tm.get("grid") or {}
            pde_s = pde_time[0]
            label = "cold" if i == 0 else ("warm" if i < args.runs else "nogrid")
            print(f"{label:<6} {rep.trades:>6} {rep.wall_s:>8.2f} {tm['value_s']:>7.2f} "
                  f"{pt.get('compile_s', float('nan')):>8.2f} {pt.get('build_s', float('nan')):>6.2f} "
                  f"{pt.get('run_s', float('nan')):>7.2f} {pt.get('closed_s', float('nan')):>7.2f} "
                  f"{tm.get('grid_s', 0.0):>7.2f} {pde_s:>6.2f} {tm['views_s']:>6.2f} "
                  f"{store_s:>6.2f}  {rep.engines} / {grid.get('method', '-')}", flush=True)
        if args.no_cpu_baseline:
            return
        t1 = time.perf_counter()
        base = run_refresh(store, FolderFeed(feed, settle=0), paths=args.cpu_paths, device="cpu", grid=False)
        print(f"\nbaseline: the same refresh on this host's CPUs, {args.cpu_paths:,} paths, no grid: "
              f"{base.wall_s:.1f} s ({time.perf_counter() - t1:.1f} s wall)")


if __name__ == "__main__":
    main()
