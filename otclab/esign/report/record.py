"""Build the trade-repository report record from a booking (term sheet, parties, UTI, premium, event).

A booking is a mapping::

    {"uti": "...", "trade_date": "YYYY-MM-DD", "term_sheet": {...template fields...},
     "parties": {"dealer": {"name", "uscc", "lei"?}, "client": {"name", "uscc"?, "lei"?}},
     "buyer": "client" | "dealer"   (option holder; default client),
     "premium": {"amount", "currency", "payment_date"},
     "event": {"type": new|amend|correct|terminate|knock_out|knock_in|exercise|expire, "date"}}

Each party needs a USCC (Chinese entities) or an LEI, or both; both are check-digit validated.
The record is plain JSON data; ``trade_report.schema.json`` describes it.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..errors import ReportError
from .identifiers import validate_lei, validate_uscc
from .termsheet import FPML_EQUITY_OPTION, read_term_sheet

RECORD_VERSION = "1.0"
EVENTS = {"new", "amend", "correct", "terminate", "knock_out", "knock_in", "exercise", "expire"}
UTI_RE = re.compile(r"^[A-Z0-9]{1,52}$")  # ISO 23897 character set and length


def _taxonomy(template: str, kind: str) -> str:
    """ISDA OTC taxonomy (v2) string for the product."""
    if template in FPML_EQUITY_OPTION:
        scope = {"index": "SingleIndex", "equity": "SingleName", "exchangeTradedFund": "SingleName"}[kind]
        return f"Equity:Option:PriceReturnBasicPerformance:{scope}"
    return "Equity:Other"


def _party(role: str, p: Any) -> dict[str, Any]:
    prefix = f"parties.{role}."
    if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"].strip():
        raise ReportError("each party needs a name", field=f"{prefix}name")
    out: dict[str, Any] = {"role": role, "name": p["name"].strip()}
    if p.get("uscc"):
        out["uscc"] = validate_uscc(p["uscc"], field=f"{prefix}uscc")
    if p.get("lei"):
        out["lei"] = validate_lei(p["lei"], field=f"{prefix}lei")
    if "uscc" not in out and "lei" not in out:
        raise ReportError("a party needs a USCC (Chinese entity) or an LEI", field=f"{prefix}uscc")
    return out


def _date(v: Any, field: str) -> str:
    try:
        return dt.date.fromisoformat(str(v)).isoformat()
    except ValueError:
        raise ReportError(f"must be a date YYYY-MM-DD, got {v!r}", field=field) from None


def _money(v: Any, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise ReportError(f"must be a non-negative amount, got {v!r}", field=field)
    # commercial rounding to cents (half up), not float round()'s half-even on binary values
    return float(Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def build_report(booking: dict[str, Any]) -> dict[str, Any]:
    """Report record for a booking (see module docstring); ``ReportError`` names any bad field."""
    if not isinstance(booking, dict):
        raise ReportError("booking must be a JSON object", field="booking")
    uti = booking.get("uti")
    if not isinstance(uti, str) or not UTI_RE.match(uti):
        raise ReportError(f"UTI must be 1-52 upper-case letters/digits (ISO 23897), got {uti!r}", field="uti")
    ts = read_term_sheet(booking.get("term_sheet"))
    parties_in = booking.get("parties")
    if not isinstance(parties_in, dict) or set(parties_in) != {"dealer", "client"}:
        raise ReportError("parties must have exactly 'dealer' and 'client'", field="parties")
    parties = [_party(r, parties_in[r]) for r in ("dealer", "client")]
    buyer = booking.get("buyer", "client")
    if buyer not in ("client", "dealer"):
        raise ReportError(f"buyer must be client or dealer, got {buyer!r}", field="buyer")
    seller = "dealer" if buyer == "client" else "client"
    trade_date = _date(booking.get("trade_date", ts["start"].isoformat()), "trade_date")
    if trade_date > ts["start"].isoformat():
        raise ReportError(f"trade date {trade_date} is after the effective date {ts['start']}", field="trade_date")
    prem = booking.get("premium") or {}
    if not isinstance(prem, dict):
        raise ReportError("premium must be an object {amount, currency, payment_date}", field="premium")
    premium = {
        "amount": _money(prem.get("amount", 0.0), "premium.amount"),
        "currency": prem.get("currency", ts["currency"]),
        "payment_date": _date(prem.get("payment_date", ts["start"].isoformat()), "premium.payment_date"),
        "payer": buyer,
        "receiver": seller,
    }
    ev = booking.get("event") or {"type": "new"}
    if not isinstance(ev, dict) or ev.get("type") not in EVENTS:
        raise ReportError(f"event.type must be one of {', '.join(sorted(EVENTS))}", field="event.type")
    event = {"type": ev["type"], "date": _date(ev.get("date", trade_date), "event.date")}
    if event["date"] < trade_date:
        raise ReportError(f"event date {event['date']} is before the trade date {trade_date}", field="event.date")
    barriers = [
        {"name": k, **v} for k, v in ts["levels"].items() if "barrier" in k
    ]
    record = {
        "record_version": RECORD_VERSION,
        "uti": uti,
        "product": {
            "id": f"OTCLAB.{ts['template'].upper()}",
            "template": ts["template"],
            "taxonomy": _taxonomy(ts["template"], ts["underlying_kind"]),
            "fpml_product": "equityOption" if ts["template"] in FPML_EQUITY_OPTION else "genericProduct",
        },
        "lifecycle_event": event,
        "reporting_party": "dealer",
        "parties": parties,
        "buyer": buyer,
        "seller": seller,
        "trade_date": trade_date,
        "effective_date": ts["start"].isoformat(),
        "maturity_date": ts["maturity"].isoformat(),
        "notional": {"amount": _money(ts["notional"], "term_sheet.notional"), "currency": ts["currency"]},
        "underlying": {"id": ts["underlying"], "kind": ts["underlying_kind"], "initial_price": ts["initial_price"]},
        "option_type": ts["option_type"] if ts["template"] in FPML_EQUITY_OPTION else None,
        "strike": ts["levels"].get("strike"),
        "barriers": barriers,
        "barrier_type": ts["barrier_type"],
        "coupon": ts["coupon"],
        "premium": premium,
        "term_sheet": _jsonable(booking["term_sheet"]),
    }
    return record


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    return obj
