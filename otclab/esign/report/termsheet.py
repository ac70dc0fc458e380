"""Read the report-relevant fields of a booked term sheet and check them (field named on error).

Term sheets follow the platform's template fields: ``template`` (vanilla, barrier, snowball,
phoenix, sharkfin, digital, asian, ...), ``underlying`` (exchange code such as 000905.SH),
``currency``, ``notional`` (currency units), ``initial_price``, ``start_date``, ``maturity_date``
or ``tenor_months``, and strikes/barriers as fractions of ``initial_price`` (1.03 = 103%).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ...core.calendar import sse_calendar
from ...core.schedules import maturity_from_tenor
from ..errors import ReportError

TEMPLATES = {"vanilla", "barrier", "snowball", "phoenix", "sharkfin", "digital", "asian"}
FPML_EQUITY_OPTION = {"vanilla", "barrier"}  # the rest are reported as genericProduct
UNDERLYING_RE = re.compile(r"^\d{6}\.(SH|SZ|BJ|CSI)$")
BARRIER_TYPES = {"up_and_out", "up_and_in", "down_and_out", "down_and_in"}
# fraction-of-initial-price fields and the range we accept for each
LEVEL_FIELDS = ("strike", "barrier", "ko_barrier", "ki_barrier", "ki_strike", "coupon_barrier", "upper_strike", "lower_strike")


def _date(ts: dict[str, Any], key: str, prefix: str) -> dt.date:
    v = ts.get(key)
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ReportError(f"must be a date YYYY-MM-DD, got {v!r}", field=f"{prefix}{key}") from None


def _positive(ts: dict[str, Any], key: str, prefix: str) -> float:
    v = ts.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise ReportError(f"must be a positive number, got {v!r}", field=f"{prefix}{key}")
    return float(v)


def underlying_kind(code: str) -> str:
    """FpML underlyer element for an exchange code: ``index``, ``exchangeTradedFund`` or ``equity``."""
    num, exch = code.split(".")
    if exch == "CSI" or (exch == "SH" and num.startswith("000")) or (exch == "SZ" and num.startswith("399")):
        return "index"
    if (exch == "SH" and num[:2] in {"51", "56", "58"}) or (exch == "SZ" and num[:2] in {"15", "16"}):
        return "exchangeTradedFund"
    return "equity"


def read_term_sheet(ts: dict[str, Any], prefix: str = "term_sheet.") -> dict[str, Any]:
    """Normalised fields: template, underlying, currency, notional, initial_price, start, maturity,
    levels (fraction -> absolute), barrier_type, option_type, coupon. Raises ``ReportError``."""
    if not isinstance(ts, dict):
        raise ReportError("term sheet must be a mapping of template fields", field=prefix.rstrip("."))
    template = ts.get("template")
    if template not in TEMPLATES:
        raise ReportError(f"unknown template {template!r}; allowed: {', '.join(sorted(TEMPLATES))}", field=f"{prefix}template")
    und = ts.get("underlying")
    if not isinstance(und, str) or not UNDERLYING_RE.match(und):
        raise ReportError(f"must be an exchange code like 000905.SH, got {und!r}", field=f"{prefix}underlying")
    ccy = ts.get("currency", "CNY")
    if not isinstance(ccy, str) or not re.fullmatch(r"[A-Z]{3}", ccy):
        raise ReportError(f"must be an ISO 4217 code such as CNY, got {ccy!r}", field=f"{prefix}currency")
    notional = _positive(ts, "notional", prefix)
    s0 = _positive(ts, "initial_price", prefix)
    start = _date(ts, "start_date", prefix)
    if ts.get("maturity_date") is not None:
        maturity = _date(ts, "maturity_date", prefix)
    elif ts.get("tenor_months") is not None:
        months = ts["tenor_months"]
        if isinstance(months, bool) or not isinstance(months, int) or not 0 < months <= 120:
            raise ReportError(f"must be an integer 1..120, got {months!r}", field=f"{prefix}tenor_months")
        maturity = maturity_from_tenor(start, months, sse_calendar())
    else:
        raise ReportError("give maturity_date or tenor_months", field=f"{prefix}maturity_date")
    if maturity <= start:
        raise ReportError(f"maturity {maturity} must be after start {start}", field=f"{prefix}maturity_date")
    levels: dict[str, dict[str, float]] = {}
    for key in LEVEL_FIELDS:
        if ts.get(key) is None:
            continue
        v = ts[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 5:
            raise ReportError(f"must be a fraction of initial_price in (0, 5], got {v!r}", field=f"{prefix}{key}")
        levels[key] = {"fraction": float(v), "level": round(float(v) * s0, 6)}
    option_type = str(ts.get("option_type", "call")).lower()
    if option_type not in ("call", "put"):
        raise ReportError(f"must be call or put, got {option_type!r}", field=f"{prefix}option_type")
    barrier_type = ts.get("barrier_type")
    if template in ("vanilla", "barrier") and "strike" not in levels:
        raise ReportError(f"a {template} option needs a strike", field=f"{prefix}strike")
    if template == "barrier":
        if barrier_type not in BARRIER_TYPES:
            raise ReportError(f"must be one of {', '.join(sorted(BARRIER_TYPES))}, got {barrier_type!r}", field=f"{prefix}barrier_type")
        if "barrier" not in levels:
            raise ReportError("a barrier option needs a barrier level", field=f"{prefix}barrier")
        b = levels["barrier"]["fraction"]
        if barrier_type.startswith("up") and b <= 1 or barrier_type.startswith("down") and b >= 1:
            side = "above" if barrier_type.startswith("up") else "below"
            raise ReportError(f"an {barrier_type} barrier must lie {side} the initial price (1.0), got {b}", field=f"{prefix}barrier")
    if template in ("snowball", "phoenix"):
        for key in ("ko_barrier", "ki_barrier"):
            if key not in levels and not (key == "ki_barrier" and ts.get("no_ki")):
                raise ReportError(f"a {template} needs {key}", field=f"{prefix}{key}")
        if "ki_barrier" in levels and levels["ki_barrier"]["fraction"] >= levels["ko_barrier"]["fraction"]:
            raise ReportError("ki_barrier must be below ko_barrier", field=f"{prefix}ki_barrier")
    coupon = ts.get("coupon")
    if coupon is not None and (isinstance(coupon, bool) or not isinstance(coupon, (int, float)) or not 0 <= coupon < 5):
        raise ReportError(f"must be an annual fraction in [0, 5), got {coupon!r}", field=f"{prefix}coupon")
    return {
        "template": template, "underlying": und, "underlying_kind": underlying_kind(und), "currency": ccy,
        "notional": notional, "initial_price": s0, "start": start, "maturity": maturity, "levels": levels,
        "barrier_type": barrier_type, "option_type": option_type, "coupon": coupon,
    }
