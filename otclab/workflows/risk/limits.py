"""Risk limits per underlying and for the book, from a JSON file the desk keeps:

    {"book":        {"cash_delta": 8e9, "vega": 1.5e8, "cash_gamma_1pct": 2e9, "notional_concentration": 0.35},
     "underlyings": {"*":         {"cash_delta": 2e9, "vega": 4e7, "cash_gamma_1pct": 6e8,
                                   "notional_concentration": 0.25},
                     "510300.SH": {"cash_delta": 3e9}}}

Every limit is on the absolute value of the measure (currency; vega per vol point, 1% cash gamma)
except ``notional_concentration``: an underlying's share of the book's notional (for the book:
the largest share). ``"*"`` applies to every underlying without its own entry. Utilisation =
|measure| / limit; above 100% is a breach (recorded with the snapshot and alerted), above 80% a
warning. ``DEFAULT_LIMITS`` is illustrative.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ...core.errors import InputError

MEASURES = ("cash_delta", "vega", "cash_gamma_1pct", "notional_concentration")
DEFAULT_LIMITS = {"book": {"cash_delta": 2e10, "vega": 3e8, "cash_gamma_1pct": 5e9, "notional_concentration": 0.4},
                  "underlyings": {"*": {"cash_delta": 4e9, "vega": 6e7, "cash_gamma_1pct": 1.5e9,
                                        "notional_concentration": 0.3}}}
WARN = 0.8


def load_limits(path: str | None = None) -> dict:
    """The limits file (``path`` or ``OTCLAB_LIMITS``), else ``DEFAULT_LIMITS``; checked."""
    path = path or os.environ.get("OTCLAB_LIMITS")
    if not path:
        return json.loads(json.dumps(DEFAULT_LIMITS))
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read the limits file {path}: {e}", "limits") from None
    if not isinstance(data, dict) or set(data) - {"book", "underlyings"}:
        raise InputError("expected {\"book\": {...}, \"underlyings\": {code: {...}}}", "limits")
    for scope, table in [("book", data.get("book", {}))] + [(f"underlyings.{u}", v) for u, v in
                                                           (data.get("underlyings") or {}).items()]:
        if not isinstance(table, dict):
            raise InputError("expected an object of measure -> limit", f"limits.{scope}")
        for m, v in table.items():
            if m not in MEASURES:
                raise InputError(f"unknown measure {m!r}; allowed: {', '.join(MEASURES)}", f"limits.{scope}")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or v != v:
                raise InputError(f"must be a positive number; got {v!r}", f"limits.{scope}.{m}")
    return data


def utilisation(totals: dict, limits: dict) -> list[dict]:
    """One row per (scope, measure) that has a limit: value, limit, utilisation, status."""
    by_u = totals.get("by_underlying", {})
    book_notional = sum(v.get("notional", 0.0) for v in by_u.values()) or 1.0
    rows = []

    def add(scope, measure, value, limit):
        u = abs(value) / limit
        rows.append({"scope": scope, "measure": measure, "value": value, "limit": limit, "utilisation": u,
                     "status": "breach" if u > 1.0 else ("warning" if u > WARN else "ok")})

    book = limits.get("book", {})
    for m, lim in book.items():
        if m == "notional_concentration":
            share = max((v.get("notional", 0.0) / book_notional for v in by_u.values()), default=0.0)
            add("book", m, share, lim)
        else:
            add("book", m, totals.get(m, 0.0), lim)
    table = limits.get("underlyings", {})
    for u, v in sorted(by_u.items()):
        own = {**table.get("*", {}), **table.get(u, {})}
        for m, lim in own.items():
            value = v.get("notional", 0.0) / book_notional if m == "notional_concentration" else v.get(m, 0.0)
            add(u, m, value, lim)
    return rows
