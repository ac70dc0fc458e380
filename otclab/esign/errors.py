"""User errors of the e-signing area; all are ``OtcError`` so the CLI prints one line, exits 2."""
from __future__ import annotations

from ..core.errors import InputError, OtcError


class CertificateError(OtcError):
    """A certificate or key is unusable: expired, revoked, wrong purpose, untrusted, mismatched."""


class SignatureError(OtcError):
    """A signature does not verify, or the signed document was altered after signing."""


class EnvelopeError(OtcError):
    """An exchange envelope is malformed, altered, not for us, or fails to decrypt."""


class ReplayError(EnvelopeError):
    """An envelope was seen before (same nonce) or lies outside the accepted time window."""


class EvidenceError(OtcError):
    """The evidence log is inconsistent, a proof fails, or a request is out of range."""


class ReportError(OtcError):
    """A trade-repository report cannot be built or fails validation."""


__all__ = [
    "OtcError",
    "InputError",
    "CertificateError",
    "SignatureError",
    "EnvelopeError",
    "ReplayError",
    "EvidenceError",
    "ReportError",
]
