"""RFQ chat parser: Chinese quote requests from chat messages to structured ``QuoteRequest``s.

``parse(text)`` normalises the message, finds mentions with rules and a trained spaCy NER, and
builds one request per underlying x structure x tenor asked for (see ``builder``).
``to_trade.request_terms`` maps a request to its template and validated terms (the one place
where the chat's names meet the templates'), ``to_trade.trade_json`` to a trade to book.
"""
from __future__ import annotations

from .parser import MAX_CHARS, parse
from .request import FIELDS, QuoteRequest
from .to_trade import request_terms, trade_json

__all__ = ["parse", "QuoteRequest", "FIELDS", "MAX_CHARS", "request_terms", "trade_json"]
