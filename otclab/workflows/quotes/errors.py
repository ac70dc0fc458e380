"""The user errors of the quote workflow."""
from __future__ import annotations

from ...core.errors import OtcError


class QuoteError(OtcError):
    """A quote action a user asked for cannot be done (unknown quote, wrong state, four-eyes, ...)."""


class ConfigError(OtcError):
    """The quote service's configuration is missing a value or has one that is not allowed."""
