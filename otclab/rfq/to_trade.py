"""From a chat quote request to a template and its terms: the one place where the chat's names
meet the templates' term names.

The parser's ``QuoteRequest`` is an outside format (what a salesperson typed) and keeps its own
names: the product is its ``structure``, a digital's payout its ``coupon``, and ``solve_for`` is
what the client asks for, not a term. ``request_terms`` turns a request into the template and
the terms that template's own schema validates, adding what a chat message never says (the start
date and initial price of the quote) and what the desk supplies (``defaults``: a trial value of
the field solved for, a barrier type, a notional when the chat gives none; the chat's values win).
``trade_json`` goes one step further, to the trade record's JSON form for booking.

Errors name the chat's field (``request.coupon`` for a digital's payout) or the default's
(``defaults.barrier_type``), as ``TermsError``.
"""
from __future__ import annotations

import re
from typing import Any

from ..core.dates import Date
from ..core.errors import OtcError, TermsError
from .request import FIELDS, QuoteRequest

# chat field -> template term, where the names differ (per template)
RENAMES: dict[str, dict[str, str]] = {"digital": {"coupon": "payout"}}
NOT_TERMS = ("structure", "solve_for")
# Terms a template has a default for that a chat message must still state: a snowball or phoenix
# whose message names no knock-in level is not silently a no-knock-in (小雪球) trade.
MUST_STATE: dict[str, dict[str, str]] = {"snowball": {"ki_barrier": "knock-in level"},
                                         "phoenix": {"ki_barrier": "knock-in level"}}


def template_name(req: QuoteRequest) -> str:
    """The template a request asks about (its ``structure``)."""
    if not req.structure:
        raise TermsError("the request names no product (雪球, 凤凰, 鲨鱼鳍, 看涨/看跌, ...)", "request.structure")
    return req.structure


def _chat_name(template: str, term: str) -> str:
    back = {t: c for c, t in RENAMES.get(template, {}).items()}
    return back.get(term, term)


def request_terms(req: QuoteRequest, *, start_date: Date | str, initial_price: float,
                  defaults: dict[str, Any] | None = None):
    """(``Template``, validated ``Terms``) of a quote request; ``TermsError`` naming the field.

    ``defaults`` are template terms (by their template names) for what the request does not
    state; a term the request states is taken from the request.
    """
    from ..templates.loader import get_template

    name = template_name(req)
    try:
        tpl = get_template(name)
    except OtcError as e:
        raise TermsError(e.message, "request.structure") from None
    renames = RENAMES.get(name, {})
    stated = {renames.get(f, f): getattr(req, f) for f in FIELDS
              if f not in NOT_TERMS and getattr(req, f) is not None}
    defaults = dict(defaults or {})
    for term, what in MUST_STATE.get(name, {}).items():
        if term not in stated and term not in defaults:
            raise TermsError(f"the request states no {what}; without one a {name} has none: state it, or give "
                             f"{term}=None in defaults to quote the product without it", f"request.{_chat_name(name, term)}")
    raw = {**{k: v for k, v in defaults.items() if k not in stated}, **stated,
           "start_date": start_date, "initial_price": initial_price}
    try:
        terms = tpl.schema.validate(raw, prefix="request")
    except TermsError as e:
        raise TermsError(_explain(e.message, e.field, req, name), _field(e.field, name, stated, defaults)) from None
    return tpl, terms


def _field(path: str | None, template: str, stated: dict, defaults: dict) -> str | None:
    """A schema error's field (``request.payout``, ``terms.ki_barrier[2]``) named as the caller gave it."""
    m = re.match(r"^(?:request|terms)\.([A-Za-z_][A-Za-z0-9_]*)(.*)$", path or "")
    if m is None:
        return path
    term, rest = m.groups()
    if term in defaults and term not in stated:
        return f"defaults.{term}{rest}"
    if term in ("start_date", "initial_price"):
        return f"{term}{rest}"
    chat = _chat_name(template, term)
    # a term no chat message can state (barrier_type, ...) can only come from the defaults
    return f"request.{chat}{rest}" if chat in FIELDS else f"defaults.{term}{rest}"


def _explain(message: str, path: str | None, req: QuoteRequest, template: str) -> str:
    m = re.match(r"^(?:request|terms)\.([A-Za-z_][A-Za-z0-9_]*)", path or "")
    if m and req.solve_for and _chat_name(template, m.group(1)) == req.solve_for and "required" in message:
        return f"{message}; it is what the request asks for: give a trial value in defaults"
    return message


def trade_json(req: QuoteRequest, *, trade_id: str, counterparty: dict, start_date: Date | str,
               initial_price: float, premium: float = 0.0, direction: str = "sell",
               trade_date: Date | str | None = None, defaults: dict[str, Any] | None = None) -> dict:
    """The quoted request as a trade in the record's JSON form (``otclab trades book`` input,
    ``parse_record``'s), pinned to the template version its terms were validated with.
    ``direction`` is the desk's: ``sell`` (the default) when the desk issues the product the
    client asked for."""
    tpl, terms = request_terms(req, start_date=start_date, initial_price=initial_price, defaults=defaults)
    out = {"trade_id": trade_id, "template": tpl.name, "template_version": tpl.version, "terms": terms.to_json(),
           "direction": direction, "counterparty": counterparty, "premium": premium}
    if trade_date is not None:
        out["trade_date"] = trade_date if isinstance(trade_date, str) else trade_date.isoformat()
    return out
