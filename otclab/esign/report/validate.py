"""Validate what we export: JSON against the shipped JSON Schema, FpML XML structurally.

The official FpML XSDs are not shipped (and nothing is downloaded), so the XML check is our own
structural validation: well-formed, FpML 5 reporting namespace and version, the required
elements of the message, trade header and product (per product type), every ``href`` pointing at
a declared party, party ids with a known scheme and valid check digits, dates as YYYY-MM-DD,
amounts as decimals with 2 places, prices as decimals, currencies as ISO 4217 codes.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import OtcError, ReportError
from .fpml import FPML_NS, FPML_VERSION, OTC_NS, SCHEME_LEI, SCHEME_USCC
from .identifiers import validate_lei, validate_uscc

DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
AMOUNT_RE = re.compile(r"^-?\d+\.\d{2}$")
DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
CCY_RE = re.compile(r"^[A-Z]{3}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

COMMON = ["header/messageId", "header/sentBy", "header/creationTimestamp", "isCorrection", "correlationId",
          "trade/tradeHeader/partyTradeIdentifier/tradeId", "trade/tradeHeader/tradeDate"]
PRODUCT = {
    "equityOption": ["productType", "buyerPartyReference", "sellerPartyReference", "optionType",
                     "equityEffectiveDate/unadjustedDate", "underlyer/singleUnderlyer", "notional/currency",
                     "notional/amount", "equityExercise/equityEuropeanExercise/expirationDate/adjustableDate/unadjustedDate",
                     "equityExercise/settlementType", "strike/strikePrice", "numberOfOptions",
                     "equityPremium/paymentAmount/amount"],
    "genericProduct": ["productType", "buyerPartyReference", "sellerPartyReference", "effectiveDate/unadjustedDate",
                       "expirationDate/unadjustedDate", "underlyer/singleUnderlyer", "notional/currency",
                       "notional/amount", "premium/paymentAmount/amount", "otc:termSheet"],
}


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    """The shipped JSON Schema of report records."""
    text = resources.files("otclab.esign.report").joinpath("trade_report.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_json(record: dict[str, Any]) -> None:
    """Raise ``ReportError`` (listing every violation, field paths) unless ``record`` fits the schema."""
    from jsonschema import Draft202012Validator, FormatChecker

    v = Draft202012Validator(report_schema(), format_checker=FormatChecker())
    errors = sorted(v.iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        path = ".".join(str(p) for p in first.absolute_path) or "record"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReportError(f"JSON report fails its schema: {first.message}{more}", field=path)


def _path(tag_path: str) -> str:
    parts = []
    for p in tag_path.split("/"):
        parts.append(f"{{{OTC_NS}}}{p[4:]}" if p.startswith("otc:") else f"{{{FPML_NS}}}{p}")
    return "/".join(parts)


def validate_fpml(xml: bytes) -> dict[str, Any]:
    """Structural validation of an FpML report; returns a summary, raises ``ReportError`` on a fault."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ReportError(f"XML is not well-formed ({exc})", field="fpml") from None
    if root.tag != f"{{{FPML_NS}}}nonpublicExecutionReport":
        raise ReportError(f"root element must be nonpublicExecutionReport in {FPML_NS}, got {root.tag}", field="fpml")
    if root.get("fpmlVersion") != FPML_VERSION:
        raise ReportError(f"fpmlVersion must be {FPML_VERSION}", field="fpml.fpmlVersion")
    for p in COMMON:
        if root.find(_path(p)) is None or not (root.find(_path(p)).text or "").strip():
            raise ReportError(f"required element {p} missing or empty", field=f"fpml.{p}")
    trade = root.find(_path("trade"))
    products = [c for c in trade if c.tag in {f"{{{FPML_NS}}}{k}" for k in PRODUCT}]
    if len(products) != 1:
        raise ReportError("trade must hold exactly one equityOption or genericProduct", field="fpml.trade")
    product = products[0]
    kind = product.tag.split("}")[1]
    for p in PRODUCT[kind]:
        if product.find(_path(p)) is None:
            raise ReportError(f"required element {kind}/{p} missing", field=f"fpml.trade.{kind}.{p}")
    parties = {}
    for pe in root.findall(_path("party")):
        pid = pe.get("id")
        ids = pe.findall(_path("partyId"))
        if not pid or not ids or pe.find(_path("partyName")) is None:
            raise ReportError("every party needs an id attribute, a partyId and a partyName", field="fpml.party")
        for i in ids:
            scheme, value = i.get("partyIdScheme"), (i.text or "").strip()
            try:
                if scheme == SCHEME_LEI:
                    validate_lei(value, field=f"fpml.party[{pid}].lei")
                elif scheme == SCHEME_USCC:
                    validate_uscc(value, field=f"fpml.party[{pid}].uscc")
                else:
                    raise ReportError(f"unknown partyIdScheme {scheme!r}", field=f"fpml.party[{pid}]")
            except OtcError as exc:
                raise ReportError(exc.message, field=exc.field) from None
        parties[pid] = pe
    for e in root.iter():
        href = e.get("href")
        if href is not None and href not in parties:
            raise ReportError(f"{e.tag.split('}')[1]} refers to undeclared party {href!r}", field="fpml.href")
        local = e.tag.split("}")[1]
        text = (e.text or "").strip()
        if local in {"unadjustedDate", "tradeDate"} and not DATE_RE.match(text):
            raise ReportError(f"{local} must be YYYY-MM-DD, got {text!r}", field=f"fpml.{local}")
        if local == "amount" and not AMOUNT_RE.match(text):
            raise ReportError(f"amount must be a decimal with 2 places, got {text!r}", field="fpml.amount")
        if local in {"strikePrice", "level", "numberOfOptions"} and not DECIMAL_RE.match(text):
            raise ReportError(f"{local} must be a decimal, got {text!r}", field=f"fpml.{local}")
        if local == "currency" and not CCY_RE.match(text):
            raise ReportError(f"currency must be an ISO 4217 code, got {text!r}", field="fpml.currency")
        if local == "creationTimestamp" and not TS_RE.match(text):
            raise ReportError(f"creationTimestamp must be YYYY-MM-DDTHH:MM:SSZ, got {text!r}", field="fpml.creationTimestamp")
        if local == "optionType" and text not in {"Call", "Put"}:
            raise ReportError(f"optionType must be Call or Put, got {text!r}", field="fpml.optionType")
    return {"product": kind, "parties": sorted(parties), "uti": root.find(_path("correlationId")).text}
