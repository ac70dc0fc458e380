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
                   dtype=None, progress=None) -> MCResult:
    """E[payoff(levels)] over ``n_paths`` GBM paths; ``drift``/``vol_sqrt_dt`` per step (arrays).

    With ``antithetic`` the paths come in (Z, -Z) pairs and the standard error is computed from
    pair averages. ``progress(done, total)`` is called after each chunk when given.
    """
    return mc_scenarios({"v": (payoff, log_s0, drift, vol_sqrt_dt)}, n_paths=n_paths, combine=lambda v: v,
                        seed=seed, antithetic=antithetic, xp=xp, chunk_paths=chunk_paths, dtype=dtype,
                        progress=progress)["v"]


def mc_scenarios(scenarios: dict, *, n_paths: int, combine, seed: int | None = 0, antithetic: bool = True, xp=np,
                 chunk_paths: int | None = None, dtype=None, progress=None) -> dict:
    """Means and standard errors of ``combine(values)`` over paths shared by every scenario.

    ``scenarios``: {name: (payoff, log_s0, drift, vol_sqrt_dt)}, all on one grid (same number of
    steps): every scenario reads the same normals (common random numbers). ``combine`` maps
    {name: per-path values} to {output: per-path values} by a linear map (Greeks as differences
    of scenario values), so each output's standard error is that of its own per-path (or, with
    ``antithetic``, per-pair) estimates: the error of the difference, not of the two values.
    Returns {output: MCResult}.
    """
    dtype = dtype or xp.float64
    items = [(k, payoff, float(s0), xp.asarray(d, dtype=dtype), xp.asarray(v, dtype=dtype))
             for k, (payoff, s0, d, v) in scenarios.items()]
    n_steps = int(items[0][3].shape[0])
    if any(int(d.shape[0]) != n_steps for _, _, _, d, _ in items):
        raise ValueError("mc_scenarios needs every scenario on the same grid")
    chunk = int(chunk_paths or default_chunk(n_steps, xp))
    if antithetic:
        chunk = max(2, chunk // 2 * 2)
    rng = make_rng(xp, seed)
    s1: dict = {}
    s2: dict = {}
    samples = done = 0
    while done < n_paths:
        m = min(chunk, n_paths - done)
        if antithetic:
            half = max(1, (m + 1) // 2)
            z = rng.standard_normal((half, n_steps), dtype=dtype)
            z = xp.concatenate([z, -z], axis=0)
        else:
            z = rng.standard_normal((m, n_steps), dtype=dtype)
        vals = {}
        for k, payoff, s0, d, v in items:
            out = xp.asarray(payoff(simulate_levels(xp, z, s0, d, v)), dtype=xp.float64)
            if antithetic:
                h = out.shape[0] // 2
                out = 0.5 * (out[:h] + out[h:])
            vals[k] = out
        n = int(z.shape[0])
        del z
        for name, arr in combine(vals).items():
            s1[name] = s1.get(name, 0.0) + float(arr.sum())
            s2[name] = s2.get(name, 0.0) + float((arr * arr).sum())
        samples += int(next(iter(vals.values())).shape[0])
        done += n
        if progress is not None:
            progress(min(done, n_paths), n_paths)
    out = {}
    for name in s1:
        mean = s1[name] / samples
        var = max(s2[name] / samples - mean * mean, 0.0)
        out[name] = MCResult(mean=mean, stderr=math.sqrt(var / max(samples - 1, 1)), paths=done)
    return out
