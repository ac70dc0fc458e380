"""FpML 5.x (reporting view) XML for a report record: the one place where the template's
vocabulary meets FpML's.

European vanilla and barrier equity options become ``equityOption``; the template's barrier
types (``up_out``, ``up_in``, ``down_out``, ``down_in``) become a ``feature/knock/knockOut|knockIn
/trigger`` with trigger type ``EqualOrGreater`` (up) or ``EqualOrLess`` (down) (``KNOCKS``).
Every other trade (snowball, phoenix, sharkfin, digital, asian, an American vanilla, any new
template) becomes a ``genericProduct`` that carries the trade's terms, by their template names,
in an ``otc:termSheet`` extension element (namespace ``urn:otclab:termsheet:1``). Amounts are
written with 2 decimals, prices with up to 6, dates as YYYY-MM-DD. Parties are identified by LEI
(scheme ISO 17442) and/or USCC (scheme GB 32100); the trade by its UTI and the desk's trade id.
"""
from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from typing import Any

FPML_NS = "http://www.fpml.org/FpML-5/reporting"
OTC_NS = "urn:otclab:termsheet:1"
FPML_VERSION = "5-12"
SCHEME_LEI = "http://www.fpml.org/coding-scheme/external/iso17442"
SCHEME_USCC = "urn:cn:gb:32100-2015:uscc"
SCHEME_UTI = "http://www.fpml.org/coding-scheme/external/unique-transaction-identifier"
SCHEME_TAXONOMY = "http://www.fpml.org/coding-scheme/product-taxonomy"
SCHEME_TEMPLATE = "urn:otclab:template"
SCHEME_TRADE_ID = "urn:otclab:trade-id"
SCHEME_EXCHANGE_CODE = "urn:otclab:exchange-code"
EVENT_NAMES = {"new": "Trade", "amend": "Amendment", "correct": "Correction", "terminate": "Termination",
               "knock_out": "KnockOut", "knock_in": "KnockIn", "exercise": "Exercise", "expire": "Expiry"}

FPML_EQUITY_OPTION = ("vanilla", "barrier")  # templates reported as equityOption (European exercise)
# template barrier type -> (FpML knock element, trigger type)
KNOCKS = {"up_out": ("knockOut", "EqualOrGreater"), "up_in": ("knockIn", "EqualOrGreater"),
          "down_out": ("knockOut", "EqualOrLess"), "down_in": ("knockIn", "EqualOrLess")}

ET.register_namespace("", FPML_NS)
ET.register_namespace("otc", OTC_NS)


def fpml_product(template: str, terms) -> str:
    """``equityOption`` for a European vanilla or barrier option, else ``genericProduct``."""
    european = terms.get("exercise", "european") == "european"
    return "equityOption" if template in FPML_EQUITY_OPTION and european else "genericProduct"


def underlying_kind(code: str) -> str:
    """FpML underlyer element for an exchange code: ``index``, ``exchangeTradedFund`` or ``equity``."""
    num, exch = code.split(".")
    if exch == "CSI" or (exch == "SH" and num.startswith("000")) or (exch == "SZ" and num.startswith("399")):
        return "index"
    if (exch == "SH" and num[:2] in {"51", "56", "58"}) or (exch == "SZ" and num[:2] in {"15", "16"}):
        return "exchangeTradedFund"
    return "equity"


def taxonomy(template: str, kind: str) -> str:
    """ISDA OTC taxonomy (v2) string for the product."""
    if template in FPML_EQUITY_OPTION:
        scope = {"index": "SingleIndex", "equity": "SingleName", "exchangeTradedFund": "SingleName"}[kind]
        return f"Equity:Option:PriceReturnBasicPerformance:{scope}"
    return "Equity:Other"


def _q(tag: str) -> str:
    return f"{{{FPML_NS}}}{tag}"


def _el(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, _q(tag), {k: v for k, v in attrs.items()})
    if text is not None:
        e.text = str(text)
    return e


def amount(x: float) -> str:
    """Money amount text: fixed 2 decimals."""
    return f"{x:.2f}"


def price(x: float) -> str:
    """Price/level text: up to 6 decimals, no trailing zeros (at least one decimal)."""
    s = f"{x:.6f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def _party_ref(parent: ET.Element, tag: str, role: str) -> None:
    _el(parent, tag, href=role)


def _underlyer(parent: ET.Element, rec: dict[str, Any]) -> None:
    u = _el(_el(parent, "underlyer"), "singleUnderlyer")
    inst = _el(u, rec["underlying"]["kind"])
    _el(inst, "instrumentId", rec["underlying"]["id"], instrumentIdScheme=SCHEME_EXCHANGE_CODE)


def _notional(parent: ET.Element, rec: dict[str, Any]) -> None:
    n = _el(parent, "notional")
    _el(n, "currency", rec["notional"]["currency"])
    _el(n, "amount", amount(rec["notional"]["amount"]))


def _premium(parent: ET.Element, rec: dict[str, Any], tag: str) -> None:
    p = rec["premium"]
    e = _el(parent, tag)
    _party_ref(e, "payerPartyReference", p["payer"])
    _party_ref(e, "receiverPartyReference", p["receiver"])
    pa = _el(e, "paymentAmount")
    _el(pa, "currency", p["currency"])
    _el(pa, "amount", amount(p["amount"]))
    _el(_el(e, "paymentDate"), "unadjustedDate", p["payment_date"])


def _equity_option(trade: ET.Element, rec: dict[str, Any]) -> None:
    o = _el(trade, "equityOption")
    _el(o, "productType", rec["product"]["taxonomy"], productTypeScheme=SCHEME_TAXONOMY)
    _el(o, "productId", rec["product"]["id"], productIdScheme=SCHEME_TEMPLATE)
    _party_ref(o, "buyerPartyReference", rec["buyer"])
    _party_ref(o, "sellerPartyReference", rec["seller"])
    _el(o, "optionType", rec["option_type"].capitalize())
    _el(_el(o, "equityEffectiveDate"), "unadjustedDate", rec["effective_date"])
    _underlyer(o, rec)
    _notional(o, rec)
    ex = _el(o, "equityExercise")
    eu = _el(ex, "equityEuropeanExercise")
    ad = _el(_el(eu, "expirationDate"), "adjustableDate")
    _el(ad, "unadjustedDate", rec["maturity_date"])
    _el(_el(ad, "dateAdjustments"), "businessDayConvention", "NONE")
    _el(eu, "equityExpirationTimeType", "Close")
    _el(ex, "automaticExercise", "true")
    _el(ex, "settlementCurrency", rec["notional"]["currency"])
    _el(ex, "settlementType", "Cash")
    if rec["barrier_type"] is not None:
        kind, trigger_type = KNOCKS[rec["barrier_type"]]
        level = next(b["level"] for b in rec["barriers"] if b["name"] == "barrier")
        trig = _el(_el(_el(_el(o, "feature"), "knock"), kind), "trigger")
        _el(trig, "level", price(level))
        _el(trig, "triggerType", trigger_type)
    _el(_el(o, "strike"), "strikePrice", price(rec["strike"]["level"]))
    _el(o, "numberOfOptions", price(rec["notional"]["amount"] / rec["underlying"]["initial_price"]))
    _el(o, "optionEntitlement", "1")
    _premium(o, rec, "equityPremium")


def _generic_product(trade: ET.Element, rec: dict[str, Any]) -> None:
    g = _el(trade, "genericProduct")
    _el(g, "productType", rec["product"]["taxonomy"], productTypeScheme=SCHEME_TAXONOMY)
    _el(g, "productId", rec["product"]["id"], productIdScheme=SCHEME_TEMPLATE)
    _party_ref(g, "buyerPartyReference", rec["buyer"])
    _party_ref(g, "sellerPartyReference", rec["seller"])
    _premium(g, rec, "premium")
    _el(_el(g, "effectiveDate"), "unadjustedDate", rec["effective_date"])
    _el(_el(g, "expirationDate"), "unadjustedDate", rec["maturity_date"])
    _underlyer(g, rec)
    _notional(g, rec)
    ts = ET.SubElement(g, f"{{{OTC_NS}}}termSheet", {"template": rec["product"]["template"],
                                                     "templateVersion": rec["product"]["template_version"]})
    for key in sorted(rec["terms"]):
        v = rec["terms"][key]
        f = ET.SubElement(ts, f"{{{OTC_NS}}}field", {"name": key})
        if isinstance(v, (list, dict)):
            f.text = json.dumps(v, ensure_ascii=False, sort_keys=True)  # schedules, step-downs, ...
        else:
            f.text = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))


def to_fpml(rec: dict[str, Any], message_id: str | None = None, now: dt.datetime | None = None) -> bytes:
    """UTF-8 FpML document (``nonpublicExecutionReport``) for a report record."""
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    dealer = next(p for p in rec["parties"] if p["role"] == rec["reporting_party"])
    root = ET.Element(_q("nonpublicExecutionReport"), {"fpmlVersion": FPML_VERSION})
    h = _el(root, "header")
    _el(h, "messageId", message_id or f"{rec['uti']}-{rec['lifecycle_event']['type']}-{now:%Y%m%d%H%M%S}",
        messageIdScheme="urn:otclab:message-id")
    _el(h, "sentBy", dealer.get("lei") or dealer["uscc"],
        messageAddressScheme=SCHEME_LEI if dealer.get("lei") else SCHEME_USCC)
    _el(h, "creationTimestamp", now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _el(root, "isCorrection", "true" if rec["lifecycle_event"]["type"] == "correct" else "false")
    _el(root, "correlationId", rec["uti"], correlationIdScheme=SCHEME_UTI)
    _el(root, "sequenceNumber", "1")
    _el(_el(root, "onBehalfOf"), "partyReference", href=rec["reporting_party"])
    _el(root, "originatingEvent", EVENT_NAMES[rec["lifecycle_event"]["type"]])
    trade = _el(root, "trade")
    th = _el(trade, "tradeHeader")
    pti = _el(th, "partyTradeIdentifier")
    _party_ref(pti, "partyReference", rec["reporting_party"])
    _el(pti, "tradeId", rec["uti"], tradeIdScheme=SCHEME_UTI)
    _el(pti, "tradeId", rec["trade_id"], tradeIdScheme=SCHEME_TRADE_ID)
    _el(th, "tradeDate", rec["trade_date"])
    if rec["product"]["fpml_product"] == "equityOption":
        _equity_option(trade, rec)
    else:
        _generic_product(trade, rec)
    for p in rec["parties"]:
        pe = _el(root, "party", id=p["role"])
        if p.get("lei"):
            _el(pe, "partyId", p["lei"], partyIdScheme=SCHEME_LEI)
        if p.get("uscc"):
            _el(pe, "partyId", p["uscc"], partyIdScheme=SCHEME_USCC)
        _el(pe, "partyName", p["name"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
