"""A local RFC 3161 timestamp authority (no network): pyHanko's in-process TSA with our checks.

``LocalTimestampAuthority`` is a pyHanko ``TimeStamper``, so PDF signing asks it for timestamp
tokens directly; ``respond`` also answers a DER-encoded ``TimeStampReq`` with a DER
``TimeStampResp``, which is the whole RFC 3161 protocol minus HTTP transport.
"""
from __future__ import annotations

import datetime as dt

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from ..errors import CertificateError, InputError
from .checks import TrustStore, check_certificate, check_purpose
from .load import Credentials


def to_asn1_cert(cert) -> asn1_x509.Certificate:
    """``cryptography`` certificate -> ``asn1crypto`` certificate (what pyHanko uses)."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def to_asn1_key(key) -> asn1_keys.PrivateKeyInfo:
    """``cryptography`` private key -> ``asn1crypto`` PrivateKeyInfo."""
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der)


class LocalTimestampAuthority(DummyTimeStamper):
    """In-process RFC 3161 TSA signing tokens with a certificate whose EKU is timeStamping."""

    def __init__(self, credentials: Credentials, trust: TrustStore | None = None, fixed_time: dt.datetime | None = None):
        if trust is not None:
            check_certificate(credentials.chain[0], "timestamp", trust, extra_chain=credentials.chain[1:])
        else:
            check_purpose(credentials.chain[0], "timestamp")
        self.credentials = credentials
        super().__init__(
            tsa_cert=to_asn1_cert(credentials.chain[0]),
            tsa_key=to_asn1_key(credentials.key),
            certs_to_embed=[to_asn1_cert(c) for c in credentials.chain[1:]],
            fixed_dt=fixed_time,
        )

    def respond(self, request_der: bytes) -> bytes:
        """DER ``TimeStampResp`` for a DER ``TimeStampReq`` (RFC 3161 section 2.4)."""
        try:
            req = tsp.TimeStampReq.load(request_der)
            req.native  # noqa: B018 - force a full parse so garbage is refused here
        except ValueError as exc:
            raise InputError(f"not an RFC 3161 TimeStampReq ({exc})", field="request") from None
        if req["message_imprint"]["hash_algorithm"]["algorithm"].native not in ("sha256", "sha384", "sha512"):
            raise CertificateError("TSA accepts SHA-256/384/512 message imprints only", field="request")
        return self.request_tsa_response(req).dump()
