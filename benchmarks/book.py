"""Book-scale benchmark: a reproducible synthetic book priced with Greeks and scenario grids.

    python benchmarks/book.py --contracts 2000 --paths 100000 --device gpu --greeks --scenarios
    python benchmarks/book.py --contracts 50 --paths 20000 --device cpu --greeks

Prints one table: stage, contracts, paths, device, seconds, path-steps per second; then, in the
same run, the CPU baseline (NumPy reference of the same fused program, --cpu-contracts ×
--cpu-paths) and the GPU/CPU ratio of path-steps per second. Stages:
  compile     contexts and programs of every contract (once per book and day: terms, dates);
              "refresh, cached": the same on a moved market with the day's cache (spot, curves
              and vols re-read, programs reused), what every refresh pays
  rows        market data into per-contract arrays (every refresh; a theta row too with Greeks)
  value       the fused pass for the base rows
  greeks      base + 7 bumped tasks (spot ±1%, vol ±1pt, rate ±10bp, theta), one pass
  scenarios   spot −30%…+30% (41) × vol ±5pt (9) for the whole book: all by fused MC (one pass),
              and (GPU) by the batched PDE where the program allows (spot axis read off the
              grid, one solve per vol shift) with MC for the rest, end to end
  snowball    one 1-year snowball, 1M paths: value and fair coupon (two rows, one pass)

Then the host side (``--host-only`` prints only this), best of ``--repeats``: each stage by the
contract-by-contract reference (the code before the batched layout, kept as the reference) and
by the batched path, in the same run, with the issue's targets:
  compile (cold)          contexts and programs from terms (once per book and day)
  refresh compile         the same contracts on a moved market, with the day's cache
  layout (once a day)     the market-independent part of every row (``BatchLayout``)
  rows (value / greeks)   market data into the kernel's arrays, every refresh
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.book.pricing import GREEK_SCENARIOS, _as_market, compile_book  # noqa: E402
from otclab.book.scenarios import grid_scenarios  # noqa: E402
from otclab.book.synthetic import synthetic_book, synthetic_market  # noqa: E402
from otclab.engines.fused.layout import BatchLayout  # noqa: E402
from otclab.engines.fused.program import BASE, build_batch, build_batch_reference  # noqa: E402


def runner(device):
    if device == "gpu":
        import cupy

        from otclab.engines.fused.cuda import run_cuda

        def run(batch, paths, seed):
            out = run_cuda(batch, paths, seed)
            cupy.cuda.Device().synchronize()
            return out
        return run
    from otclab.engines.fused.reference import run_numpy
    return run_numpy


def timed(fn, *a):
    t0 = time.perf_counter()
    out = fn(*a)
    return out, time.perf_counter() - t0


def steps(batch, paths):
    return batch.path_steps(paths)


def moved_market(mkt: dict) -> dict:
    """The market a few minutes later: spots +0.5%, vols +0.2 points."""
    return {**mkt, "spots": {u: s * 1.005 for u, s in mkt["spots"].items()},
            "vols": {u: {**v, "vols": [x + 0.002 for x in v["vols"]]} for u, v in mkt["vols"].items()}}


def bench(n, paths, device, greeks, scenarios, scen_paths, seed=7, quiet=False):
    run = runner(device)
    mkt = synthetic_market()
    book = synthetic_book(n, seed=seed)
    rows = []
    cache: dict = {}
    (fused, generic), t = timed(compile_book, book, mkt, cache)
    rows.append(("compile", len(book), None, t, None))
    # a refresh later the same day: spots and vols moved, contexts re-read them from the cache
    (fused, generic), t_refresh = timed(compile_book, book, moved_market(mkt), cache)
    rows.append(("compile (refresh, cached)", len(book), None, t_refresh, None))
    items = [(ctx, prog) for _, ctx, prog in fused]
    if device == "gpu":   # compile the kernel and touch the GPU outside the timings
        run(build_batch(items[:2]), 2048, 1)
    b1, tb = timed(build_batch, items, (BASE,))
    rows.append(("rows (value)", len(items), None, tb, None))
    _, tv = timed(run, b1, paths, seed)
    rows.append(("value", len(items), paths, tv, steps(b1, paths) / tv))
    if greeks:
        b8, tb8 = timed(build_batch, items, GREEK_SCENARIOS)
        rows.append(("rows (greeks)", len(items), None, tb8, None))
        _, tg = timed(run, b8, paths, seed)
        rows.append(("greeks", len(items), paths, tg, steps(b8, paths) / tg))
        rows.append(("value+greeks total", len(items), paths, tb8 + tg, None))
        rows.append(("refresh: cached compile+total", len(items), paths, t_refresh + tb8 + tg, None))
    if scenarios:
        sc = grid_scenarios(np.linspace(-0.3, 0.3, 41), np.linspace(-0.05, 0.05, 9))
        bs, tbs = timed(build_batch, items, sc)
        rows.append(("rows (scenarios)", len(items), None, tbs, None))
        _, ts = timed(run, bs, scen_paths, seed)
        rows.append(("scenarios 41x9 (MC)", len(items), scen_paths, ts, steps(bs, scen_paths) / ts))
        if device == "gpu":
            from otclab.book.scenarios import scenario_grid

            (long, _), tp = timed(scenario_grid, book, mkt, np.linspace(-0.3, 0.3, 41), np.linspace(-0.05, 0.05, 9),
                                  scen_paths, 20240101, device, "auto")
            n_pde = int((long.groupby("id")["method"].first() == "pde").sum())
            rows.append((f"scenarios 41x9 (PDE {n_pde} + MC)", len(book), scen_paths, tp, None))
            tm = long.attrs["timing"]
            for pb in tm["pde_batches"]:
                rows.append((f"  PDE rows: {pb['states']} st, {pb['substeps']}/day", pb["rows"], None, pb["seconds"], None))
            rows.append(("  MC for the rest", len(book) - n_pde, scen_paths, tm["mc_s"], None))
    return rows, generic


def snowball_stage(device, paths=1_000_000):
    """One 1Y snowball: value and fair coupon from one pass of two rows (value is linear in coupon)."""
    from otclab.pricing.request import parse_request
    from otclab.templates.context import PricingContext

    req = {"template": "snowball", "terms": {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5600.0,
           "start_date": "2025-06-03", "tenor_months": 12, "ko_barrier": 1.03, "ki_barrier": 0.8, "coupon": 0.12,
           "lockup_months": 3}, "market": synthetic_market()}
    run = runner(device)

    def once():
        items = []
        for c in (0.0, 1.0):
            r = parse_request({**req, "terms": {**req["terms"], "coupon": c, "dividend_coupon": c}})
            ctx = PricingContext(r.template, r.terms, r.market)
            items.append((ctx, r.template.get("fused")(ctx)))
        (m, _) = run(build_batch(items), paths, 11)
        a, b = m[0], m[1] - m[0]                # value = a + b * coupon
        return a + b * 0.12, (1.0 - a) / b      # note at par
    once()
    (value, fair), t = timed(once)
    return ("snowball 1M value+fair cpn", 1, paths, t, 243 * paths * 2 / t), value, fair


def best(fn, repeats):
    """(result of the last call, best wall time of ``repeats`` calls)."""
    out, ts = None, []
    for _ in range(repeats):
        out, t = timed(fn)
        ts.append(t)
    return out, min(ts)


def host_side(n: int, repeats: int):
    """Rows (stage, reference seconds, batched seconds, target) of the host-side stages."""
    mkt = synthetic_market()
    book = synthetic_book(n, seed=7)
    moved = moved_market(mkt)
    _, t_cold = best(lambda: compile_book(book, mkt, {}), max(1, repeats // 2))
    cache: dict = {}
    fused, _ = compile_book(book, mkt, cache)
    ctxs = [ctx for _, ctx, _ in fused]
    snap = _as_market(moved)
    _, t_ref_refresh = best(lambda: [c.with_market(snap) for c in ctxs], repeats)
    (fused2, _), t_refresh = best(lambda: compile_book(book, snap, cache), repeats)
    items = [(ctx, prog) for _, ctx, prog in fused2]
    lay, t_layout = best(lambda: BatchLayout(items), max(1, repeats // 2))
    ref_b, t_ref_v = best(lambda: build_batch_reference(items, (BASE,)), repeats)
    new_b, t_v = best(lambda: lay.batch([c for c, _ in items], (BASE,)), repeats)
    _, t_ref_g = best(lambda: build_batch_reference(items, GREEK_SCENARIOS), repeats)
    new_g, t_g = best(lambda: lay.batch([c for c, _ in items], GREEK_SCENARIOS), repeats)
    same = all(np.allclose(getattr(ref_b, k), getattr(new_b, k), rtol=1e-6, atol=0)
               for k in ("dtau", "vol", "carry", "tdisc", "cash", "dfk", "scal", "log_s0"))
    return [("compile (cold, once a day)", None, t_cold, 0.2),
            ("refresh compile (cached)", t_ref_refresh, t_refresh, 0.05),
            ("layout (once a day)", None, t_layout, None),
            ("rows (value)", t_ref_v, t_v, 0.05),
            ("rows (greeks, 8 scenarios)", t_ref_g, t_g, 0.05)], same, new_g


def print_host(rows, same, n, batch):
    print(f"host side, {n} contracts (synthetic_book(seed=7)), {batch.n_rows} rows x {batch.dtau.shape[1]} steps "
          f"with Greeks; best of repeated runs; batched rows equal the reference: {same}")
    print(f"{'stage':<30}{'reference s':>12}{'batched s':>11}{'speed-up':>10}{'target s':>10}  met")
    for name, ref, new, target in rows:
        up = f"{ref / new:9.1f}x" if ref else ""
        met = "" if target is None else ("yes" if new <= target else "no")
        print(f"{name:<30}{(f'{ref:.4f}' if ref else '-'):>12}{new:>11.4f}{up:>10}{(target or '-'):>10}  {met}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contracts", type=int, default=2000)
    ap.add_argument("--paths", type=int, default=100_000)
    ap.add_argument("--device", choices=("cpu", "gpu"), default="gpu")
    ap.add_argument("--greeks", action="store_true")
    ap.add_argument("--scenarios", action="store_true")
    ap.add_argument("--scenario-paths", type=int, default=20_000)
    ap.add_argument("--cpu-contracts", type=int, default=10)
    ap.add_argument("--cpu-paths", type=int, default=10_000)
    ap.add_argument("--host-only", action="store_true", help="only the host-side table")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    if a.host_only:
        rows, same, batch = host_side(a.contracts, a.repeats)
        print_host(rows, same, a.contracts, batch)
        return 0
    where = "CPU (NumPy)"
    if a.device == "gpu":
        import cupy

        where = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    rows, generic = bench(a.contracts, a.paths, a.device, a.greeks, a.scenarios, a.scenario_paths)
    snow, value, fair = snowball_stage(a.device, 1_000_000 if a.device == "gpu" else 100_000)
    rows.append(snow)
    base_rows, _ = bench(a.cpu_contracts, a.cpu_paths, "cpu", True, False, 0)
    cpu_rate = {r[0]: r[4] for r in base_rows if r[4]}
    print(f"device: {where}; book: synthetic_book({a.contracts}, seed=7), {len(generic)} contracts on the generic path")
    print(f"{'stage':<30}{'contracts':>9}{'paths':>12}{'device':>8}{'seconds':>10}{'path-steps/s':>15}{'vs CPU':>9}")
    for name, n, p, t, rate in rows:
        base = cpu_rate.get(name, cpu_rate.get("greeks"))
        ratio = f"{rate / base:8.0f}x" if (rate and base and a.device == "gpu") else ""
        print(f"{name:<30}{n:>9}{(p or ''):>12}{a.device:>8}{t:>10.3f}{(f'{rate:.3e}' if rate else ''):>15}{ratio:>9}")
    print(f"snowball value {value:.6f} of notional, fair coupon {fair:.5f}")
    host, same, batch = host_side(a.contracts, a.repeats)
    print_host(host, same, a.contracts, batch)
    print(f"CPU baseline (same run, NumPy reference, {a.cpu_contracts} contracts x {a.cpu_paths:,} paths):")
    for name, n, p, t, rate in base_rows:
        print(f"  {name:<28}{n:>9}{(p or ''):>12}{'cpu':>8}{t:>10.3f}{(f'{rate:.3e}' if rate else ''):>15}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
