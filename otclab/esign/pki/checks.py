"""Decide whether a certificate may be used, and say why not: trust path, validity, CRL, purpose.

``check_certificate`` builds the path from the certificate to one of the trusted roots (issuer
name match plus a verified issuer signature), then refuses with a ``CertificateError`` whose
message names the reason: not yet valid / expired (with the dates), revoked (serial, date, reason,
from a CRL whose signature and freshness are checked), wrong key usage or extended key usage for
the requested purpose, or no path to a trusted root.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from ..errors import CertificateError

DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning (RFC 9336)

# purpose -> (key usages that must all be set, acceptable extended key usages or None = any)
PURPOSES: dict[str, tuple[tuple[str, ...], frozenset | None]] = {
    # signing documents (PDF/PAdES): non-repudiation, as pyHanko and PAdES require
    "document": (
        ("digital_signature", "content_commitment"),
        frozenset({DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}),
    ),
    # signing exchange messages and evidence checkpoints
    "message": (
        ("digital_signature",),
        frozenset({DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}),
    ),
    # receiving encrypted envelopes (content key wrapped to the certificate's RSA key)
    "encrypt": (
        ("key_encipherment",),
        frozenset({DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}),
    ),
    # RFC 3161 timestamp authority: EKU timeStamping only (RFC 3161 section 2.3)
    "timestamp": (("digital_signature",), frozenset({ExtendedKeyUsageOID.TIME_STAMPING})),
}

_KU_LABEL = {
    "digital_signature": "digitalSignature",
    "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment",
}


_EKU_LABEL = {
    DOCUMENT_SIGNING: "documentSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
}


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _utc(t: dt.datetime | None) -> dt.datetime:
    if t is None:
        return dt.datetime.now(dt.timezone.utc)
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


@dataclass
class TrustStore:
    """Trusted roots, optional intermediates and the CRLs known to us (no network fetching)."""

    roots: list[x509.Certificate]
    intermediates: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    require_crl: bool = False  # True: a certificate whose issuer published no CRL here is refused

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """Candidate issuers (by name) of ``cert`` among roots and intermediates."""
        return [c for c in (*self.intermediates, *self.roots) if c.subject == cert.issuer]


def _check_validity(cert: x509.Certificate, at: dt.datetime) -> None:
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < nb:
        raise CertificateError(
            f"certificate {_name(cert)} is not valid before {nb.isoformat()} (checked at {at.isoformat()})",
            field="certificate",
        )
    if at > na:
        raise CertificateError(
            f"certificate {_name(cert)} expired on {na.isoformat()} (checked at {at.isoformat()})",
            field="certificate",
        )


def _check_revocation(cert: x509.Certificate, issuer: x509.Certificate, store: TrustStore, at: dt.datetime) -> None:
    crls = [c for c in store.crls if c.issuer == issuer.subject]
    usable = [c for c in crls if c.is_signature_valid(issuer.public_key())]
    if crls and not usable:
        raise CertificateError(f"the CRL of {_name(issuer)} has an invalid signature", field="crl")
    if not usable:
        if store.require_crl:
            raise CertificateError(f"no CRL from {_name(issuer)} to check {_name(cert)} against", field="crl")
        return
    for crl in usable:
        if crl.next_update_utc is not None and crl.next_update_utc < at:
            raise CertificateError(
                f"the CRL of {_name(issuer)} is stale (next update was {crl.next_update_utc.isoformat()})",
                field="crl",
            )
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None and entry.revocation_date_utc <= at:
            reason = "unspecified"
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
            except x509.ExtensionNotFound:
                pass
            raise CertificateError(
                f"certificate {_name(cert)} (serial {cert.serial_number:x}) was revoked on "
                f"{entry.revocation_date_utc.isoformat()}, reason {reason}",
                field="certificate",
            )


def check_purpose(cert: x509.Certificate, purpose: str) -> None:
    try:
        needed, ekus = PURPOSES[purpose]
    except KeyError:
        raise CertificateError(f"unknown purpose {purpose!r}; allowed: {', '.join(PURPOSES)}", field="purpose") from None
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        ku = None
    if ku is not None:
        missing = [_KU_LABEL[k] for k in needed if not getattr(ku, k)]
        if missing:
            raise CertificateError(
                f"certificate {_name(cert)} may not be used for {purpose}: key usage lacks {', '.join(missing)}",
                field="certificate",
            )
    try:
        eku = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        eku = None
    if purpose == "timestamp" and eku is None:
        raise CertificateError(
            f"certificate {_name(cert)} is not a timestamp authority: no extended key usage timeStamping",
            field="certificate",
        )
    if eku is not None and ekus is not None and not (eku & ekus):
        have = ", ".join(sorted(_EKU_LABEL.get(o, o.dotted_string) for o in eku))
        raise CertificateError(
            f"certificate {_name(cert)} may not be used for {purpose}: extended key usage is {have}",
            field="certificate",
        )


def check_certificate(
    cert: x509.Certificate,
    purpose: str,
    store: TrustStore,
    at: dt.datetime | None = None,
    extra_chain: list[x509.Certificate] | None = None,
) -> list[x509.Certificate]:
    """Path [cert, ..., root] if ``cert`` is usable for ``purpose`` at time ``at`` (default now, UTC).

    ``extra_chain`` holds intermediates sent along with the certificate (never trusted by
    themselves). Raises ``CertificateError`` naming the first reason for refusal.
    """
    try:
        return _check(cert, purpose, store, _utc(at), extra_chain)
    except CertificateError:
        raise
    except Exception as exc:  # noqa: BLE001 - cryptography parses lazily: damaged input fails on access
        raise CertificateError(f"malformed certificate ({type(exc).__name__}: {exc})", field="certificate") from None


def _check(cert, purpose, store, at, extra_chain) -> list[x509.Certificate]:
    check_purpose(cert, purpose)
    pool = TrustStore(store.roots, [*store.intermediates, *(extra_chain or [])], store.crls, store.require_crl)
    path = [cert]
    current = cert
    for _ in range(8):  # a path longer than 8 is not something our counterparties use
        _check_validity(current, at)
        if any(current == r for r in store.roots):
            return path
        issuer = None
        for cand in pool.issuers_of(current):
            try:
                current.verify_directly_issued_by(cand)
            except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure: not this issuer
                continue
            issuer = cand
            break
        if issuer is None:
            raise CertificateError(
                f"certificate {_name(current)} does not chain to a trusted root (issuer {current.issuer.rfc4514_string()})",
                field="certificate",
            )
        try:
            bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            bc = None
        if bc is None or not bc.ca:
            raise CertificateError(f"issuer {_name(issuer)} is not a CA", field="certificate")
        _check_revocation(current, issuer, store, at)
        path.append(issuer)
        current = issuer
    raise CertificateError(f"certificate path of {_name(cert)} is too long", field="certificate")
