"""Open an envelope: verify before decrypt, then the replay window, then unwrap and decrypt.

Order (each step refuses with a clear error): strict parse; addressed to us; sender certificate
trusted for messages (path, validity, CRL, key usage); signature; expected type/UTI (the
associated data); time within the window; nonce never seen (claimed atomically); unwrap the
content key (RSA-OAEP); AES-256-GCM decrypt with the header as associated data.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import EnvelopeError, OtcError, ReplayError, SignatureError
from ..limits import describe, limit
from ..pki.checks import TrustStore, check_certificate
from ..signer import verify_signature
from .format import aad, fingerprint, parse, signed_part
from .replay import ReplayStore
from .seal import OAEP

if TYPE_CHECKING:
    from ..evidence import EvidenceLog

DEFAULT_WINDOW = dt.timedelta(minutes=5)


@dataclass
class Opened:
    """A verified, decrypted envelope."""

    content: bytes
    header: dict[str, Any]
    sender: x509.Certificate
    sha256: str


def decrypt_content(key: bytes, iv: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """AES-256-GCM decryption; ``EnvelopeError`` if ciphertext or associated data do not match."""
    try:
        return AESGCM(key).decrypt(iv, ciphertext, associated_data)
    except InvalidTag:
        raise EnvelopeError(
            "authentication failed: the associated data (type, UTI, time, parties) or the ciphertext "
            "do not match what was encrypted",
            field="ciphertext",
        ) from None


def open_envelope(
    data: bytes,
    recipient_key: rsa.RSAPrivateKey,
    recipient_cert: x509.Certificate,
    trust: TrustStore,
    replay: ReplayStore,
    *,
    expect_type: str | None = None,
    expect_uti: str | None = None,
    window: dt.timedelta = DEFAULT_WINDOW,
    now: dt.datetime | None = None,
    evidence: "EvidenceLog | None" = None,
) -> Opened:
    """Verify and decrypt an envelope addressed to ``recipient_cert`` (see module docstring).

    The raw envelope is stored in the ``replay`` inbox (and logged in ``evidence``) before any
    check; the outcome (opened or the refusal reason) is logged too.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise EnvelopeError("an envelope is bytes (the file as received)", field="envelope")
    data = bytes(data)
    if len(data) > limit("envelope_bytes"):  # refused before it is stored: one file cannot fill the inbox
        exc = EnvelopeError(f"envelope of {len(data)} bytes, more than the {describe('envelope_bytes')}", field="envelope")
        if evidence is not None:
            evidence.append("envelope.rejected", {"envelope_sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                                                  "error": type(exc).__name__, "reason": str(exc)})
        raise exc
    digest = replay.receive(data)
    if evidence is not None:
        evidence.append("envelope.received", {"envelope_sha256": digest, "bytes": len(data)})
    try:
        opened = _open(data, digest, recipient_key, recipient_cert, trust, replay,
                       expect_type, expect_uti, window, now)
    except OtcError as exc:
        if evidence is not None:
            evidence.append("envelope.rejected", {"envelope_sha256": digest, "error": type(exc).__name__, "reason": str(exc)})
        raise
    if evidence is not None:
        evidence.append("envelope.opened", {"envelope_sha256": digest, **opened.header})
    return opened


def _open(data, digest, recipient_key, recipient_cert, trust, replay, expect_type, expect_uti, window, now) -> Opened:
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    env, raw, chain = parse(data)
    h = env["header"]
    if h["recipient"] != fingerprint(recipient_cert):
        raise EnvelopeError(
            f"envelope is addressed to certificate {h['recipient'][:16]}..., not to ours "
            f"({fingerprint(recipient_cert)[:16]}...): wrong recipient key",
            field="header.recipient",
        )
    sender = chain[0]
    if fingerprint(sender) != h["sender"]:
        raise EnvelopeError("sender certificate does not match the sender fingerprint in the header", field="sender_chain")
    check_certificate(sender, "message", trust, at=now, extra_chain=chain[1:])
    try:
        verify_signature(sender, h["sig_alg"], signed_part(env), raw["signature"])
    except SignatureError as exc:
        raise EnvelopeError(f"sender signature invalid, envelope altered in transit: {exc.message}", field="signature") from None
    if expect_type is not None and h["type"] != expect_type:
        raise EnvelopeError(f"associated data mismatch: message type is {h['type']!r}, expected {expect_type!r}", field="header.type")
    if expect_uti is not None and h["uti"] != expect_uti:
        raise EnvelopeError(f"associated data mismatch: UTI is {h['uti']!r}, expected {expect_uti!r}", field="header.uti")
    sent = dt.datetime.strptime(h["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    if abs(now - sent) > window:
        raise ReplayError(
            f"envelope time {h['time']} is outside the accepted window of {int(window.total_seconds())} s "
            f"around {now.strftime('%Y-%m-%dT%H:%M:%SZ')} (stale or replayed)",
            field="header.time",
        )
    replay.claim(h["sender"], h["nonce"], h["time"])
    try:
        key = recipient_key.decrypt(raw["wrapped_key"], OAEP)
    except ValueError:
        raise EnvelopeError("cannot unwrap the content key: wrong recipient private key", field="wrapped_key") from None
    content = decrypt_content(key, raw["iv"], raw["ciphertext"], aad(h))
    return Opened(content=content, header=h, sender=sender, sha256=digest)
