"""GPU correctness of the fused kernel (run on a machine with CuPy and an NVIDIA GPU).

    python benchmarks/fused_check.py [--contracts 60] [--paths 400000] [--seed N]

1. Kernel vs its NumPy reference on the same random numbers: the same program, so the values
   agree to float32 rounding (a path may flip across a barrier by rounding: reported).
2. Fused kernel vs the generic engine (template payoff cells on CuPy arrays, independent
   random numbers; PDE where the template has one) on FRESH random contracts (seeded by the
   clock unless --seed): every difference is reported in combined standard errors.
3. Batched PDE: the CUDA Thomas kernel against the same solve on NumPy, and against the generic
   PDE engine, for the contracts the batched PDE supports (vol shift 0 and +2 points).
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

    # 3. batched PDE on the GPU: up to two contracts of each kind it supports
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
    print(f"[3] batched PDE, {len(v_gpu)} rows ({len(sel)} contracts x 2 vol shifts): GPU {t_gpu:.2f} s; "
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
    return 1 if (bad or pde_bad) else 0


if __name__ == "__main__":
    sys.exit(main())
