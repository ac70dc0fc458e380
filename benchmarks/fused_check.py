"""GPU correctness of the fused kernel (run on a machine with CuPy and an NVIDIA GPU).

    python benchmarks/fused_check.py [--contracts 60] [--paths 400000] [--seed N]

1. Kernel vs its NumPy reference on the same random numbers: the same program, so the values
   agree to float32 rounding (a path may flip across a barrier by rounding: reported).
2. Fused kernel vs the generic engine (template payoff cells on CuPy arrays, independent
   random numbers; PDE where the template has one) on FRESH random contracts (seeded by the
   clock unless --seed): every difference is reported in combined standard errors.
3. Batched PDE: the CUDA Thomas kernel against the same solve on NumPy, and against the generic
   PDE engine, for the contracts the batched PDE supports (vol shift 0 and +2 points).
Exit 1 if a value differs by more than 4 standard errors (or 1e-3 of notional for the PDE).
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
    print(f"{'id':<8}{'template':<10}{'engine':<6}{'fused':>16}{'± se':>11}{'generic':>16}{'± se':>11}{'z':>7}")
    worst, bad = 0.0, 0
    for (i, ctx, _), m, s in zip(fused, mean, se):
        c = book[i]
        req = {"template": c["template"], "terms": c["terms"], "market": mkt, **({"state": c["state"]} if "state" in c else {})}
        eng = "pde" if ctx.template.has_pde else "mc"
        ref = price(req, engine=eng, paths=a.paths, seed=seed + 2, device="gpu" if eng == "mc" else "cpu")
        N = ctx.notional
        if eng == "pde":
            z = (N * m - ref.value) / max(N * s, 1e-12)
            ok = abs(N * m - ref.value) <= 4 * N * s + 1e-3 * N
        else:
            z = (N * m - ref.value) / math.hypot(N * s, ref.stderr)
            ok = abs(z) <= 4
        worst = max(worst, abs(z))
        bad += not ok
        print(f"{c['id']:<8}{c['template']:<10}{eng:<6}{N * m:>16,.2f}{N * s:>11,.2f}{ref.value:>16,.2f}"
              f"{(ref.stderr or 0):>11,.2f}{z:>7.2f}")
    print(f"{len(fused)} contracts, max |z| = {worst:.2f}, beyond tolerance: {bad}")

    # 3. batched PDE on the GPU
    from otclab.engines.fused.pde import build_pde, read_values, solve_pde, supported

    sel = [(i, ctx, prog) for i, ctx, prog in fused if supported(prog)][:12]
    pb = build_pde([(ctx, prog) for _, ctx, prog in sel], vol_shifts=(0.0, 0.02), n_x=601)
    t0 = time.perf_counter()
    v_gpu = read_values(pb, solve_pde(pb, cupy), [0.0])[:, 0]
    t_gpu = time.perf_counter() - t0
    v_cpu = read_values(pb, solve_pde(pb, np), [0.0])[:, 0]
    print(f"[3] batched PDE, {len(pb.rows)} rows: GPU {t_gpu:.2f} s; max |GPU - NumPy| = "
          f"{np.max(np.abs(v_gpu - v_cpu)):.2e} of notional")
    pde_bad = 0
    for (j, dv), v in zip(pb.rows, v_gpu):
        i, ctx, _ = sel[j]
        c = book[i]
        m2 = {**mkt, "vols": {u: x for u, x in mkt["vols"].items()}}
        m2["vols"][ctx.underlying] = {"tenors": mkt["vols"][ctx.underlying]["tenors"],
                                      "vols": [x + dv for x in mkt["vols"][ctx.underlying]["vols"]]}
        ref = price({"template": c["template"], "terms": c["terms"], "market": m2,
                     **({"state": c["state"]} if "state" in c else {})}, engine="pde").value
        diff = (ctx.notional * v - ref) / ctx.notional
        pde_bad += abs(diff) > 1e-3
        print(f"    {c['id']:<8}{c['template']:<10} vol{dv:+.2f} batched {ctx.notional * v:>16,.2f} generic {ref:>16,.2f}"
              f"  diff {diff:+.2e} of notional")
    return 1 if (bad or pde_bad) else 0


if __name__ == "__main__":
    sys.exit(main())
