"""Reproducible synthetic books and markets for benchmarks, checks and demos.

``synthetic_book(n, seed)`` mixes the built-in structures as a desk holds them: snowballs (with
step-downs, lock-ups, early-profit coupons, some already knocked in), phoenix notes (memory or
not), sharkfins, double sharkfins, daily/expiry/continuous barriers, vanillas, digitals and
Asians, on several underlyings, traded on different dates before the valuation date (seasoned, with their state given).
"""
from __future__ import annotations

import numpy as np

from ..core.calendar import sse_calendar
from ..core.dates import parse_date

UNDERLYINGS = {"000905.SH": 5600.0, "000852.SH": 6000.0, "000300.SH": 3900.0, "000016.SH": 2700.0,
               "510300.SH": 3.95, "399006.SZ": 2100.0, "000688.SH": 1000.0, "932000.CSI": 2400.0}
VOLS = {"000905.SH": 0.22, "000852.SH": 0.26, "000300.SH": 0.18, "000016.SH": 0.17, "510300.SH": 0.18,
        "399006.SZ": 0.3, "000688.SH": 0.32, "932000.CSI": 0.3}
VALUATION = "2025-06-03"


def synthetic_market(valuation_date: str = VALUATION) -> dict:
    """A market snapshot (JSON form) for the synthetic underlyings."""
    return {"valuation_date": valuation_date, "spots": dict(UNDERLYINGS),
            "rate": {"tenors": ["3M", "1Y", "2Y"], "rates": [0.015, 0.016, 0.017]},
            "div_yields": {u: 0.02 for u in UNDERLYINGS},
            "vols": {u: {"tenors": ["1M", "6M", "1Y", "2Y"], "vols": [v + 0.02, v + 0.01, v, v - 0.005]}
                     for u, v in VOLS.items()},
            "time_basis": "trading"}


def _contract(rng: np.random.Generator, i: int, starts: list) -> dict:
    u = str(rng.choice(list(UNDERLYINGS)))
    spot = UNDERLYINGS[u]
    start = starts[int(rng.integers(len(starts)))]
    s0 = round(spot * float(rng.uniform(0.92, 1.08)), 4)   # traded at another level
    common = {"underlying": u, "notional": float(rng.choice([1e6, 5e6, 1e7, 3e7])), "initial_price": s0,
              "start_date": start.isoformat()}
    kind = rng.choice(["snowball"] * 40 + ["phoenix"] * 15 + ["sharkfin"] * 12 + ["double_sharkfin"] * 4 + ["barrier"] * 10 +
                      ["vanilla"] * 8 + ["digital"] * 4 + ["asian"] * 8)
    state = {}
    if kind == "snowball":
        tenor = int(rng.choice([12, 18, 24]))
        t = {**common, "tenor_months": tenor, "ko_barrier": float(rng.choice([1.0, 1.03, 1.05])),
             "ki_barrier": float(rng.choice([0.7, 0.75, 0.8])), "coupon": round(float(rng.uniform(0.08, 0.25)), 4),
             "lockup_months": int(rng.choice([1, 3, 6])), "ko_step_down": float(rng.choice([0.0, 0.0, 0.005]))}
        if rng.random() < 0.15:
            t["ki_barrier"] = None
        state = {"ki_hit": bool(t["ki_barrier"] is not None and rng.random() < 0.15)}
    elif kind == "phoenix":
        t = {**common, "tenor_months": int(rng.choice([12, 24])), "ko_barrier": 1.0,
             "ki_barrier": float(rng.choice([0.65, 0.7])), "coupon_barrier": float(rng.choice([0.75, 0.8])),
             "coupon": round(float(rng.uniform(0.08, 0.18)), 4), "memory": bool(rng.random() < 0.5),
             "lockup_months": 3}
        state = {"ki_hit": bool(rng.random() < 0.1), "missed": 0}
    elif kind == "sharkfin":
        call = bool(rng.random() < 0.7)
        t = {**common, "tenor_months": int(rng.choice([3, 6, 12])), "option_type": "call" if call else "put",
             "strike": 1.0, "barrier": 1.15 if call else 0.85, "participation": round(float(rng.uniform(0.5, 1.2)), 2),
             "rebate": float(rng.choice([0.0, 0.01, 0.02])), "monitoring": str(rng.choice(["daily", "expiry"])),
             "form": str(rng.choice(["option", "note"]))}
        state = {"knocked_out": False}
    elif kind == "barrier":
        bt = str(rng.choice(["up_out", "down_out", "up_in", "down_in"]))
        t = {**common, "tenor_months": int(rng.choice([3, 6])), "option_type": str(rng.choice(["call", "put"])),
             "strike": 1.0, "barrier": 1.2 if bt.startswith("up") else 0.8, "barrier_type": bt,
             "rebate": float(rng.choice([0.0, 0.01])),
             "monitoring": str(rng.choice(["daily", "daily", "expiry", "continuous"]))}
        state = {"barrier_hit": False}
    elif kind == "double_sharkfin":
        w = float(rng.choice([0.1, 0.15]))
        t = {**common, "tenor_months": int(rng.choice([3, 6])), "strike_low": 1.0, "strike_high": 1.0,
             "barrier_low": 1.0 - w, "barrier_high": 1.0 + w, "participation_low": round(float(rng.uniform(0.3, 0.8)), 2),
             "participation_high": round(float(rng.uniform(0.3, 0.8)), 2), "rebate": float(rng.choice([0.0, 0.01])),
             "monitoring": str(rng.choice(["daily", "expiry"])), "form": str(rng.choice(["option", "note"]))}
    elif kind == "vanilla":
        t = {**common, "tenor_months": int(rng.choice([1, 3, 6, 12])), "option_type": str(rng.choice(["call", "put"])),
             "strike": round(float(rng.uniform(0.9, 1.1)), 3)}
    elif kind == "digital":
        t = {**common, "tenor_months": int(rng.choice([1, 3, 6])), "option_type": str(rng.choice(["call", "put"])),
             "strike": round(float(rng.uniform(0.95, 1.05)), 3), "payout": 0.05}
    else:
        t = {**common, "tenor_months": int(rng.choice([3, 6])), "option_type": str(rng.choice(["call", "put"])),
             "strike": 1.0, "averaging": str(rng.choice(["arithmetic", "geometric"])),
             "fixings": str(rng.choice(["daily", "weekly", "monthly"]))}
    return {"id": f"T{i:05d}", "template": str(kind), "terms": t, **({"state": state} if state else {})}


def synthetic_book(n: int, seed: int = 7, valuation_date: str = VALUATION, fresh_only: bool = False) -> list[dict]:
    """``n`` live contracts: started on or (unless ``fresh_only``) up to 60 trading days before
    the valuation date, none matured. Asians start on the valuation date (no fixings needed)."""
    rng = np.random.default_rng(seed)
    cal = sse_calendar()
    val = parse_date(valuation_date)
    starts = [val] if fresh_only else [val] + [cal.add_trading_days(val, -k) for k in (5, 20, 40, 60)]
    book = []
    while len(book) < n:
        c = _contract(rng, len(book), starts)
        if c["template"] in ("asian", "vanilla", "digital", "barrier", "double_sharkfin"):
            c["terms"]["start_date"] = val.isoformat()
        book.append(c)
    return book
