"""Rate and dividend/borrow-yield curves: flat, or zero rates by tenor (continuous compounding).

Times are ACT/365F years from the valuation date. A term curve interpolates ``rate * t``
linearly (piecewise-flat forward rates) and extrapolates the end rates flat.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..core.errors import MarketError

_TENOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([DWMY])\s*$", re.I)
_UNIT_YEARS = {"D": 1 / 365.0, "W": 7 / 365.0, "M": 1 / 12.0, "Y": 1.0}


def tenor_years(tenor, field: str = "tenor") -> float:
    """Years for a tenor like ``"3M"``, ``"1Y"``, ``"2W"``, ``"10D"`` or a number of years."""
    if isinstance(tenor, (int, float)) and not isinstance(tenor, bool):
        if not np.isfinite(tenor) or not 0 < tenor <= 100:
            raise MarketError(f"a tenor in years must be in (0, 100]; got {tenor!r}", field)
        return float(tenor)
    m = _TENOR.match(str(tenor))
    if not m:
        raise MarketError(f"expected a tenor such as 1M, 3M, 1Y or a number of years; got {tenor!r}", field)
    return float(m.group(1)) * _UNIT_YEARS[m.group(2).upper()]


def _rate(v, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise MarketError(f"expected a number (annual fraction, 0.02 = 2%); got {v!r}", field)
    if not np.isfinite(v) or not -0.5 <= v <= 1.0:
        raise MarketError(f"must be a finite annual rate in [-0.5, 1.0] (0.02 = 2%); got {v!r}", field)
    return float(v)


@dataclass(frozen=True)
class Curve:
    """Continuously compounded zero rates at ``times`` (ACT/365F years); one point = flat."""

    times: tuple
    rates: tuple

    @classmethod
    def flat(cls, rate: float) -> "Curve":
        return cls((1.0,), (float(rate),))

    @classmethod
    def from_json(cls, value, field: str) -> "Curve":
        """A number (flat) or ``{"tenors": [...], "rates": [...]}``; rates finite, in [-50%, 100%]."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls.flat(_rate(value, field))
        if isinstance(value, dict) and "rates" in value:
            tenors = value.get("tenors", value.get("times"))
            if not isinstance(tenors, list) or not isinstance(value["rates"], list) or not tenors \
                    or len(tenors) != len(value["rates"]):
                raise MarketError("needs 'tenors' and 'rates' lists of the same non-zero length", field)
            t = [tenor_years(x, f"{field}.tenors") for x in tenors]
            if any(b <= a for a, b in zip(t, t[1:])) or t[0] <= 0:
                raise MarketError("tenors must be positive and increasing", f"{field}.tenors")
            return cls(tuple(t), tuple(_rate(r, f"{field}.rates") for r in value["rates"]))
        raise MarketError("expected a number or {'tenors': [...], 'rates': [...]}", field)

    def to_json(self):
        if len(self.times) == 1:
            return self.rates[0]
        return {"tenors": list(self.times), "rates": list(self.rates)}

    @property
    def is_flat(self) -> bool:
        return len(self.times) == 1

    def integral(self, t):
        """``∫_0^t r(u) du`` = zero rate × t, for scalar or array ``t`` (years)."""
        t = np.asarray(t, dtype=float)
        if self.is_flat:
            return self.rates[0] * t
        times = np.asarray(self.times)
        rt = np.asarray(self.rates) * times
        inside = np.interp(t, times, rt)
        before = self.rates[0] * t
        after = self.rates[-1] * t
        return np.where(t < times[0], before, np.where(t > times[-1], after, inside))

    def zero(self, t):
        t = np.asarray(t, dtype=float)
        return np.where(t > 0, self.integral(np.maximum(t, 1e-12)) / np.maximum(t, 1e-12), self.rates[0])

    def discount(self, t):
        """Discount factor ``exp(-∫_0^t r)``."""
        return np.exp(-self.integral(t))

    def forward(self, t1, t2):
        """Average (continuous) forward rate over ``[t1, t2]``; the zero rate at t2 where t1 == t2."""
        t1, t2 = np.asarray(t1, float), np.asarray(t2, float)
        dt = t2 - t1
        return np.where(dt > 1e-14, (self.integral(t2) - self.integral(t1)) / np.where(dt > 1e-14, dt, 1.0),
                        self.zero(t2))

    def shifted(self, bump: float) -> "Curve":
        """The curve with every zero rate moved by ``bump`` (parallel shift)."""
        return Curve(self.times, tuple(r + bump for r in self.rates))
