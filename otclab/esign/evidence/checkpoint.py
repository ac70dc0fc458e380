"""Signed checkpoints (tree heads) of the evidence log: size, root hash, time, signed by a ``Signer``.

The signed body is a short text note in the spirit of C2SP tlog-checkpoint::

    otclab-evidence-log/v1
    <size>
    <base64 root hash>
    <time, ISO 8601 UTC>
    signer <SHA-256 of the signer certificate DER, hex>

A checkpoint file is canonical JSON ``{"algorithm", "body", "certificate", "signature"}``; parsing is
strict (exact keys, canonical base64), and the body names the signer certificate by its SHA-256,
so any change to the file (certificate included) is refused or fails verification. The signature
is trusted only through a trust store (``verify(trust)``): a checkpoint carries its own signer
certificate, so a signature that merely matches it (``check_integrity``) says nothing about who
signed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..canonical import b64d, b64e, canonical_json, load_json
from ..errors import EvidenceError, OtcError
from ..limits import MAX_TREE_SIZE, check_size
from ..pki.checks import TrustStore, check_certificate
from ..signer import Signer, verify_signature

ORIGIN = "otclab-evidence-log/v1"
KEYS = {"algorithm", "body", "certificate", "signature"}
SIZE_RE = re.compile(r"0|[1-9][0-9]{0,18}")
TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the log had ``size`` entries with root ``root`` at ``time``."""

    size: int
    root: bytes
    time: str
    algorithm: str
    signature: bytes
    certificate: bytes  # DER of the signer certificate

    @staticmethod
    def body_for(size: int, root: bytes, time: str, certificate: bytes) -> bytes:
        """The exact bytes that are signed."""
        fp = hashlib.sha256(certificate).hexdigest()
        return f"{ORIGIN}\n{size}\n{b64e(root)}\n{time}\nsigner {fp}\n".encode("ascii")

    @property
    def body(self) -> bytes:
        return self.body_for(self.size, self.root, self.time, self.certificate)

    @classmethod
    def create(cls, size: int, root: bytes, signer: Signer, now: dt.datetime | None = None) -> "Checkpoint":
        """Sign a new checkpoint for ``size``/``root`` at ``now`` (UTC, second precision)."""
        now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
        time = now.isoformat().replace("+00:00", "Z")
        der = signer.certificate.public_bytes(serialization.Encoding.DER)
        sig = signer.sign(cls.body_for(size, root, time, der))
        return cls(size, root, time, signer.algorithm_id, sig, der)

    def to_json(self) -> str:
        """Canonical JSON text of the checkpoint file."""
        return canonical_json(
            {
                "algorithm": self.algorithm,
                "body": self.body.decode("ascii"),
                "certificate": b64e(self.certificate),
                "signature": b64e(self.signature),
            }
        ).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> "Checkpoint":
        """Parse a checkpoint file strictly; raises ``EvidenceError`` on any malformation."""
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
        check_size(len(raw), "checkpoint_bytes", "checkpoint")
        obj = load_json(raw, "checkpoint", EvidenceError)
        if not isinstance(obj, dict) or set(obj) != KEYS:
            raise EvidenceError(f"checkpoint must have exactly the keys {sorted(KEYS)}", field="checkpoint")
        for k in sorted(KEYS):
            if not isinstance(obj[k], str):
                raise EvidenceError(f"checkpoint {k} must be a string", field=f"checkpoint.{k}")
        if canonical_json(obj) != raw.strip():
            raise EvidenceError("checkpoint file is not in canonical form (altered?)", field="checkpoint")
        try:
            lines = obj["body"].split("\n")
            if len(lines) != 6 or lines[0] != ORIGIN or lines[5] != "":
                raise ValueError("unexpected layout")
            if not SIZE_RE.fullmatch(lines[1]) or int(lines[1]) > MAX_TREE_SIZE:
                raise ValueError(f"bad size (0..{MAX_TREE_SIZE}, no leading zeros)")
            size = int(lines[1])
            root = b64d(lines[2], "checkpoint.root")
            if len(root) != 32:
                raise ValueError("root hash must be 32 bytes")
            time = lines[3]
            if not TIME_RE.fullmatch(time):
                raise ValueError("time must be YYYY-MM-DDTHH:MM:SSZ")
            dt.datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ")
            sig = b64d(obj["signature"], "checkpoint.signature")
            cert = b64d(obj["certificate"], "checkpoint.certificate")
        except (ValueError, OtcError) as exc:
            raise EvidenceError(f"malformed checkpoint body ({exc})", field="checkpoint") from None
        cp = cls(size, root, time, obj["algorithm"], sig, cert)
        if cp.body.decode("ascii") != obj["body"]:
            raise EvidenceError(
                "checkpoint body is not canonical or names another signer certificate", field="checkpoint"
            )
        return cp

    def cert(self) -> x509.Certificate:
        try:
            return x509.load_der_x509_certificate(self.certificate)
        except ValueError as exc:
            raise EvidenceError(f"checkpoint certificate unreadable ({exc})", field="checkpoint.certificate") from None

    def verify(self, trust: TrustStore | None) -> x509.Certificate:
        """Check the signer certificate against ``trust`` at checkpoint time (path, validity, CRL,
        purpose), then the signature. Without a trust store there is nothing to trust: refused."""
        if not isinstance(trust, TrustStore):
            raise EvidenceError(
                "a checkpoint signature is trusted only through the root that issued its signer's certificate: "
                "give a trust store (--trust-root)",
                field="trust-root",
            )
        cert = self.cert()
        try:
            when = dt.datetime.strptime(self.time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        except (TypeError, ValueError):
            raise EvidenceError(f"checkpoint time {self.time!r} is not YYYY-MM-DDTHH:MM:SSZ", field="checkpoint") from None
        check_certificate(cert, "message", trust, at=when)
        self._check_signature(cert)
        return cert

    def check_integrity(self) -> x509.Certificate:
        """The signature against the certificate the checkpoint carries, and nothing more: this
        shows the file was not altered after signing, not who signed it (use ``verify``)."""
        cert = self.cert()
        self._check_signature(cert)
        return cert

    def _check_signature(self, cert: x509.Certificate) -> None:
        try:
            verify_signature(cert, self.algorithm, self.body, self.signature)
        except OtcError as exc:
            raise EvidenceError(f"checkpoint signature invalid: {exc.message}", field="checkpoint") from None
        except Exception as exc:  # noqa: BLE001 - a damaged certificate/key fails lazily inside cryptography
            raise EvidenceError(f"checkpoint certificate unusable ({type(exc).__name__})", field="checkpoint") from None
