"""Seal an envelope: encrypt for the recipient, bind the header as associated data, sign as sender."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..canonical import b64e, canonical_json
from ..errors import CertificateError, EnvelopeError
from ..limits import describe, limit
from ..pki.checks import TrustStore, check_certificate, check_purpose
from ..signer import Signer
from .format import CONTENT_ALG, KEY_ALG, VERSION, aad, check_label, fingerprint, signed_part

if TYPE_CHECKING:
    from ..evidence import EvidenceLog

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def seal_envelope(
    content: bytes,
    msg_type: str,
    uti: str,
    sender: Signer,
    recipient: x509.Certificate,
    *,
    trust: TrustStore | None = None,
    now: dt.datetime | None = None,
    evidence: "EvidenceLog | None" = None,
) -> bytes:
    """Envelope bytes (canonical JSON) carrying ``content`` for ``recipient`` (see ``format``).

    A fresh 256-bit content key and 96-bit IV per envelope; the key is wrapped with RSA-OAEP
    (SHA-256, MGF1-SHA-256) to the recipient certificate's key; the header (type, UTI, time,
    nonce, sender and recipient fingerprints) is the GCM associated data; the sender signs the
    header, wrapped key, IV and ciphertext. With ``trust``, both certificates are checked first.
    """
    if not msg_type or not uti:
        raise EnvelopeError("message type and UTI are required", field="type" if not msg_type else "uti")
    check_label(msg_type, "type")
    check_label(uti, "uti")
    if len(content) > limit("envelope_bytes") * 3 // 4:  # base64 makes it a third larger
        raise EnvelopeError(f"content of {len(content)} bytes cannot fit an envelope within the "
                            f"{describe('envelope_bytes')}", field="content")
    if trust is not None:
        check_certificate(recipient, "encrypt", trust, at=now)
        check_certificate(sender.certificate, "message", trust, at=now, extra_chain=sender.certificate_chain[1:])
    else:
        check_purpose(recipient, "encrypt")
        check_purpose(sender.certificate, "message")
    pub = recipient.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        raise CertificateError("recipient certificate must hold an RSA key", field="recipient")
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    header = {
        "content_alg": CONTENT_ALG,
        "key_alg": KEY_ALG,
        "sig_alg": sender.algorithm_id,
        "nonce": b64e(os.urandom(16)),
        "recipient": fingerprint(recipient),
        "sender": fingerprint(sender.certificate),
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": msg_type,
        "uti": uti,
        "v": VERSION,
    }
    key, iv = AESGCM.generate_key(bit_length=256), os.urandom(12)
    env = {
        "ciphertext": b64e(AESGCM(key).encrypt(iv, content, aad(header))),
        "header": header,
        "iv": b64e(iv),
        "wrapped_key": b64e(pub.encrypt(key, OAEP)),
    }
    env["sender_chain"] = [b64e(c.public_bytes(serialization.Encoding.DER)) for c in sender.certificate_chain]
    env["signature"] = b64e(sender.sign(signed_part(env)))
    data = canonical_json(env)
    if len(data) > limit("envelope_bytes"):
        raise EnvelopeError(f"the sealed envelope would be {len(data)} bytes, more than the {describe('envelope_bytes')}: "
                            "the recipient would refuse it", field="content")
    if evidence is not None:
        evidence.append("envelope.sealed", {"envelope_sha256": hashlib.sha256(data).hexdigest(), **header})
    return data
