import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np, cupy as cp
from otclab.book.pricing import compile_book
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.engines.fused import cuda as fc
from otclab.engines.fused.program import build_batch, COL, SCALARS
book = synthetic_book(2000, seed=7)
fused, _ = compile_book(book, synthetic_market())
b = build_batch([(c, p) for _, c, p in fused])
cur = fc._SRC
old = open(Path(__file__).with_name("old_src.cu")).read()
variants = {"current": cur,
            "float_w": cur.replace("double pv; double w; }", "double pv; float w; }").replace("p.w *= 1.0 - ph", "p.w *= (float)(1.0 - ph)"),
            "old(compile only)": old}
for lb in (2, 3, 4):
    variants[f"current_lb{lb}"] = cur.replace('extern "C" __global__ void fused_mc(', f'extern "C" __global__ void __launch_bounds__(256, {lb}) fused_mc(')
for name, src in variants.items():
    k = cp.RawKernel(src % {"NS": len(SCALARS), **COL}, "fused_mc", options=("-std=c++14",))
    regs = k.num_regs
    if name.startswith("old"):
        print(f"{name:<20} regs {regs}"); continue
    fc._KERNEL = k
    fc.run_cuda(b, 2048, 1)
    ts = []
    for _ in range(3):
        cp.cuda.Device().synchronize(); t0 = time.perf_counter()
        m, s = fc.run_cuda(b, 100_000, 5)
        cp.cuda.Device().synchronize(); ts.append(time.perf_counter() - t0)
    print(f"{name:<20} regs {regs:>4}  value pass {min(ts):.4f} s  {b.path_steps(100_000)/min(ts):.3e} path-steps/s  v0={m[0]:.8f}")
# per family
fam_names = {0: "european", 1: "barrier", 2: "autocall", 3: "asian"}
fc._KERNEL = None
for f, nm in fam_names.items():
    sel = [(c, p) for _, c, p in fused if {"european":0,"barrier":1,"autocall":2,"asian":3}[p["family"]] == f]
    bb = build_batch(sel)
    fc.run_cuda(bb, 2048, 1); cp.cuda.Device().synchronize(); t0 = time.perf_counter()
    fc.run_cuda(bb, 100_000, 5); cp.cuda.Device().synchronize(); t = time.perf_counter() - t0
    print(f"family {nm:<10} rows {bb.n_rows:>5} {t:.4f} s {bb.path_steps(100_000)/t:.3e} path-steps/s")
