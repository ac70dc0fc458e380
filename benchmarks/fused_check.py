"""GPU correctness of the fused kernel (run on a machine with CuPy and an NVIDIA GPU).

    python benchmarks/fused_check.py [--contracts 60] [--paths 400000] [--seed N]

1. Kernel vs its NumPy reference on the same random numbers: the same program, so the values
   agree to float32 rounding (a path may flip across a barrier by rounding: reported).
2. Fused kernel vs the generic engine (template payoff cells on CuPy arrays, independent
   random numbers; PDE where the template has one) on FRESH random contracts (seeded by the
   clock unless --seed): every difference is reported in combined standard errors.
3. Greeks: the kernel's against the NumPy reference's on the same random numbers (same program:
   float32 rounding), then the kernel's (delta, gamma, vega, theta, rho with standard errors from
   batch means) against the generic engine's on the fresh contracts: the PDE where the template
   has one (the same difference definitions, pricing/price.py), else generic Monte Carlo on
   independent paths; each within 4 combined standard errors plus the PDE's floor.
4. Batched PDE: the CUDA Thomas kernel against the same solve on NumPy, and against the generic
   PDE engine, for the contracts the batched PDE supports (vol shift 0 and +2 points), theta too.
A fused value passes when it is within 4 combined standard errors of the generic one, plus
1e-6 of notional: float32 paths round at that level, which matters only where the MC error is
~0 (a contract whose outcome is certain). Against the PDE the PDE's own discretisation error adds
2e-4 of notional. Batched PDE rows pass within 3e-4 of notional of the generic PDE.
Exit 1 if any check fails.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otclab.book.pricing import compile_book  # noqa: E402
from otclab.book.synthetic import synthetic_book, synthetic_market  # noqa: E402
from otclab.engines.fused.cuda import run_cuda  # noqa: E402
from otclab.engines.fused.program import build_batch  # noqa: E402
from otclab.engines.fused.reference import run_numpy  # noqa: E402
from otclab.pricing import price  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=60)
    ap.add_argument("--paths", type=int, default=400_000)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time()) % 100_000
    import cupy

    print(f"GPU: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}  book seed {seed}")
    mkt = synthetic_market()
    book = synthetic_book(a.contracts, seed=seed)
    fused, generic = compile_book(book, mkt)
    batch = build_batch([(ctx, prog) for _, ctx, prog in fused])

    # 1. same random numbers: kernel vs NumPy reference
    m_ref, s_ref = run_numpy(batch, 4000, 1)
    m_gpu, s_gpu = run_cuda(batch, 4000, 1)
    rel = np.abs(m_gpu - m_ref) / np.maximum(np.abs(m_ref), 1e-9)
    print(f"[1] kernel vs NumPy reference, same normals, 4000 paths, {batch.n_rows} rows: "
          f"median rel diff {np.median(rel):.2e}, max {rel.max():.2e}, "
          f"max in reference s.e. {np.max(np.abs(m_gpu - m_ref) / np.maximum(s_ref, 1e-12)):.3f}")

    # 2. fresh contracts: fused kernel vs generic engine
    t0 = time.perf_counter()
    mean, se = run_cuda(batch, a.paths, seed + 1)
    cupy.cuda.Device().synchronize()
    t_fused = time.perf_counter() - t0
    print(f"[2] fused kernel, {len(fused)} contracts x {a.paths:,} paths: {t_fused:.3f} s")
    print(f"{'id':<8}{'template':<16}{'engine':<6}{'fused':>16}{'± se':>11}{'generic':>16}{'± se':>11}{'z':>7}")
    worst, bad = 0.0, 0
    for (i, ctx, _), m, s in zip(fused, mean, se):
        c = book[i]
        req = {"template": c["template"], "terms": c["terms"], "market": mkt, **({"state": c["state"]} if "state" in c else {})}
        eng = "pde" if ctx.template.has_pde else "mc"
        ref = price(req, engine=eng, paths=a.paths, seed=seed + 2, device="gpu" if eng == "mc" else "cpu")
        N = ctx.notional
        se_c = math.hypot(N * s, ref.stderr or 0.0)
        floor = 1e-6 * N + (2e-4 * N if eng == "pde" else 0.0)
        z = (N * m - ref.value) / max(se_c, 1e-12)
        ok = abs(N * m - ref.value) <= 4 * se_c + floor
        worst = max(worst, abs(N * m - ref.value) / (4 * se_c + floor))
        bad += not ok
        print(f"{c['id']:<8}{c['template'][:15]:<16}{eng:<6}{N * m:>16,.2f}{N * s:>11,.2f}{ref.value:>16,.2f}"
              f"{(ref.stderr or 0):>11,.2f}{z:>7.2f}{'' if ok else '  BEYOND'}")
    print(f"{len(fused)} contracts; largest |difference| / tolerance = {worst:.2f}; beyond tolerance: {bad}")

    # 3. Greeks: kernel vs reference on the same numbers, then kernel vs generic engines
    g_bad = greeks_section(book, mkt, fused, a.paths, seed)

    # 4. batched PDE on the GPU: up to two contracts of each kind it supports
    from otclab.engines.fused.pde import price_batched, supported

    kinds: dict = {}
    for i, ctx, prog in fused:
        if supported(prog):
            kinds.setdefault((book[i]["template"], bool(prog.get("memory"))), []).append((i, ctx, prog))
    sel = [x for group in kinds.values() for x in group[:2]]
    items = [(ctx, prog) for _, ctx, prog in sel]
    t0 = time.perf_counter()
    v_gpu = price_batched(items, (0.0, 0.02), (0.0,), cupy)
    t_gpu = time.perf_counter() - t0
    v_cpu = price_batched(items, (0.0, 0.02), (0.0,), np)
    gap = max(abs(float(v_gpu[k][0] - v_cpu[k][0])) for k in v_gpu)
    print(f"[4] batched PDE, {len(v_gpu)} rows ({len(sel)} contracts x 2 vol shifts): GPU {t_gpu:.2f} s; "
          f"max |GPU - NumPy| = {gap:.2e} of notional")
    pde_bad = 0
    for (j, dv), v in sorted(v_gpu.items()):
        i, ctx, prog = sel[j]
        c = book[i]
        m2 = {**mkt, "vols": {u: x for u, x in mkt["vols"].items()}}
        m2["vols"][ctx.underlying] = {"tenors": mkt["vols"][ctx.underlying]["tenors"],
                                      "vols": [x + dv for x in mkt["vols"][ctx.underlying]["vols"]]}
        ref = price({"template": c["template"], "terms": c["terms"], "market": m2,
                     **({"state": c["state"]} if "state" in c else {})}, engine="pde").value
        diff = (ctx.notional * v[0] - ref) / ctx.notional
        pde_bad += abs(diff) > 3e-4
        label = c["template"] + ("+memory" if prog.get("memory") else "")
        print(f"    {c['id']:<8}{label:<17} vol{dv:+.2f} batched {ctx.notional * v[0]:>16,.2f} generic {ref:>16,.2f}"
              f"  diff {diff:+.2e} of notional")
    _, th_gpu = price_batched(items, (0.0,), (0.0,), cupy, theta=True)
    th_bad = 0
    for (j, dv), t in sorted(th_gpu.items()):
        i, ctx, prog = sel[j]
        c = book[i]
        ref = price({"template": c["template"], "terms": c["terms"], "market": mkt,
                     **({"state": c["state"]} if "state" in c else {})}, engine="pde", greeks=True).greeks["theta"]
        th_bad += abs(ctx.notional * t - ref) > 1e-4 * ctx.notional
    print(f"    batched PDE theta (GPU) against the generic PDE's: {len(th_gpu) - th_bad} of {len(th_gpu)} within "
          f"1e-4 of notional")
    return 1 if (bad or pde_bad or g_bad or th_bad) else 0


COMPARED = ("cash_delta", "cash_gamma_1pct", "vega", "theta", "rho")
FLOOR = {"cash_delta": 2e-3, "cash_gamma_1pct": 5e-3, "vega": 4e-5, "theta": 2e-5, "rho": 4e-5}


def greeks_section(book, mkt, fused, paths, seed) -> int:
    """[3]: Greeks by the kernel against the NumPy reference and against the generic engines."""
    from otclab.book import price_book

    contracts = [book[i] for i, _, _ in fused]
    cpu = price_book(contracts, mkt, paths=4000, seed=1, greeks=True, device="cpu")
    gpu_same = price_book(contracts, mkt, paths=4000, seed=1, greeks=True, device="gpu")
    worst = {k: float(np.max(np.abs(gpu_same[k] - cpu[k]) / cpu["id"].map(
        {c["id"]: c["terms"]["notional"] for c in contracts}))) for k in COMPARED}
    print("[3] Greeks, kernel vs NumPy reference, same normals, 4000 paths: worst |GPU - CPU| / notional "
          + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    t0 = time.perf_counter()
    gpu = price_book(contracts, mkt, paths=paths, seed=seed + 3, greeks=True, device="gpu")
    print(f"    fused Greeks, {len(contracts)} contracts x {paths:,} paths x 8 tasks: {time.perf_counter() - t0:.2f} s; "
          "against the generic engine (PDE, else MC), in combined standard errors:")
    print(f"    {'id':<8}{'template':<16}{'ref':<5}" + "".join(f"{k:>22}" for k in COMPARED))
    bad = 0
    for c, (_, row) in zip(contracts, gpu.iterrows()):
        req = {"template": c["template"], "terms": c["terms"], "market": mkt, **({"state": c["state"]} if "state" in c else {})}
        ref = price(req, greeks=True, paths=paths, seed=seed + 4, device="gpu")
        N = c["terms"]["notional"]
        cells = []
        for k in COMPARED:
            se_r = ref.greeks_se.get(k) or 0.0
            se = math.hypot(row[f"{k}_se"] or 0.0, se_r)
            scale = 0.01 if k in ("cash_delta", "cash_gamma_1pct") else 1.0
            floor = (FLOOR[k] * N / scale) if ref.engine != "mc" else 1e-6 * N
            d = row[k] - ref.greeks[k]
            ok = abs(d) <= 4 * se + floor
            bad += not ok
            cells.append(f"{d / max(se, 1e-12):+.2f}" + ("" if ok else " BEYOND"))
        print(f"    {c['id']:<8}{c['template'][:15]:<16}{ref.engine:<5}" + "".join(f"{x:>22}" for x in cells))
    print(f"    Greeks beyond 4 s.e. + floor: {bad} of {len(contracts) * len(COMPARED)}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
