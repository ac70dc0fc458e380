"""RFQ chat parser: Chinese quote requests from chat messages to structured ``QuoteRequest``s.

``parse(text)`` normalises the message, finds mentions with rules and a trained spaCy NER, and
builds one request per underlying x structure x tenor asked for (see ``builder``).
"""
from __future__ import annotations

from .parser import MAX_CHARS, parse
from .request import FIELDS, QuoteRequest

__all__ = ["parse", "QuoteRequest", "FIELDS", "MAX_CHARS"]
