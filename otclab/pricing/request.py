"""A pricing request ``{"template", "terms", "market", "state"?, "fixings"?}``, validated."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError, TemplateError, TermsError
from ..market.snapshot import MarketSnapshot
from ..templates.loader import Template, get_template
from ..templates.schema import Terms

REQUEST_KEYS = ("template", "terms", "market", "state", "fixings")


@dataclass(frozen=True)
class PricingRequest:
    template: Template
    terms: Terms
    market: MarketSnapshot
    state: dict = field(default_factory=dict)
    fixings: dict = field(default_factory=dict)
    raw_terms: dict = field(default_factory=dict)

    def with_terms(self, **changes) -> "PricingRequest":
        raw = {**self.raw_terms, **changes}
        return PricingRequest(self.template, self.template.schema.validate(raw), self.market,
                              self.state, self.fixings, raw)

    def with_market(self, market: MarketSnapshot) -> "PricingRequest":
        return PricingRequest(self.template, self.terms, market, self.state, self.fixings, self.raw_terms)


def _kind(obj) -> str:
    return {list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(type(obj), "a number")


def parse_request(obj) -> PricingRequest:
    """Validate a request given as a dict, JSON text, or a path (``Path``, or a string naming an
    existing file). JSON text is never mistaken for a path: text starting like JSON (after a
    byte-order mark and blanks) is parsed as JSON."""
    if isinstance(obj, PricingRequest):
        return obj
    if isinstance(obj, str):
        text = obj.lstrip("\ufeff").strip()
        if not text:
            raise InputError("no request in the input (expected a JSON object with template, terms, market)",
                             "request")
        if text[0] not in "{[\"-0123456789tfn" and "\n" not in text and len(text) < 4096 and Path(text).is_file():
            obj = Path(text)
        else:
            obj = text
    if isinstance(obj, Path):
        try:
            obj = obj.read_text(encoding="utf-8-sig")
        except OSError as e:
            raise InputError(f"cannot read request file: {e.strerror or e}", "request") from None
        except UnicodeDecodeError:
            raise InputError("the request file is not UTF-8 text", "request") from None
        if not obj.strip():
            raise InputError("no request in the file", "request")
    if isinstance(obj, str):
        try:
            obj = json.loads(obj.lstrip("\ufeff"))
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON: {e}", "request") from None
    if not isinstance(obj, dict):
        raise InputError(f"a request is a JSON object with template, terms, market; got {_kind(obj)}", "request")
    unknown = sorted(set(obj) - set(REQUEST_KEYS))
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; allowed: {', '.join(REQUEST_KEYS)}", "request")
    for key in ("template", "terms", "market"):
        if key not in obj:
            raise InputError("is required", key)
    if isinstance(obj["template"], Template):
        tpl = obj["template"]      # a pinned version (e.g. a booked trade's), already loaded
    elif isinstance(obj["template"], str):
        tpl = get_template(obj["template"])
    else:
        raise TemplateError("must be a template name or notebook path", "template")
    raw_terms = obj["terms"]
    terms = tpl.schema.validate(raw_terms)
    market = obj["market"] if isinstance(obj["market"], MarketSnapshot) else MarketSnapshot.from_dict(obj["market"])
    state = obj.get("state") or {}
    if not isinstance(state, dict):
        raise TermsError("must be an object such as {\"ki_hit\": true}", "state")
    fixings = obj.get("fixings") or {}
    if not isinstance(fixings, dict):
        raise TermsError("must be an object of date -> price", "fixings")
    return PricingRequest(tpl, terms, market, dict(state), dict(fixings), dict(raw_terms))
