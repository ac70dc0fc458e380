"""Monte Carlo expectation of a path payoff with standard error, in memory-bounded chunks.

The payoff receives relative levels of shape (paths, steps) and returns one present value per
path. The same seed reproduces the same random numbers for any bumped market (common random
numbers for Greeks), provided the grid and chunking are unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .paths import make_rng, simulate_levels


@dataclass(frozen=True)
class MCResult:
    mean: float
    stderr: float
    paths: int


def default_chunk(n_steps: int, xp) -> int:
    """Paths per chunk so that one chunk of levels stays near 64 MB (1 GB on a GPU)."""
    budget = (1 << 30) if xp.__name__ == "cupy" else (64 << 20)
    return max(1024, int(budget // (8 * 3 * max(n_steps, 1))) // 2 * 2)


def mc_expectation(payoff, *, n_paths: int, log_s0: float, drift, vol_sqrt_dt, seed: int | None = 0,
                   antithetic: bool = True, xp=np, chunk_paths: int | None = None,
                   dtype=None, progress=None, z_offset: int = 0) -> MCResult:
    """E[payoff(levels)] over ``n_paths`` GBM paths; ``drift``/``vol_sqrt_dt`` per step (arrays).

    With ``antithetic`` the paths come in (Z, -Z) pairs and the standard error is computed from
    pair averages. ``progress(done, total)`` is called after each chunk when given.
    ``z_offset`` draws that many extra leading normals per path and drops them: a grid that
    lost its first date (tomorrow's valuation) then reuses today's numbers for its dates.
    """
    dtype = dtype or xp.float64
    drift = xp.asarray(drift, dtype=dtype)
    vsd = xp.asarray(vol_sqrt_dt, dtype=dtype)
    n_steps = int(drift.shape[0])
    n_draw = n_steps + int(z_offset)
    chunk = int(chunk_paths or default_chunk(n_draw, xp))
    if antithetic:
        chunk = max(2, chunk // 2 * 2)
    rng = make_rng(xp, seed)
    total = s1 = s2 = 0.0
    samples = 0
    done = 0
    while done < n_paths:
        m = min(chunk, n_paths - done)
        if antithetic:
            half = max(1, (m + 1) // 2)
            z = rng.standard_normal((half, n_draw), dtype=dtype)[:, z_offset:]
            z = xp.concatenate([z, -z], axis=0)
        else:
            z = rng.standard_normal((m, n_draw), dtype=dtype)[:, z_offset:]
        levels = simulate_levels(xp, z, log_s0, drift, vsd)
        del z
        v = xp.asarray(payoff(levels), dtype=xp.float64)
        if antithetic:
            h = v.shape[0] // 2
            v = 0.5 * (v[:h] + v[h:])
            done += 2 * h
        else:
            done += v.shape[0]
        s1 += float(v.sum())
        s2 += float((v * v).sum())
        samples += int(v.shape[0])
        total = done
        if progress is not None:
            progress(min(done, n_paths), n_paths)
    mean = s1 / samples
    var = max(s2 / samples - mean * mean, 0.0)
    se = math.sqrt(var / max(samples - 1, 1))
    return MCResult(mean=mean, stderr=se, paths=total)
