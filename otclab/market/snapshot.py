"""Market snapshot: everything the engines need on one valuation date, immutable, JSON in and out.

Per underlying (exchange code): spot, dividend/borrow yield curve, volatility surface; one CNY
rate curve. ``"*"`` stands for any underlying (the single-underlying shorthand ``{"spot": ..,
"div_yield": .., "vol": ..}`` is stored that way). ``time_basis`` decides diffusion time:
``"trading"`` = SSE trading days / ``trading_days_per_year`` (default 243), ``"calendar"`` =
ACT/365F. Discounting and accrual are always ACT/365F.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..core.calendar import TradingCalendar, _as_days, sse_calendar
from ..core.dates import Date, parse_date
from ..core.errors import MarketError, OtcError
from .curves import Curve
from .vol import VolSurface

TIME_BASES = ("trading", "calendar")
ANY = "*"


def _frozen(d: dict) -> MappingProxyType:
    return MappingProxyType(dict(d))


def _calendar(v) -> str:
    if v != "SSE":
        raise MarketError(f"unknown calendar {v!r}; allowed: SSE", "market.calendar")
    return v


def _extra(v) -> dict:
    if not isinstance(v, dict):
        raise MarketError("must be an object", "market.extra")
    return v


@dataclass(frozen=True)
class MarketSnapshot:
    valuation_date: Date
    spots: MappingProxyType
    rate: Curve
    div_yields: MappingProxyType
    vols: MappingProxyType
    time_basis: str = "trading"
    trading_days_per_year: float = 243.0
    calendar_name: str = "SSE"
    extra: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self):
        if self.time_basis not in TIME_BASES:
            raise MarketError(f"must be one of {', '.join(TIME_BASES)}; got {self.time_basis!r}", "market.time_basis")
        if not (100 <= self.trading_days_per_year <= 366):
            raise MarketError("must be between 100 and 366", "market.trading_days_per_year")
        for u, s in self.spots.items():
            if not (np.isfinite(s) and s > 0):
                raise MarketError(f"must be a positive number; got {s!r}", f"market.spots.{u}")

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "MarketSnapshot":
        """Build from the JSON form (full or single-underlying shorthand); see module docstring."""
        if not isinstance(d, dict):
            raise MarketError("market must be a JSON object", "market")
        known = {"valuation_date", "spot", "spots", "rate", "div_yield", "div_yields", "vol", "vols",
                 "time_basis", "trading_days_per_year", "calendar", "extra"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise MarketError(f"unknown field(s) {unknown}; allowed: {sorted(known)}", "market")
        if "valuation_date" not in d:
            raise MarketError("is required (YYYY-MM-DD)", "market.valuation_date")
        try:
            val = parse_date(d["valuation_date"], "market.valuation_date")
        except OtcError as e:
            raise MarketError(e.message, e.field) from None

        def per_underlying(single, plural, conv, required):
            out = {}
            if single in d:
                out[ANY] = conv(d[single], f"market.{single}")
            table = d.get(plural) or {}
            if not isinstance(table, dict):
                raise MarketError("must be an object of underlying code -> value", f"market.{plural}")
            for u, v in table.items():
                out[u] = conv(v, f"market.{plural}.{u}")
            if required and not out:
                raise MarketError(f"is required (a number, or '{plural}' per underlying)", f"market.{single}")
            return out

        def number(v, f):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise MarketError(f"expected a number; got {v!r}", f)
            if not np.isfinite(v):
                raise MarketError(f"must be a finite number; got {v!r}", f)
            return float(v)

        spots = per_underlying("spot", "spots", number, True)
        divs = per_underlying("div_yield", "div_yields", Curve.from_json, False) or {ANY: Curve.flat(0.0)}
        vols = per_underlying("vol", "vols", VolSurface.from_json, True)
        if "rate" not in d:
            raise MarketError("is required (a number or {'tenors','rates'})", "market.rate")
        return cls(
            valuation_date=val, spots=_frozen(spots), rate=Curve.from_json(d["rate"], "market.rate"),
            div_yields=_frozen(divs), vols=_frozen(vols), time_basis=d.get("time_basis", "trading"),
            trading_days_per_year=number(d.get("trading_days_per_year", 243), "market.trading_days_per_year"),
            calendar_name=_calendar(d.get("calendar", "SSE")), extra=_frozen(_extra(d.get("extra", {}))))

    def to_dict(self) -> dict:
        def pack(m, conv):
            return {k: conv(v) for k, v in m.items()}

        out = {"valuation_date": self.valuation_date.isoformat(), "spots": dict(self.spots),
               "rate": self.rate.to_json(), "div_yields": pack(self.div_yields, Curve.to_json),
               "vols": pack(self.vols, VolSurface.to_json), "time_basis": self.time_basis,
               "trading_days_per_year": self.trading_days_per_year, "calendar": self.calendar_name}
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def load(cls, path) -> "MarketSnapshot":
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as e:
            raise MarketError(f"cannot read market snapshot {path}: {e}", "market") from None

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")

    # ---- lookups ------------------------------------------------------------------------
    def _get(self, table, name, underlying):
        if underlying in table:
            return table[underlying]
        if ANY in table:
            return table[ANY]
        have = ", ".join(sorted(table)) or "none"
        raise MarketError(f"no {name} for {underlying} (have: {have})", f"market.{name}s.{underlying}")

    def spot(self, underlying: str) -> float:
        return self._get(self.spots, "spot", underlying)

    def div_yield(self, underlying: str) -> Curve:
        return self._get(self.div_yields, "div_yield", underlying)

    def vol(self, underlying: str) -> VolSurface:
        return self._get(self.vols, "vol", underlying)

    @property
    def calendar(self) -> TradingCalendar:
        if self.calendar_name != "SSE":
            raise MarketError(f"unknown calendar {self.calendar_name!r}; allowed: SSE", "market.calendar")
        return sse_calendar()

    # ---- time ---------------------------------------------------------------------------
    def discount_time(self, dates) -> np.ndarray:
        """ACT/365F years from the valuation date to each date."""
        days = _as_days(dates) - np.datetime64(self.valuation_date, "D")
        return days.astype(np.int64) / 365.0

    def diffusion_time(self, dates) -> np.ndarray:
        """Diffusion years to each date on the snapshot's time basis."""
        if self.time_basis == "calendar":
            return self.discount_time(dates)
        return self.calendar.counts(self.valuation_date, dates) / self.trading_days_per_year

    # ---- scenarios ----------------------------------------------------------------------
    def bumped(self, *, spot_rel: float = 0.0, vol_abs: float = 0.0, rate_abs: float = 0.0,
               underlying: str | None = None, valuation_date=None) -> "MarketSnapshot":
        """A new snapshot: spots × (1 + spot_rel), vols + vol_abs, rates + rate_abs, new date.

        ``underlying`` limits the spot and vol bumps to one underlying (default: all).
        """
        def sel(u):
            return underlying is None or u in (underlying, ANY)

        spots = {u: s * (1.0 + spot_rel) if sel(u) else s for u, s in self.spots.items()}
        if underlying is not None and underlying not in spots and ANY not in spots:
            raise MarketError(f"no spot for {underlying}", f"market.spots.{underlying}")
        vols = {u: v.shifted(vol_abs) if (vol_abs and sel(u)) else v for u, v in self.vols.items()}
        return dataclasses.replace(
            self, spots=_frozen(spots), vols=_frozen(vols),
            rate=self.rate.shifted(rate_abs) if rate_abs else self.rate,
            valuation_date=parse_date(valuation_date) if valuation_date is not None else self.valuation_date)
