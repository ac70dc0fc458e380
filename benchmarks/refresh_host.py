"""The host side of a risk refresh (everything but the pricing kernels), on this machine's CPUs.

    python benchmarks/refresh_host.py [--trades 4800] [--runs 4] [--paths 50] [--baseline DIR]

Builds the demo store (~2000 live trades, one end of day) and runs ``run_refresh`` as ``otclab
risk serve`` does (one cache kept across the refreshes of a day, a new intraday market before
each run, no grid: the service's ``--grid-every`` refreshes between grids) at a token number of
paths, so that what is timed is the host side a GPU refresh also pays: reading the book, the
views, writing the snapshot. "other" is the refresh minus the valuation and the views: the store
read before it and the rows and snapshot after. ``--baseline DIR`` (a ``git archive REV otclab
payoffs`` of an earlier commit) runs the same in a child process on that code, on its own demo
store, for a same-run baseline. The first run of each compiles the contracts (cold); the warm
runs are what the service repeats every few minutes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(code: Path, trades: int, runs: int, paths: int) -> list[dict]:
    sys.path.insert(0, str(code))
    from otclab.store.db import Store
    from otclab.workflows import demo as D
    from otclab.workflows.risk.feed import CST, FolderFeed
    from otclab.workflows.risk.refresh import run_refresh

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        D.init_demo(Path(tmp) / "demo", trades=trades, log=lambda *a: None)
        store = Store(f"sqlite:///{Path(tmp) / 'demo' / 'otclab.db'}")
        feed = Path(tmp) / "feed"
        cache: dict = {}
        at = dt.datetime.now(CST)
        for i in range(runs):
            D.demo_tick(store, feed, as_of=at + dt.timedelta(minutes=10 * i), seed=i)
            rep = run_refresh(store, FolderFeed(feed, settle=0), paths=paths, device="cpu", grid=False, cache=cache)
            tm = rep.timing
            out.append({"trades": rep.trades, "total": rep.wall_s, "value": tm["value_s"], "views": tm["views_s"],
                        "other": rep.wall_s - tm["value_s"] - tm["views_s"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trades", type=int, default=4800)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--paths", type=int, default=50)
    ap.add_argument("--baseline", metavar="DIR", help="an earlier tree (git archive REV otclab payoffs)")
    ap.add_argument("--code", metavar="DIR", help=argparse.SUPPRESS)      # the child's code
    args = ap.parse_args()
    if args.code:
        print(json.dumps(measure(Path(args.code), args.trades, args.runs, args.paths)))
        return
    sides = []
    if args.baseline:
        child = subprocess.run([sys.executable, __file__, "--code", args.baseline, "--trades", str(args.trades),
                                "--runs", str(args.runs), "--paths", str(args.paths)],
                               capture_output=True, text=True, check=True)
        sides.append(("baseline", json.loads(child.stdout.strip().splitlines()[-1])))
    sides.append(("current", measure(ROOT, args.trades, args.runs, args.paths)))
    print(f"risk refresh host side on the CPU, demo store of {args.trades} trades, {args.paths} paths, no grid; "
          f"runs in order (the first compiles)")
    print(f"{'code':<9} {'run':<5} {'trades':>6} {'total s':>8} {'value':>7} {'views':>7} {'other':>7}")
    for name, rows in sides:
        for i, r in enumerate(rows):
            print(f"{name:<9} {'cold' if i == 0 else 'warm':<5} {r['trades']:>6} {r['total']:>8.3f} {r['value']:>7.3f} "
                  f"{r['views']:>7.3f} {r['other']:>7.3f}")
    if len(sides) == 2:
        med = {n: {k: statistics.median(r[k] for r in rows[1:]) for k in ("views", "other")} for n, rows in sides}
        b, c = med["baseline"], med["current"]
        print(f"warm medians: views {b['views']:.3f} -> {c['views']:.3f} s, other {b['other']:.3f} -> "
              f"{c['other']:.3f} s; views + other {b['views'] + b['other']:.3f} -> {c['views'] + c['other']:.3f} s")


if __name__ == "__main__":
    main()
