"""Volatility: flat, by term, or an implied-volatility surface over maturity × moneyness.

Times are diffusion years on the snapshot's time basis; moneyness is strike / spot. The surface
interpolates total variance ``w = vol² t`` linearly in time at fixed moneyness (so a surface
free of calendar arbitrage stays so between pillars), and monotone cubic (PCHIP) in log-moneyness
per pillar, flat beyond the outer strikes; before the first pillar the first vol is used.
Path-dependent engines take forward variances between their dates at one reference moneyness.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import math

import numpy as np

from ..core.errors import MarketError
from .curves import tenor_years


@dataclass(frozen=True)
class VolSurface:
    times: tuple          # diffusion years of the pillars, increasing
    moneyness: tuple      # strike / spot of the columns, increasing (one column = no smile)
    vols: tuple           # vols[i][j] at times[i], moneyness[j]

    @classmethod
    def flat(cls, vol: float) -> "VolSurface":
        return cls((1.0,), (1.0,), ((float(vol),),))

    @classmethod
    def from_json(cls, value, field: str) -> "VolSurface":
        """A number, ``{"tenors", "vols"}`` (term structure) or ``{"tenors", "moneyness", "vols"}``."""
        def num(v, f):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise MarketError(f"expected a finite number; got {v!r}", f)
            return float(v)

        def numbers(v, f):
            if not isinstance(v, list) or not v:
                raise MarketError(f"expected a non-empty list of numbers; got {v!r}", f)
            return tuple(num(x, f) for x in v)

        if isinstance(value, (int, float)) and not isinstance(value, bool):
            vols, times, mny = ((float(value),),), (1.0,), (1.0,)
        elif isinstance(value, dict) and "vols" in value:
            unknown = sorted(set(value) - {"tenors", "times", "moneyness", "vols"})
            if unknown:
                raise MarketError(f"unknown key(s) {unknown}; allowed: tenors, moneyness, vols", field)
            tenors = value.get("tenors", value.get("times", [1.0]))
            if not isinstance(tenors, list) or not tenors:
                raise MarketError("expected a non-empty list of tenors", f"{field}.tenors")
            times = tuple(tenor_years(t, f"{field}.tenors") for t in tenors)
            raw = value["vols"]
            if not isinstance(raw, list):
                raise MarketError("expected a list of vols (rows of a list per moneyness with 'moneyness')",
                                  f"{field}.vols")
            if "moneyness" in value:
                mny = numbers(value["moneyness"], f"{field}.moneyness")
                vols = tuple(numbers(row, f"{field}.vols") for row in raw)
            else:
                mny = (1.0,)
                vols = tuple((num(v, f"{field}.vols"),) for v in raw)
        else:
            raise MarketError("expected a number, {'tenors','vols'} or {'tenors','moneyness','vols'}", field)
        if len(vols) != len(times) or any(len(r) != len(mny) for r in vols):
            raise MarketError(f"vols must be {len(times)} rows of {len(mny)} values", f"{field}.vols")
        if any(b <= a for a, b in zip(times, times[1:])) or times[0] <= 0:
            raise MarketError("tenors must be positive and increasing", f"{field}.tenors")
        if any(b <= a for a, b in zip(mny, mny[1:])) or mny[0] <= 0:
            raise MarketError("moneyness must be positive and increasing", f"{field}.moneyness")
        if any(not (0 < v < 5) for r in vols for v in r):     # NaN fails the comparison too
            raise MarketError("every vol must be a finite number in (0, 5) (annual fraction, 0.2 = 20%)",
                              field if isinstance(value, (int, float)) else f"{field}.vols")
        return cls(times, mny, vols)

    def to_json(self):
        if len(self.times) == 1 and len(self.moneyness) == 1:
            return self.vols[0][0]
        if len(self.moneyness) == 1:
            return {"tenors": list(self.times), "vols": [r[0] for r in self.vols]}
        return {"tenors": list(self.times), "moneyness": list(self.moneyness), "vols": [list(r) for r in self.vols]}

    def shifted(self, bump: float) -> "VolSurface":
        """Every vol moved by ``bump`` (absolute, 0.01 = one vol point)."""
        return VolSurface(self.times, self.moneyness, tuple(tuple(v + bump for v in r) for r in self.vols))

    def _smile(self, i: int, k):
        row = np.asarray(self.vols[i])
        if len(self.moneyness) == 1:
            return np.full_like(np.asarray(k, float), row[0])
        from scipy.interpolate import PchipInterpolator

        x = np.log(np.asarray(self.moneyness))
        xk = np.clip(np.log(np.asarray(k, float)), x[0], x[-1])
        return PchipInterpolator(x, row)(xk)

    def total_variance(self, t, moneyness=1.0):
        """``vol(t, k)² · t`` for diffusion years ``t`` and moneyness ``k`` (broadcast together)."""
        if len(self.moneyness) == 1:
            return self._term_variance(t)
        t, k = np.broadcast_arrays(np.asarray(t, float), np.asarray(moneyness, float))
        pillars = np.asarray(self.times)
        # Total variance at each pillar for each k: shape (n_pillars, *t.shape).
        w_p = np.stack([self._smile(i, k) ** 2 * pillars[i] for i in range(len(pillars))])
        grid = np.concatenate([[0.0], pillars])
        w_g = np.concatenate([np.zeros((1,) + t.shape), w_p])
        j = np.clip(np.searchsorted(grid, t, side="right") - 1, 0, len(grid) - 2)
        lo, hi = grid[j], grid[j + 1]
        w_lo = np.take_along_axis(w_g, j[None], 0)[0]
        w_hi = np.take_along_axis(w_g, (j + 1)[None], 0)[0]
        inside = w_lo + (w_hi - w_lo) * (np.minimum(t, hi) - lo) / (hi - lo)
        beyond = w_p[-1] * t / pillars[-1]  # flat vol past the last pillar
        out = np.where(t > pillars[-1], beyond, inside)
        return out if out.shape else float(out)

    def _term_variance(self, t):
        """``total_variance`` of a surface without smile: the same interpolation (linear in
        total variance from zero, flat vol past the last pillar) as one ``np.interp``, for the
        engines that call it once per contract and bump (a book's closed forms)."""
        t = np.asarray(t, float)
        grid = self.__dict__.get("_term_grid")
        if grid is None:
            p = np.asarray(self.times, float)
            w = np.array([r[0] for r in self.vols], float) ** 2 * p
            grid = (np.concatenate([[0.0], p]), np.concatenate([[0.0], w]), float(p[-1]), float(w[-1]))
            object.__setattr__(self, "_term_grid", grid)   # frozen: a cache, not a field
        x, w, t_last, w_last = grid
        out = np.where(t > t_last, w_last * t / t_last, np.interp(t, x, w))
        return out if out.shape else float(out)

    def vol(self, t, moneyness=1.0):
        """Implied vol at diffusion time ``t`` and moneyness ``k`` (strike / spot)."""
        t = np.asarray(t, float)
        w = self.total_variance(np.maximum(t, 1e-8), moneyness)
        return np.sqrt(np.maximum(w, 0.0) / np.maximum(t, 1e-8))

    def forward_vols(self, times, moneyness=1.0) -> np.ndarray:
        """Vol on each interval ``[t_{i-1}, t_i]`` of ``times`` (with t_{-1}=0) at one moneyness."""
        times = np.asarray(times, float)
        if len(self.times) == 1:
            return np.full(times.shape, float(self.vol(1.0, moneyness)))
        w = np.atleast_1d(self.total_variance(times, moneyness))
        dw = np.diff(np.concatenate([[0.0], w]))
        dt = np.diff(np.concatenate([[0.0], times]))
        if np.any(dw < -1e-12):
            warnings.warn("vol surface has decreasing total variance (calendar arbitrage); "
                          "forward variance floored at zero", stacklevel=2)
        return np.sqrt(np.maximum(dw, 0.0) / np.where(dt > 0, dt, 1.0))
