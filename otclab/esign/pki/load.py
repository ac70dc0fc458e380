"""Load private keys, certificate chains and CRLs from PEM/DER files or PKCS#12 bundles."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import CertificateError, InputError
from ..signer import RsaSigner


@dataclass
class Credentials:
    """A private key with its certificate chain (signer first)."""

    key: rsa.RSAPrivateKey
    chain: list[x509.Certificate]

    def signer(self, scheme: str = "pss") -> RsaSigner:
        """An ``RsaSigner`` over these credentials."""
        return RsaSigner(self.key, self.chain, scheme=scheme)


def _read(path: str | Path, field: str) -> bytes:
    from ..limits import describe, limit

    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}", field=field)
    try:
        if p.stat().st_size > limit("pki_file_bytes"):
            raise InputError(f"{p} is {p.stat().st_size} bytes, more than the {describe('pki_file_bytes')}", field=field)
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}", field=field) from None


def load_certificates(path: str | Path, field: str = "certificate") -> list[x509.Certificate]:
    """All certificates in a PEM file (in file order) or the single one in a DER file."""
    data = _read(path, field)
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise InputError(f"{path} is not a PEM or DER X.509 certificate ({exc})", field=field) from None
    return certs


def load_crls(path: str | Path, field: str = "crl") -> list[x509.CertificateRevocationList]:
    """The CRL(s) in a PEM or DER file."""
    data = _read(path, field)
    try:
        if b"-----BEGIN" in data:
            blocks = [b"-----BEGIN X509 CRL-----" + part for part in data.split(b"-----BEGIN X509 CRL-----")[1:]]
            return [x509.load_pem_x509_crl(b) for b in blocks]
        return [x509.load_der_x509_crl(data)]
    except ValueError as exc:
        raise InputError(f"{path} is not a PEM or DER CRL ({exc})", field=field) from None


def _password(password: str | bytes | None) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    return password.encode("utf-8")


def load_credentials(
    key_path: str | Path,
    cert_path: str | Path | None = None,
    password: str | bytes | None = None,
) -> Credentials:
    """Key and chain from a PKCS#12 file (``.p12``/``.pfx``, cert_path unused) or PEM key + PEM chain.

    The chain is ordered signer first; the key must match the first certificate.
    """
    data = _read(key_path, "key")
    pw = _password(password)
    if str(key_path).lower().endswith((".p12", ".pfx")) or not data.lstrip().startswith(b"-----"):
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
        except ValueError as exc:
            raise CertificateError(
                f"cannot open PKCS#12 file {key_path}: wrong password or corrupt file ({exc})", field="key"
            ) from None
        if key is None or cert is None:
            raise CertificateError(f"PKCS#12 file {key_path} lacks a private key or certificate", field="key")
        chain = [cert, *extra]
    else:
        try:
            key = serialization.load_pem_private_key(data, pw)
        except (ValueError, TypeError) as exc:
            raise CertificateError(
                f"cannot read private key {key_path}: wrong password or not a PEM key ({exc})", field="key"
            ) from None
        if cert_path is None:
            raise InputError("a PEM key needs its certificate file (--cert)", field="certificate")
        chain = load_certificates(cert_path)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(
            f"{key_path} holds a {type(key).__name__}; only RSA keys are supported (SM2 not yet)", field="key"
        )
    if chain[0].public_key().public_numbers() != key.public_key().public_numbers():
        raise CertificateError(
            f"the private key in {key_path} does not match certificate {chain[0].subject.rfc4514_string()}",
            field="key",
        )
    return Credentials(key=key, chain=chain)
