"""The one trade record: what the desk traded with whom, in the only shape the package uses.

``TradeRecord`` holds the trade id and UTI, the template name and its **pinned version** (the
SHA-256 prefix of the template's tagged cells), the terms validated by that template's own schema,
the desk's direction (``buy``: the desk holds the product; ``sell``: the desk issued it to the
client), the counterparty (id, name, USCC), trade date and premium. Values, Greeks and cash flows
from the desk's view are the holder's view times ``sign`` (+1 bought, -1 sold). Sizes live in the
terms (``notional`` in currency); the position holds notional / initial_price units.

Outside formats (confirmation labels, FpML, chat requests) are mapped to and from this record in
one place each; nothing else describes a trade. The record is plain data: it imports no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.dates import Date, parse_date
from ..core.errors import OtcError, TemplateError, TermsError

DIRECTIONS = ("buy", "sell")
STATUSES = ("live", "knocked_out", "matured", "terminated", "cancelled")
TRADE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
UTI_RE = re.compile(r"^[A-Z0-9]{1,52}$")          # ISO 23897: upper-case alphanumerics, at most 52
RECORD_KEYS = ("trade_id", "uti", "template", "template_version", "terms", "direction", "counterparty",
               "trade_date", "premium", "premium_date", "trader", "status", "version")


class BookingError(OtcError):
    """A trade cannot be booked, amended or cancelled as asked."""


@dataclass(frozen=True)
class Counterparty:
    """The client: an id of the desk's own (e.g. ``CP001``), the legal name, the USCC
    (统一社会信用代码) of a Chinese entity and/or the LEI (ISO 17442) of any entity, check
    characters verified with python-stdnum."""

    id: str
    name: str
    uscc: str | None = None
    lei: str | None = None

    @classmethod
    def from_dict(cls, d: Any, prefix: str = "counterparty") -> "Counterparty":
        if isinstance(d, str):
            d = {"id": d, "name": d}
        if not isinstance(d, dict):
            raise BookingError("must be an object {id, name, uscc?}", prefix)
        unknown = sorted(set(d) - {"id", "name", "uscc", "lei"})
        if unknown:
            raise BookingError(f"unknown field(s) {unknown}; allowed: id, name, uscc, lei", prefix)
        cid, name = d.get("id"), d.get("name")
        if not isinstance(cid, str) or not TRADE_ID_RE.match(cid.strip()):
            raise BookingError(f"must be 1-64 letters, digits, '.', '_' or '-'; got {cid!r}", f"{prefix}.id")
        if not isinstance(name, str) or not name.strip():
            raise BookingError("is required (the counterparty's legal name)", f"{prefix}.name")
        uscc = d.get("uscc")
        if uscc not in (None, ""):
            uscc = check_uscc(uscc, f"{prefix}.uscc")
        lei = d.get("lei")
        if lei not in (None, ""):
            lei = check_lei(lei, f"{prefix}.lei")
        return cls(cid.strip(), name.strip(), uscc or None, lei or None)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "uscc": self.uscc, "lei": self.lei}


def _identifier(code: Any, kind: str, length: int, field_name: str) -> str:
    """``code`` normalised if python-stdnum's ``kind`` module (``cn.uscc``, ``lei``) accepts it."""
    import importlib

    from stdnum.exceptions import ValidationError

    label = kind.split(".")[-1].upper()
    if not isinstance(code, str):
        raise BookingError(f"expected a {length}-character {label}; got {code!r}", field_name)
    try:
        return importlib.import_module(f"stdnum.{kind}").validate(code)
    except ValidationError as e:
        raise BookingError(f"{code!r} is not a valid {label} ({e.message})", field_name) from None


def check_uscc(code: Any, field_name: str = "uscc") -> str:
    """The USCC (统一社会信用代码), upper-cased, if its format and check character are right."""
    return _identifier(code, "cn.uscc", 18, field_name)


def check_lei(code: Any, field_name: str = "lei") -> str:
    """The LEI (ISO 17442), upper-cased, if its format and ISO 7064 check digits are right."""
    return _identifier(code, "lei", 20, field_name)


@dataclass(frozen=True)
class TradeRecord:
    """One trade, one version. ``terms`` are the validated terms (``Terms``) of ``template`` at
    ``template_version``; ``premium`` is in the trade currency, paid by the buyer on
    ``premium_date`` (default: the start date). ``status`` and ``version`` are set by the store."""

    trade_id: str
    uti: str
    template: str
    template_version: str
    terms: Any
    direction: str
    counterparty: Counterparty
    trade_date: Date
    premium: float = 0.0
    premium_date: Date | None = None
    trader: str | None = None
    status: str = "live"
    version: int = 1
    extra: dict = field(default_factory=dict, compare=False)

    # ---- derived facts --------------------------------------------------------------------
    @property
    def sign(self) -> int:
        """+1 when the desk bought the product (holds it), -1 when it sold it."""
        return 1 if self.direction == "buy" else -1

    @property
    def underlying(self) -> str:
        return self.terms["underlying"]

    @property
    def notional(self) -> float:
        return float(self.terms["notional"])

    @property
    def currency(self) -> str:
        return self.terms.get("currency", "CNY")

    @property
    def start_date(self) -> Date:
        return self.terms["start_date"]

    @property
    def maturity_date(self) -> Date:
        """Maturity on the SSE calendar (from ``tenor_months`` when no date is given)."""
        from ..core.calendar import sse_calendar
        from ..templates.context import resolve_maturity

        return resolve_maturity(self.terms, sse_calendar()).maturity_date

    @property
    def template_id(self) -> str:
        return f"{self.template}@{self.template_version}"

    def contract(self) -> dict:
        """The trade as a pricing contract for ``otclab.book`` (terms in JSON form)."""
        return {"id": self.trade_id, "template": self.template, "terms": self.terms.to_json()}

    def to_dict(self) -> dict:
        """JSON form (the input of ``trades book``, the output of ``trades show``)."""
        return {"trade_id": self.trade_id, "uti": self.uti, "template": self.template,
                "template_version": self.template_version, "terms": self.terms.to_json(),
                "direction": self.direction, "counterparty": self.counterparty.to_dict(),
                "trade_date": self.trade_date.isoformat(), "premium": self.premium,
                "premium_date": (self.premium_date or self.start_date).isoformat(), "trader": self.trader,
                "status": self.status, "version": self.version}

    def with_changes(self, **changes) -> "TradeRecord":
        return replace(self, **changes)


def default_uti(trade_id: str, trade_date: Date, prefix: str = "OTCLAB") -> str:
    """A UTI from the firm prefix, the trade date and the trade id (upper-case alphanumerics)."""
    body = re.sub(r"[^A-Z0-9]", "", trade_id.upper())
    return (re.sub(r"[^A-Z0-9]", "", prefix.upper()) + trade_date.strftime("%Y%m%d") + body)[:52]


def current_template(name: str, version: str | None):
    """Template resolver for code without a store: the notebook's current version, which must be
    the one a trade is pinned to when it names one (the store resolves older pinned versions)."""
    from ..templates.loader import get_template

    tpl = get_template(name)
    if version is not None and version != tpl.version:
        raise TemplateError(f"the trade is pinned to {name}@{version} but the template notebook is now at "
                            f"{tpl.version}; read it from the store that holds that version", "template_version")
    return tpl


def read_record(raw: Any, prefix: str = "trade", template_resolver=None) -> TradeRecord:
    """A ``TradeRecord`` from a record, its JSON form or a ``trades show --json`` view holding it
    under ``"trade"``; templates by ``template_resolver`` (default ``current_template``)."""
    if isinstance(raw, TradeRecord):
        return raw
    if isinstance(raw, dict) and "trade" in raw and "trade_id" not in raw:
        raw = raw["trade"]
    resolver = template_resolver or current_template

    def resolve(name, version):
        try:
            return resolver(name, version)
        except TemplateError as e:
            field_name = e.field or "template"
            raise TemplateError(e.message, field_name if field_name.startswith(prefix) else f"{prefix}.{field_name}") from None

    return parse_record(raw, resolve, prefix)


def parse_record(raw: Any, template_resolver, prefix: str = "trade") -> TradeRecord:
    """Validate a trade given as JSON data; ``template_resolver(name, version)`` returns the
    pinned ``Template`` (or raises ``TemplateError``). Raises an ``OtcError`` naming the field."""
    import os

    if not isinstance(raw, dict):
        raise BookingError("a trade is a JSON object with trade_id, template, terms, direction, counterparty",
                           prefix)
    unknown = sorted(set(raw) - set(RECORD_KEYS))
    if unknown:
        raise BookingError(f"unknown field(s) {unknown}; allowed: {', '.join(RECORD_KEYS)}", prefix)
    for key in ("trade_id", "template", "terms", "direction", "counterparty"):
        if key not in raw:
            raise BookingError("is required", f"{prefix}.{key}")
    tid = raw["trade_id"]
    if not isinstance(tid, str) or not TRADE_ID_RE.match(tid):
        raise BookingError(f"must be 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit; "
                           f"got {tid!r}", f"{prefix}.trade_id")
    name = raw["template"]
    if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        # a booking names a registered template, never a notebook path: paths would run code
        raise TemplateError(f"must be the name of a registered template (not a path); got {name!r}",
                            f"{prefix}.template")
    version = raw.get("template_version")
    if version is not None and (not isinstance(version, str) or not re.match(r"^[0-9a-f]{12}$", version)):
        raise TemplateError(f"must be a 12-hex-digit template version; got {version!r}", f"{prefix}.template_version")
    tpl = template_resolver(name, version)
    try:
        terms = tpl.schema.validate(raw["terms"], prefix=f"{prefix}.terms")
    except TermsError as e:
        raise TermsError(e.message, e.field if (e.field or "").startswith(prefix) else f"{prefix}.{e.field}") from None
    direction = raw["direction"]
    if direction not in DIRECTIONS:
        raise BookingError(f"must be buy (the desk holds the product) or sell (the desk issued it); got {direction!r}",
                           f"{prefix}.direction")
    cp = Counterparty.from_dict(raw["counterparty"], f"{prefix}.counterparty")
    trade_date = parse_date(raw.get("trade_date", terms["start_date"]), f"{prefix}.trade_date")
    if trade_date > terms["start_date"]:
        raise BookingError(f"must be on or before the start date {terms['start_date']}; got {trade_date}",
                           f"{prefix}.trade_date")
    premium = raw.get("premium", 0.0)
    if isinstance(premium, bool) or not isinstance(premium, (int, float)) or premium != premium or premium < 0:
        raise BookingError(f"must be a non-negative amount in {terms.get('currency', 'CNY')} paid by the buyer; "
                           f"got {premium!r}", f"{prefix}.premium")
    pdate = raw.get("premium_date")
    pdate = parse_date(pdate, f"{prefix}.premium_date") if pdate else None
    uti = raw.get("uti") or default_uti(tid, trade_date, os.environ.get("OTCLAB_UTI_PREFIX", "OTCLAB"))
    if not isinstance(uti, str) or not UTI_RE.match(uti):
        raise BookingError(f"must be 1-52 upper-case letters or digits (ISO 23897); got {uti!r}", f"{prefix}.uti")
    trader = raw.get("trader")
    if trader is not None and not isinstance(trader, str):
        raise BookingError("must be text (the trader's user name)", f"{prefix}.trader")
    return TradeRecord(trade_id=tid, uti=uti, template=tpl.name, template_version=tpl.version, terms=terms,
                       direction=direction, counterparty=cp, trade_date=trade_date, premium=float(premium),
                       premium_date=pdate, trader=trader)
