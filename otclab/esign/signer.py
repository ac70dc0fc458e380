"""The signing interface: every backend (RSA in software today, SM2 or an HSM later) implements it.

A ``Signer`` signs bytes and says which algorithm it used and which certificate chain vouches for
its key. Verification goes through ``verify_signature``, which dispatches on the algorithm id, so
a new backend registers one signing class and one verify function and nothing else changes.

Algorithm ids (strings, stored next to every signature we produce):

- ``rsa-pss-sha256``: RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32 bytes (RFC 4055 defaults);
- ``rsa-pkcs1v15-sha256``: RSASSA-PKCS1-v1_5 with SHA-256.

SM2 (``sm2-sm3``) is NOT implemented: ``cryptography`` provides SM3 and SM4 but no SM2 signatures.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import CertificateError, SignatureError

PSS_SALT_LENGTH = 32  # bytes; equals the SHA-256 digest size, the RFC 4055 / PAdES convention


class Signer(ABC):
    """Signs bytes with a private key whose certificate chain is known."""

    @property
    @abstractmethod
    def algorithm_id(self) -> str:
        """Algorithm id of the signatures ``sign`` returns (see module docstring)."""

    @property
    @abstractmethod
    def certificate_chain(self) -> list[x509.Certificate]:
        """Signer certificate first, then issuing CAs up to (optionally including) the root."""

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Signature over ``data`` (the backend hashes it; callers pass the message itself)."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's own certificate (first of the chain)."""
        return self.certificate_chain[0]


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)


class RsaSigner(Signer):
    """Software RSA signer (``cryptography``); ``scheme`` is ``"pss"`` (default) or ``"pkcs1v15"``."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey,
        chain: list[x509.Certificate],
        scheme: str = "pss",
    ):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CertificateError("the private key is not an RSA key", field="key")
        if not chain:
            raise CertificateError("a signer needs its certificate", field="certificate")
        if chain[0].public_key().public_numbers() != key.public_key().public_numbers():
            raise CertificateError(
                "the private key does not belong to the certificate "
                f"{chain[0].subject.rfc4514_string()}",
                field="key",
            )
        if scheme not in ("pss", "pkcs1v15"):
            raise CertificateError(f"unknown RSA scheme {scheme!r}; allowed: pss, pkcs1v15", field="scheme")
        self._key = key
        self._chain = list(chain)
        self._scheme = scheme

    @property
    def algorithm_id(self) -> str:
        return "rsa-pss-sha256" if self._scheme == "pss" else "rsa-pkcs1v15-sha256"

    @property
    def certificate_chain(self) -> list[x509.Certificate]:
        return list(self._chain)

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The RSA private key (needed to open envelopes addressed to this party)."""
        return self._key

    def sign(self, data: bytes) -> bytes:
        pad = _pss() if self._scheme == "pss" else padding.PKCS1v15()
        return self._key.sign(data, pad, hashes.SHA256())


def _verify_rsa(scheme: str) -> Callable[[x509.Certificate, bytes, bytes], None]:
    def verify(cert: x509.Certificate, data: bytes, signature: bytes) -> None:
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("the certificate does not hold an RSA key", field="certificate")
        pad = _pss() if scheme == "pss" else padding.PKCS1v15()
        try:
            key.verify(signature, data, pad, hashes.SHA256())
        except InvalidSignature:
            raise SignatureError(
                f"signature does not verify with the key of {cert.subject.rfc4514_string()} "
                "(data altered or wrong key)",
                field="signature",
            ) from None

    return verify


VERIFIERS: dict[str, Callable[[x509.Certificate, bytes, bytes], None]] = {
    "rsa-pss-sha256": _verify_rsa("pss"),
    "rsa-pkcs1v15-sha256": _verify_rsa("pkcs1v15"),
}


def verify_signature(cert: x509.Certificate, algorithm_id: str, data: bytes, signature: bytes) -> None:
    """Check ``signature`` over ``data`` against the public key of ``cert``; raise ``SignatureError``."""
    try:
        verify = VERIFIERS[algorithm_id]
    except KeyError:
        raise SignatureError(
            f"unsupported signature algorithm {algorithm_id!r}; supported: {', '.join(sorted(VERIFIERS))}",
            field="algorithm",
        ) from None
    verify(cert, data, signature)
