"""Counter-based normals: Philox4x32-10 and Box–Muller, identical on NumPy and in the CUDA kernel.

The normal for path pair ``p`` at step ``z`` of underlying ``key`` depends on nothing else, so
contracts on one underlying share paths, bumped scenarios reuse them (common random numbers),
and a grid that starts one day later reads the same numbers shifted by one step.
Counter = (z // 4, p, 0, 0), key = (seed, underlying key); the four 32-bit outputs give the
normals for steps 4·(z//4) … 4·(z//4)+3 (Box–Muller on pairs, float32).
"""
from __future__ import annotations

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
MASK = np.uint64(0xFFFFFFFF)


def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on uint32 arrays (broadcasting); returns four uint32 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint32) for c in (c0, c1, c2, c3))
    k0, k1 = np.uint32(k0), np.uint32(k1)
    for _ in range(10):
        p0 = M0 * c0.astype(np.uint64)
        p1 = M1 * c2.astype(np.uint64)
        hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & MASK).astype(np.uint32)
        hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & MASK).astype(np.uint32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = np.uint32((int(k0) + int(W0)) & 0xFFFFFFFF)
        k1 = np.uint32((int(k1) + int(W1)) & 0xFFFFFFFF)
    return c0, c1, c2, c3


def _box_muller(a, b):
    u1 = (a.astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-32)
    u2 = (b.astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-32)
    r = np.sqrt(np.float32(-2.0) * np.log(u1))
    t = np.float32(2.0 * np.pi) * u2
    return r * np.cos(t), r * np.sin(t)


def normals(seed: int, key: int, n_pairs: int, z_count: int, z_start: int = 0) -> np.ndarray:
    """Normals of shape (n_pairs, z_count) for steps z_start … z_start + z_count − 1 (float32)."""
    p = np.arange(n_pairs, dtype=np.uint32)
    g0, g1 = z_start // 4, (z_start + z_count - 1) // 4
    cols = []
    for g in range(g0, g1 + 1):
        x0, x1, x2, x3 = philox4x32(np.uint32(g), p, np.uint32(0), np.uint32(0), seed & 0xFFFFFFFF, key & 0xFFFFFFFF)
        z0, z1 = _box_muller(x0, x1)
        z2, z3 = _box_muller(x2, x3)
        cols += [z0, z1, z2, z3]
    out = np.stack(cols, axis=1)
    off = z_start - 4 * g0
    return out[:, off:off + z_count]
