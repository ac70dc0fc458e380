"""Wire format of an envelope (canonical JSON) and its strict parser.

::

    {"ciphertext": b64,            AES-256-GCM(content) with the 16-byte tag appended
     "header": {                   also the GCM associated data (canonical JSON bytes)
        "content_alg": "A256GCM", "key_alg": "RSA-OAEP-256", "sig_alg": "rsa-pss-sha256",
        "nonce": b64 (16 random bytes), "recipient": sha256 hex of recipient cert DER,
        "sender": sha256 hex of sender cert DER, "time": "YYYY-MM-DDTHH:MM:SSZ",
        "type": message type, "uti": unique transaction identifier, "v": 1},
     "iv": b64 (12 bytes), "sender_chain": [b64 DER, ...], "signature": b64,
     "wrapped_key": b64}

The sender signs canonical JSON of {ciphertext, header, iv, sender_chain, wrapped_key}: every
byte but the signature itself is covered, the chain included (its first certificate must also
match the sender fingerprint in the header).
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..canonical import b64d, canonical_json, load_json
from ..errors import EnvelopeError, OtcError
from ..limits import describe, limit

VERSION = 1
CONTENT_ALG, KEY_ALG = "A256GCM", "RSA-OAEP-256"
HEADER_KEYS = {"content_alg", "key_alg", "sig_alg", "nonce", "recipient", "sender", "time", "type", "uti", "v"}
TOP_KEYS = {"ciphertext", "header", "iv", "sender_chain", "signature", "wrapped_key"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FP_RE = re.compile(r"^[0-9a-f]{64}$")


LABEL_MAX = 128


def check_label(value: Any, field: str) -> str:
    """A message type, UTI or algorithm id: 1..128 printable characters."""
    if not isinstance(value, str) or not 0 < len(value) <= LABEL_MAX or not value.isprintable():
        raise EnvelopeError(f"must be 1..{LABEL_MAX} printable characters", field=field)
    return value


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate DER, lowercase hex."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def signed_part(env: dict[str, Any]) -> bytes:
    """Bytes covered by the sender's signature."""
    return canonical_json({k: env[k] for k in ("ciphertext", "header", "iv", "sender_chain", "wrapped_key")})


def aad(header: dict[str, Any]) -> bytes:
    """GCM associated data: the canonical header (binds type, UTI, time, nonce, parties)."""
    return canonical_json(header)


def _valid_time(text: str) -> bool:
    import datetime as dt

    try:
        dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def parse(data: bytes) -> tuple[dict[str, Any], dict[str, bytes], list[x509.Certificate]]:
    """(envelope dict, decoded binary fields, sender chain); ``EnvelopeError`` on any malformation."""
    if not isinstance(data, (bytes, bytearray)):
        raise EnvelopeError("an envelope is bytes (the file as received)", field="envelope")
    data = bytes(data)
    if len(data) > limit("envelope_bytes"):
        raise EnvelopeError(f"envelope of {len(data)} bytes, more than the {describe('envelope_bytes')}", field="envelope")
    env = load_json(data, "envelope", EnvelopeError)
    if not isinstance(env, dict) or set(env) != TOP_KEYS:
        raise EnvelopeError(f"envelope must have exactly the keys {sorted(TOP_KEYS)}", field="envelope")
    if canonical_json(env) != data.strip():
        raise EnvelopeError("envelope is not in canonical form (altered in transit?)", field="envelope")
    h = env["header"]
    if not isinstance(h, dict) or set(h) != HEADER_KEYS:
        raise EnvelopeError(f"envelope header must have exactly the keys {sorted(HEADER_KEYS)}", field="header")
    if type(h["v"]) is not int or h["v"] != VERSION or h["content_alg"] != CONTENT_ALG or h["key_alg"] != KEY_ALG:
        raise EnvelopeError(
            f"unsupported envelope version/algorithms ({h['v']!r:.20}, {h['content_alg']!r:.20}, {h['key_alg']!r:.20}); "
            f"supported: {VERSION}, {CONTENT_ALG}, {KEY_ALG}",
            field="header",
        )
    for k in ("type", "uti", "sig_alg"):
        check_label(h[k], f"header.{k}")
    if not isinstance(h["time"], str) or not TIME_RE.fullmatch(h["time"]) or not _valid_time(h["time"]):
        raise EnvelopeError("header.time must be YYYY-MM-DDTHH:MM:SSZ", field="header.time")
    for k in ("sender", "recipient"):
        if not isinstance(h[k], str) or not FP_RE.fullmatch(h[k]):
            raise EnvelopeError(f"header.{k} must be a SHA-256 certificate fingerprint (64 hex)", field=f"header.{k}")
    try:
        raw = {
            "nonce": b64d(h["nonce"], "header.nonce"),
            "iv": b64d(env["iv"], "iv"),
            "wrapped_key": b64d(env["wrapped_key"], "wrapped_key"),
            "ciphertext": b64d(env["ciphertext"], "ciphertext"),
            "signature": b64d(env["signature"], "signature"),
        }
        if not isinstance(env["sender_chain"], list) or not env["sender_chain"]:
            raise EnvelopeError("sender_chain must list the sender certificate first", field="sender_chain")
        if len(env["sender_chain"]) > limit("sender_chain"):
            raise EnvelopeError(f"sender_chain holds more than {limit('sender_chain')} certificates", field="sender_chain")
        chain = [x509.load_der_x509_certificate(b64d(c, "sender_chain")) for c in env["sender_chain"]]
    except ValueError as exc:
        raise EnvelopeError(f"unreadable certificate in sender_chain ({exc})", field="sender_chain") from None
    except OtcError as exc:
        raise EnvelopeError(exc.message, field=exc.field) from None
    if len(raw["nonce"]) != 16 or len(raw["iv"]) != 12:
        raise EnvelopeError("nonce must be 16 bytes and iv 12 bytes", field="header.nonce")
    return env, raw, chain
