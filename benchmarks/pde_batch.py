"""The batched PDE of a scenario grid, batch by batch (run on a GPU; --device cpu for a small book).

    python3 benchmarks/pde_batch.py [--contracts 2000] [--vol-shifts 9] [--block 128 64 32]
    python3 benchmarks/pde_batch.py --device cpu --contracts 60 --vol-shifts 3 --baseline 2e29d97

Solves every contract of the synthetic book × vol shifts with ``price_batched`` (batches: two
states, memory phoenixes, continuous barriers, Asians) and prints rows, states, substeps a day
and seconds per batch for each Thomas-kernel block size given, and the largest difference
between block sizes (they must agree to rounding). ``--generic K`` adds the generic PDE (one
contract at a time, value and Greeks) of the book's first K contracts that have a PDE.

``--baseline REV`` also runs the same benchmark on the package as it was at git revision REV
(``git archive`` into a temporary folder, run there in a subprocess of this script, on this
machine, in this run) and prints both timings side by side with the largest difference of the
values (of notional, and relative to the value) between that code and this one. ``--repeat K``
alternates the two K times and keeps each batch's least time (a shared machine's load only
adds time).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _bench(a) -> tuple[list, dict]:
    """Timings (one list of batch dicts per block size) and values {"i,dv": value} of the
    package on sys.path."""
    from otclab.book.pricing import compile_book
    from otclab.book.synthetic import synthetic_book, synthetic_market
    from otclab.engines.fused import pde

    try:
        from otclab.engines.pde import stepper
    except ImportError:          # code from before the shared stepper: the block size lived in fused/pde.py
        stepper = pde
    if a.device == "gpu":
        import cupy as xp

        print(f"GPU: {xp.cuda.runtime.getDeviceProperties(0)['name'].decode()}", file=sys.stderr)
    else:
        xp = np
    fused, _ = compile_book(synthetic_book(a.contracts, seed=7), synthetic_market())
    items = [(ctx, prog) for _, ctx, prog in fused if pde.supported(prog)]
    vs = np.linspace(-0.05, 0.05, a.vol_shifts)
    pde.price_batched(items[:3], (0.0,), (0.0,), xp)         # compile the kernel
    runs, first = [], None
    for block in a.block:
        stepper.THOMAS_BLOCK = block
        timings: list = []
        t0 = time.perf_counter()
        vals = pde.price_batched(items, vs, (0.0,), xp, timings=timings)
        runs.append({"block": block, "batches": timings, "total": time.perf_counter() - t0,
                     "items": len(items), "shifts": len(vs)})
        if first is None:
            first = vals
        else:
            runs[-1]["diff"] = max(abs(float(vals[k][0] - first[k][0])) for k in vals)
    values = {f"{i},{dv!r}": float(v[0]) for (i, dv), v in first.items()}
    if a.generic:
        runs.append(_generic(a, values))
    return runs, values


def _generic(a, values: dict) -> dict:
    """The generic PDE (``price(..., engine="pde", greeks=True)``: one contract at a time, its
    states as systems) on the first ``a.generic`` contracts of the book that have a PDE; values
    (of notional) into ``values`` under "generic:<id>:<output>"."""
    from otclab.book.synthetic import synthetic_book, synthetic_market
    from otclab.core.errors import OtcError
    from otclab.pricing import price

    market = synthetic_market()
    t0, n = time.perf_counter(), 0
    for trade in synthetic_book(a.contracts, seed=7):
        if n == a.generic:
            break
        req = {k: trade[k] for k in ("template", "terms", "state", "fixings") if k in trade}
        try:
            res = price({**req, "market": market}, engine="pde", greeks=True)
        except OtcError:
            continue           # no PDE for this template
        n += 1
        notional = float(trade["terms"]["notional"])
        values[f"generic:{trade['id']}:value"] = res.value / notional
        for g in ("delta", "gamma", "vega", "theta"):
            values[f"generic:{trade['id']}:{g}"] = float(res.greeks[g]) / notional
    return {"block": "generic", "batches": [{"rows": n, "states": "", "substeps": "", "seconds":
                                              time.perf_counter() - t0}], "total": time.perf_counter() - t0}


def _baseline_runner(a, tmp: str):
    """A function running the benchmark on the package extracted into ``tmp``, in a subprocess."""
    out = Path(tmp) / "result.json"
    args = [sys.executable, str(Path(__file__).resolve()), "--code", tmp, "--dump", str(out),
            "--contracts", str(a.contracts), "--vol-shifts", str(a.vol_shifts), "--device", a.device,
            "--generic", str(a.generic), "--block", *map(str, a.block)]

    def run() -> tuple[list, dict]:
        subprocess.run(args, check=True, env={**os.environ, "PYTHONPATH": tmp})
        res = json.loads(out.read_text(encoding="utf-8"))
        return res["runs"], res["values"]
    return run


def _fastest(runs_list: list) -> list:
    """Per block size and batch, the least seconds over repeats (the machine's load only adds)."""
    best = json.loads(json.dumps(runs_list[0]))
    for runs in runs_list[1:]:
        for b, r in zip(best, runs):
            b["total"] = min(b["total"], r["total"])
            for bt, t in zip(b["batches"], r["batches"]):
                bt["seconds"] = min(bt["seconds"], t["seconds"])
    return best


def _print(runs: list, label: str = "") -> None:
    for r in runs:
        for t in r["batches"]:
            print(f"{label}{r['block']:>6}{t['rows']:>8}{t['states']:>8}{t['substeps']:>10}{t['seconds']:>10.3f}")
        if r["block"] != "generic":
            print(f"{label}{r['block']:>6}{'all':>8}{'':>8}{'':>10}{r['total']:>10.3f}")
        if "diff" in r:
            print(f"       largest difference from block {runs[0]['block']}: {r['diff']:.2e} of notional")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--vol-shifts", type=int, default=9)
    ap.add_argument("--block", type=int, nargs="+", default=[128])
    ap.add_argument("--device", choices=("gpu", "cpu"), default="gpu")
    ap.add_argument("--baseline", metavar="REV", help="also time the code at this git revision (or in this folder, "
                    "holding otclab/ and payoffs/), in this run")
    ap.add_argument("--repeat", type=int, default=1, help="with --baseline: alternate both this many times")
    ap.add_argument("--generic", type=int, default=0, metavar="K",
                    help="also time the generic PDE (value and Greeks) of the book's first K contracts with a PDE")
    ap.add_argument("--show", type=int, default=6, help="with --baseline: list this many values of each kind")
    ap.add_argument("--code", help=argparse.SUPPRESS)     # the package's folder (the baseline's subprocess)
    ap.add_argument("--dump", help=argparse.SUPPRESS)     # write timings and values there as JSON
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    sys.path.insert(0, a.code or str(ROOT))
    if a.dump:
        runs, values = _bench(a)
        Path(a.dump).write_text(json.dumps({"runs": runs, "values": values}), encoding="utf-8")
        return 0
    if not a.baseline:
        runs, values = _bench(a)
        print(f"{runs[0]['items']} contracts x {runs[0]['shifts']} vol shifts, device {a.device}")
        print(f"{'block':>6}{'rows':>8}{'states':>8}{'substeps':>10}{'seconds':>10}")
        _print(runs)
        return 0
    with tempfile.TemporaryDirectory(prefix="pde-baseline-") as tmp:
        if Path(a.baseline).is_dir():    # a tree extracted beforehand (a machine without the repository's .git)
            tmp = str(Path(a.baseline).resolve())
        else:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", a.baseline, "otclab", "payoffs"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        run_baseline = _baseline_runner(a, tmp)
        b_all, c_all = [], []
        for _ in range(a.repeat):          # alternated, so that a change in the machine's load hits both
            b_runs, b_values = run_baseline()
            runs, values = _bench(a)
            b_all.append(b_runs)
            c_all.append(runs)
    b_runs, runs = _fastest(b_all), _fastest(c_all)
    print(f"{runs[0]['items']} contracts x {runs[0]['shifts']} vol shifts, device {a.device}; "
          f"least seconds of {a.repeat} alternated run(s) each")
    print(f"baseline: the code at {a.baseline}; current: this checkout (same machine, same run)")
    print(f"{'block':>6}{'rows':>8}{'states':>8}{'substeps':>10}{'baseline s':>12}{'current s':>11}{'speed-up':>10}")
    for br, r in zip(b_runs, runs):
        total = [] if r["block"] == "generic" else [{"rows": "all", "states": "", "substeps": "", "seconds": br["total"]}]
        for bt, t in zip(br["batches"] + total, r["batches"] + [{"seconds": r["total"]}]):
            print(f"{r['block']:>6}{bt['rows']:>8}{bt['states']:>8}{bt['substeps']:>10}{bt['seconds']:>12.3f}"
                  f"{t['seconds']:>11.3f}{bt['seconds'] / t['seconds']:>9.2f}x")
    both = sorted(set(values) & set(b_values))
    for name, keys in (("batched PDE values", [k for k in both if not k.startswith("generic:")]),
                       ("generic PDE values and Greeks", [k for k in both if k.startswith("generic:")])):
        if not keys:
            continue
        diff = max(abs(values[k] - b_values[k]) for k in keys)
        big = [k for k in keys if abs(b_values[k]) >= 1e-4]
        rel = max((abs(values[k] - b_values[k]) / abs(b_values[k]) for k in big), default=0.0)
        print(f"{name}: {len(keys)} in both; largest difference {diff:.2e} of notional; "
              f"{rel:.2e} relative (the {len(big)} worth >= 1e-4 of notional)")
        if a.show:
            print(f"    {'row (item,vol shift) / id:output':<34}{'baseline':>24}{'current':>24}   difference")
        for k in keys[:a.show]:
            d = abs(values[k] - b_values[k])
            print(f"    {k:<34}{b_values[k]:>+24.15e}{values[k]:>+24.15e}   "
                  f"{d / abs(b_values[k]) if b_values[k] else d:.1e}{'' if b_values[k] else ' abs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
