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

from ..canonical import b64d, canonical_json
from ..errors import EnvelopeError, OtcError

VERSION = 1
CONTENT_ALG, KEY_ALG = "A256GCM", "RSA-OAEP-256"
HEADER_KEYS = {"content_alg", "key_alg", "sig_alg", "nonce", "recipient", "sender", "time", "type", "uti", "v"}
TOP_KEYS = {"ciphertext", "header", "iv", "sender_chain", "signature", "wrapped_key"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FP_RE = re.compile(r"^[0-9a-f]{64}$")


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate DER, lowercase hex."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def signed_part(env: dict[str, Any]) -> bytes:
    """Bytes covered by the sender's signature."""
    return canonical_json({k: env[k] for k in ("ciphertext", "header", "iv", "sender_chain", "wrapped_key")})


def aad(header: dict[str, Any]) -> bytes:
    """GCM associated data: the canonical header (binds type, UTI, time, nonce, parties)."""
    return canonical_json(header)


def parse(data: bytes) -> tuple[dict[str, Any], dict[str, bytes], list[x509.Certificate]]:
    """(envelope dict, decoded binary fields, sender chain); ``EnvelopeError`` on any malformation."""
    try:
        env = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"envelope is not valid JSON ({exc})", field="envelope") from None
    if not isinstance(env, dict) or set(env) != TOP_KEYS:
        raise EnvelopeError(f"envelope must have exactly the keys {sorted(TOP_KEYS)}", field="envelope")
    if canonical_json(env) != data.strip():
        raise EnvelopeError("envelope is not in canonical form (altered in transit?)", field="envelope")
    h = env["header"]
    if not isinstance(h, dict) or set(h) != HEADER_KEYS:
        raise EnvelopeError(f"envelope header must have exactly the keys {sorted(HEADER_KEYS)}", field="header")
    if h["v"] != VERSION or h["content_alg"] != CONTENT_ALG or h["key_alg"] != KEY_ALG:
        raise EnvelopeError(
            f"unsupported envelope version/algorithms ({h['v']}, {h['content_alg']}, {h['key_alg']}); "
            f"supported: {VERSION}, {CONTENT_ALG}, {KEY_ALG}",
            field="header",
        )
    for k in ("type", "uti", "sig_alg"):
        if not isinstance(h[k], str) or not h[k]:
            raise EnvelopeError(f"header.{k} must be a non-empty string", field=f"header.{k}")
    if not isinstance(h["time"], str) or not TIME_RE.match(h["time"]):
        raise EnvelopeError("header.time must be YYYY-MM-DDTHH:MM:SSZ", field="header.time")
    for k in ("sender", "recipient"):
        if not isinstance(h[k], str) or not FP_RE.match(h[k]):
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
        chain = [x509.load_der_x509_certificate(b64d(c, "sender_chain")) for c in env["sender_chain"]]
    except ValueError as exc:
        raise EnvelopeError(f"unreadable certificate in sender_chain ({exc})", field="sender_chain") from None
    except OtcError as exc:
        raise EnvelopeError(exc.message, field=exc.field) from None
    if len(raw["nonce"]) != 16 or len(raw["iv"]) != 12:
        raise EnvelopeError("nonce must be 16 bytes and iv 12 bytes", field="header.nonce")
    return env, raw, chain
