"""A demo / test PKI built with ``cryptography``: root CA, party signers, a TSA, bad certificates, CRL.

Everything here is for demos and tests only. ``write`` puts private keys in files of mode 0600
and never replaces existing files unless asked (``force``); PEM keys are unencrypted and the
PKCS#12 password is ``DEMO_PASSWORD`` unless a passphrase is given, which then encrypts every key.
Parties:

- ``dealer``, ``client``: signing + non-repudiation + key encipherment, EKU documentSigning and
  emailProtection: they sign PDFs, seal/open envelopes and sign evidence checkpoints;
- ``tsa``: RFC 3161 timestamp authority (EKU timeStamping, critical);
- ``expired``: a party certificate whose validity ended yesterday;
- ``revoked``: a party certificate listed on the CA's CRL (keyCompromise);
- ``tls``: a web-server certificate (EKU serverAuth only): the wrong purpose for signing.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import InputError
from .checks import DOCUMENT_SIGNING, TrustStore
from .load import Credentials

DEMO_PASSWORD = "demo"
CRL_URL = "http://pki.otclab.invalid/demo-root.crl"  # .invalid: never resolvable, nothing is fetched
KEY_BITS = 2048  # demo keys; production keys come from the signing platform or an HSM

# party -> (common name, organisation)
PARTIES = {
    "dealer": ("示例证券股份有限公司 场外衍生品部", "示例证券股份有限公司"),
    "client": ("示例私募基金管理有限公司", "示例私募基金管理有限公司"),
    "tsa": ("OTCLAB Demo Timestamp Authority", "otclab demo"),
    "expired": ("过期示例公司", "过期示例公司"),
    "revoked": ("吊销示例公司", "吊销示例公司"),
    "tls": ("www.example.com", "otclab demo"),
}


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _ku(**on: bool) -> x509.KeyUsage:
    flags = dict(
        digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )
    flags.update(on)
    return x509.KeyUsage(**flags)


@dataclass
class DemoPki:
    """Root CA, party credentials and the CA's CRL."""

    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    parties: dict[str, Credentials]
    crl: x509.CertificateRevocationList
    created: dt.datetime
    files: dict[str, str] = field(default_factory=dict)

    def trust(self, **kw) -> TrustStore:
        """Trust store holding the demo root and its CRL."""
        return TrustStore(roots=[self.root], crls=[self.crl], **kw)

    def write(self, directory: str | Path, password: str | None = None, force: bool = False) -> dict[str, str]:
        """Write PEM, PKCS#12 and a ``pki.json`` manifest to ``directory``; returns name -> path.

        Private keys (``*.key.pem``, ``*.p12``) are written with mode 0600, certificates, the CRL
        and the manifest with 0644, a new folder with 0700. With ``password`` every PEM key is
        encrypted with it (PKCS#8, best available encryption) and it is the PKCS#12 password;
        without, PEM keys are unencrypted (demo only) and the PKCS#12 password is ``DEMO_PASSWORD``.
        Existing files are never replaced unless ``force``: then nothing is written at all.
        """
        if password is not None and not password:
            raise InputError("an empty password encrypts nothing; give a passphrase or none", field="password")
        d = Path(directory)
        pem = serialization.Encoding.PEM
        pkcs8 = serialization.PrivateFormat.PKCS8
        key_enc = (serialization.BestAvailableEncryption(password.encode("utf-8")) if password
                   else serialization.NoEncryption())
        p12_pw = (password or DEMO_PASSWORD).encode("utf-8")
        plan: list[tuple[str, bytes, bool]] = [  # (file name, bytes, private)
            ("root-ca.pem", self.root.public_bytes(pem), False),
            ("root-ca.key.pem", self.root_key.private_bytes(pem, pkcs8, key_enc), True),
            ("crl.pem", self.crl.public_bytes(pem), False),
        ]
        for party, cred in self.parties.items():
            plan += [
                (f"{party}.pem", b"".join(c.public_bytes(pem) for c in cred.chain), False),
                (f"{party}.key.pem", cred.key.private_bytes(pem, pkcs8, key_enc), True),
                (f"{party}.p12", pkcs12.serialize_key_and_certificates(
                    party.encode(), cred.key, cred.chain[0], cred.chain[1:],
                    serialization.BestAvailableEncryption(p12_pw)), True),
            ]
        manifest = {
            "created": self.created.isoformat(),
            "root": "root-ca.pem",
            "crl": "crl.pem",
            "keys_encrypted": bool(password),
            "pkcs12_password": None if password else DEMO_PASSWORD,
            "parties": {p: {"cert": f"{p}.pem", "key": f"{p}.key.pem", "p12": f"{p}.p12",
                            "subject": c.chain[0].subject.rfc4514_string()} for p, c in self.parties.items()},
        }
        plan.append(("pki.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"), False))
        if d.exists() and not d.is_dir():
            raise InputError(f"{d} exists and is not a folder", field="directory")
        present = [name for name, _, _ in plan if (d / name).exists() or (d / name).is_symlink()]
        if present and not force:
            shown = ", ".join(present[:4]) + (f" and {len(present) - 4} more" if len(present) > 4 else "")
            raise InputError(f"{d} already holds {shown}: nothing written (give --force to replace them)",
                             field="directory")
        try:
            if not d.exists():
                d.mkdir(parents=True, mode=0o700)
                d.chmod(0o700)
            files: dict[str, str] = {}
            for name, data, private in plan:
                _write_file(d / name, data, 0o600 if private else 0o644)
                files[name] = str(d / name)
        except OSError as exc:
            raise InputError(f"cannot write the demo PKI into {d}: {exc.strerror or exc}", field="directory") from None
        self.files = files
        return files


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` with exactly ``mode`` (not widened by the umask, narrowed on an existing file); a
    symbolic link in the way is refused rather than followed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def build_demo_pki(now: dt.datetime | None = None) -> DemoPki:
    """Create a fresh demo PKI (new keys each call); ``now`` fixes the validity windows (UTC)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    root_key = _key()
    root_name = _name("OTCLAB Demo Root CA", "otclab demo")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1000))  # older than every certificate it issued
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ku(key_cert_sign=True, crl_sign=True, digital_signature=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    def issue(party: str) -> Credentials:
        cn, org = PARTIES[party]
        key = _key()
        start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=825)
        if party == "expired":
            start, end = now - dt.timedelta(days=400), now - dt.timedelta(days=1)
        if party == "tsa":
            ku, eku, eku_critical = _ku(digital_signature=True), [ExtendedKeyUsageOID.TIME_STAMPING], True
        elif party == "tls":
            ku = _ku(digital_signature=True, key_encipherment=True)
            eku, eku_critical = [ExtendedKeyUsageOID.SERVER_AUTH], False
        else:
            ku = _ku(digital_signature=True, content_commitment=True, key_encipherment=True)
            eku, eku_critical = [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION], False
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, org))
            .issuer_name(root_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(ku, critical=True)
            .add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
            )
            .add_extension(  # where relying parties would fetch the CRL; we hand it over as a file
                x509.CRLDistributionPoints([x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(CRL_URL)], relative_name=None, reasons=None,
                    crl_issuer=None)]),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        return Credentials(key=key, chain=[cert, root])

    parties = {p: issue(p) for p in PARTIES}
    revoked = (
        x509.RevokedCertificateBuilder()
        .serial_number(parties["revoked"].chain[0].serial_number)
        .revocation_date(now - dt.timedelta(hours=1))
        .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_name)
        .last_update(now - dt.timedelta(minutes=30))
        .next_update(now + dt.timedelta(days=30))
        .add_revoked_certificate(revoked)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return DemoPki(root=root, root_key=root_key, parties=parties, crl=crl, created=now)
