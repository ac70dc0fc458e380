"""One exception family for everything a user can get wrong.

Every user error names the field it is about and what is allowed, so the CLI can print a single
line and exit 2 instead of a traceback. Programming errors stay ordinary Python exceptions.
"""
from __future__ import annotations


class OtcError(Exception):
    """Base of all user errors. ``field`` names the offending input (dotted path), if any."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class TermsError(OtcError):
    """A term sheet field is missing, of the wrong type or out of range."""


class MarketError(OtcError):
    """Market data is missing or inconsistent (spot, curve, vol surface, time basis)."""


class TemplateError(OtcError):
    """A payoff template is unknown, malformed or cannot price the request."""


class EngineError(OtcError):
    """An engine cannot price a request as asked (e.g. no analytic formula for it)."""


class InputError(OtcError):
    """A file or document given to the platform cannot be read (bad JSON, corrupt PDF, ...)."""
