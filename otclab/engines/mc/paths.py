"""GBM path simulation: exact log-normal steps between the dates of a grid.

Levels are relative (S / S0). Step i moves ``log s`` by ``drift[i] + vol_sqrt_dt[i] * Z`` where
the caller has folded rates, dividends, the vol term structure and the time basis into ``drift``
(= (r - q - vol²/2) dτ) and ``vol_sqrt_dt`` (= vol √dτ). Works on NumPy and CuPy alike.
"""
from __future__ import annotations


def make_rng(xp, seed: int | None):
    """A seeded generator of the array module ``xp`` (Philox on NumPy, CuPy's default on GPU)."""
    if xp.__name__ == "numpy":
        return xp.random.Generator(xp.random.Philox(seed))
    return xp.random.default_rng(seed)


def simulate_levels(xp, z, log_s0: float, drift, vol_sqrt_dt):
    """Relative levels ``s`` of shape (n_paths, n_steps) from normals ``z`` of the same shape."""
    inc = z * vol_sqrt_dt[None, :] + drift[None, :]
    return xp.exp(log_s0 + xp.cumsum(inc, axis=1))
