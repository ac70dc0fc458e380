"""Validate every signature of a PDF offline and report intact / trusted / coverage / timestamp / signer.

Trust comes only from the given ``TrustStore`` (roots and CRLs); nothing is fetched. For each
signature we report:

- ``intact``: the signed byte ranges hash to the digest in the CMS signed attributes;
- ``valid``: the CMS signature verifies with the signer certificate's key;
- ``trusted``: pyHanko's path validation succeeds AND our own policy (``check_certificate`` for
  document signing, at the timestamp time or else the claimed signing time) accepts the signer:
  chains to a trusted root, valid then, not revoked by the CRLs we hold, right key usage. With a
  trusted signature timestamp both check the signer at the timestamp's time, so a signature
  stays trusted after its certificate expires; without one, the certificate must be valid now;
- ``coverage``: ``entire_file`` (nothing after it), or ``entire_revision`` plus the level of the
  later modifications pyHanko's difference analysis allows (only signatures/form filling);
- ``timestamp``: the RFC 3161 signature timestamp, its validity and trust (TSA EKU timeStamping).

The document is ``ok`` when it has at least one signature and every signature is intact, valid,
trusted, covers the whole document up to allowed later additions, and its timestamp (if any) is
valid and trusted. ``notes`` name benign differences (``_benign_notes``): the last signature's
/Contents hex string re-cased or with white space, which encode the very same bytes.
"""
from __future__ import annotations

import hashlib
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ..errors import InputError, OtcError
from ..limits import check_size, describe, limit
from ..pki.checks import TrustStore, check_certificate
from ..pki.tsa import to_asn1_cert
from .sign import open_pdf


def validation_context(trust: TrustStore, moment=None) -> ValidationContext:
    """pyHanko validation context: our roots and CRLs, no fetching, revocation checked when known;
    ``moment`` the time certificates must be valid at (default now). At a past moment the CRLs we
    hold (issued later) still count: a revocation they list from before the moment refuses."""
    return ValidationContext(
        trust_roots=[to_asn1_cert(c) for c in trust.roots],
        other_certs=[to_asn1_cert(c) for c in trust.intermediates],
        crls=[asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)) for c in trust.crls],
        allow_fetching=False,
        revocation_mode="hard-fail" if trust.require_crl else "soft-fail",
        moment=moment, retroactive_revinfo=moment is not None,
    )


def _timestamp(ts) -> dict[str, Any]:
    if ts is None:
        return {"present": False}
    return {
        "present": True,
        "intact": bool(ts.intact),
        "valid": bool(ts.valid),
        "trusted": bool(ts.trusted),
        "time": ts.timestamp.isoformat(),
        "tsa": ts.signing_cert.subject.human_friendly,
    }


def _padding_clean(sig) -> bool:
    """True if /Contents holds exactly the DER CMS object followed by zero padding.

    /Contents is excluded from the signed byte range (it holds the signature), and DER parsers
    ignore what follows the CMS object, so a change in the padding would otherwise go unnoticed.
    """
    raw = bytes(sig.pkcs7_content)
    der = cms.ContentInfo.load(raw).dump()
    return raw.startswith(der) and not raw[len(der):].strip(b"\x00")


def _bundled_certificates(signed_data: cms.SignedData) -> list[x509.Certificate]:
    """Certificates carried in a CMS SignedData and in the timestamp tokens of its signers."""
    out = []
    for choice in signed_data["certificates"] or []:
        if choice.name == "certificate":
            out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
    for info in signed_data["signer_infos"]:
        for attr in info["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                for token in attr["values"]:
                    out.extend(_bundled_certificates(token["content"]))
    return out


def _signed_data_consistent(sd: cms.SignedData) -> bool:
    """The unsigned framing of a SignedData agrees with its signer infos (RFC 5652 §5.1):
    the digest-algorithm set is exactly the signers' algorithms and the version matches."""
    algos = {a["algorithm"].native for a in sd["digest_algorithms"]}
    signer_algos = {si["digest_algorithm"]["algorithm"].native for si in sd["signer_infos"]}
    v3 = (any(si["version"].native == "v3" for si in sd["signer_infos"])
          or sd["encap_content_info"]["content_type"].native != "data")
    expected = "v3" if v3 else "v1"
    if algos != signer_algos or sd["version"].native != expected:
        return False
    for info in sd["signer_infos"]:   # v1 ↔ issuer and serial number, v3 ↔ subject key identifier
        want = "v1" if info["sid"].name == "issuer_and_serial_number" else "v3"
        if info["version"].native != want:
            return False
    for info in sd["signer_infos"]:
        for attr in info["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                if not all(_signed_data_consistent(tok["content"]) for tok in attr["values"]):
                    return False
    return True


def _container_intact(sig) -> bool:
    """/Contents holds canonical DER (re-encoding it gives the same bytes) whose unsigned
    framing is consistent: a changed length, version or algorithm byte there is tampering."""
    try:
        raw = bytes(sig.pkcs7_content)
        der = cms.ContentInfo.load(raw).dump()
        parsed = cms.ContentInfo.load(der)
        if parsed.dump(force=True) != der:
            return False
        return _signed_data_consistent(parsed["content"])
    except Exception:  # noqa: BLE001 - any parse failure of the container is tampering
        return False


def _certificates_intact(sig, trust: TrustStore) -> bool:
    """True if every certificate bundled in /Contents verifies against its issuer.

    The CMS certificate sets (and the timestamp token's) lie outside both the signed byte range
    and the signed attributes; a byte changed there leaves the signature valid because trust
    comes from our store, so each bundled certificate is checked against its issuer (bundled or
    trusted) instead.
    """
    try:
        certs = _bundled_certificates(cms.ContentInfo.load(bytes(sig.pkcs7_content))["content"])
    except Exception:  # noqa: BLE001 - any parse failure of the container is tampering
        return False
    pool = certs + list(trust.roots) + list(trust.intermediates)
    for cert in certs:
        issuers = [c for c in pool if c.subject == cert.issuer]
        ok = False
        for issuer in issuers:
            try:
                cert.verify_directly_issued_by(issuer)
                ok = True
                break
            except Exception:  # noqa: BLE001 - wrong issuer key, altered bytes, unsupported
                continue
        if not ok:
            return False
    return True


PDF_WHITESPACE = frozenset(b"\x00\t\n\x0c\r ")


def _benign_notes(data: bytes, sig) -> list[str]:
    """Changes to the /Contents hex string that leave the bytes it encodes as they were.

    /Contents is the one part of a signed PDF outside the signed byte ranges. Its hex string may
    differ from what the signer wrote in letter case (a-f / A-F) or by white space (which PDF
    readers skip; a padding digit turned into a space still decodes to the same zero padding)
    without changing a single decoded byte: the signature is then exactly the one the signer
    made, and such a change is benign. Every other change fails (docs/esign.md)."""
    try:
        start, len1, start2, _ = (int(x) for x in sig.byte_range)
    except (TypeError, ValueError):
        return []
    raw = data[start + len1:start2]
    if len(raw) < 2 or raw[:1] != b"<" or raw[-1:] != b">":
        return []
    inner = raw[1:-1]
    notes = []
    if any(0x41 <= c <= 0x46 for c in inner) and any(0x61 <= c <= 0x66 for c in inner):
        notes.append("the /Contents hex string mixes upper- and lower-case letters: letter case does not change "
                     "the bytes it encodes, the signature is the signer's (benign; docs/esign.md)")
    if any(c in PDF_WHITESPACE for c in inner):
        notes.append("the /Contents hex string contains white space, which PDF readers skip: the bytes it encodes "
                     "(signature and zero padding) are the signer's (benign; docs/esign.md)")
    return notes


def _one(sig, trust: TrustStore, data: bytes = b"", at=None) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": sig.field_name, "notes": []}
    try:
        now_ctx = validation_context(trust, at)
        status = validate_pdf_signature(sig, now_ctx, now_ctx)
        tsv = status.timestamp_validity
        if tsv is not None and tsv.intact and tsv.valid and tsv.trusted and not status.trusted:
            # a trusted timestamp proves when it was signed: the signer's certificate must have
            # been valid (and not revoked) then, not now (an archived confirmation outlives it)
            status = validate_pdf_signature(sig, validation_context(trust, tsv.timestamp), now_ctx)
    except Exception as exc:  # noqa: BLE001 - a damaged signature must be reported, not crash us
        entry.update(ok=False, intact=False, valid=False, trusted=False,
                     problems=[f"signature cannot be validated: {type(exc).__name__}: {exc}"])
        return entry
    cov = status.coverage
    mod = status.modification_level
    whole = cov == SignatureCoverageLevel.ENTIRE_FILE or (
        cov == SignatureCoverageLevel.ENTIRE_REVISION
        and mod is not None
        and mod <= ModificationLevel.FORM_FILLING
        and status.docmdp_ok is not False
    )
    ts = _timestamp(status.timestamp_validity)
    problems = []
    if not _padding_clean(sig):
        problems.append("signature container altered: non-zero bytes after the CMS object in /Contents")
    if not _container_intact(sig):
        problems.append("signature container altered: /Contents is not the canonical CMS its signer wrote")
    if not _certificates_intact(sig, trust):
        problems.append("signature container altered: a bundled certificate does not verify against its issuer")
    if not status.intact:
        problems.append("document bytes changed after signing (digest mismatch)")
    if status.intact and not status.valid:
        problems.append("cryptographic signature does not verify")
    # our own certificate policy at signing time (timestamp if trusted, else the claimed time):
    # path, validity, CRL (also for certificates that declare no CRL distribution point) and purpose
    when = None
    if ts["present"] and ts.get("trusted"):
        when = status.timestamp_validity.timestamp
    elif status.signer_reported_dt is not None:
        when = status.signer_reported_dt
    refused = None
    try:
        cert = x509.load_der_x509_certificate(status.signing_cert.dump())
        check_certificate(cert, "document", trust, at=when)
    except OtcError as exc:
        refused = exc.message
    revoked = bool(status.revoked) or (refused is not None and " was revoked on " in refused)
    trusted = bool(status.trusted) and refused is None
    if not trusted:
        if refused:
            problems.append(f"signer certificate refused: {refused}")
        else:
            problems.append("signer certificate not trusted (unknown root, expired or wrong purpose)")
    if not whole:
        problems.append(f"signature does not cover the whole document (coverage {cov.name}, later changes {getattr(mod, 'name', mod)})")
    if ts["present"] and not (ts["intact"] and ts["valid"] and ts["trusted"]):
        problems.append("signature timestamp invalid or untrusted")
    entry.update(
        signer=status.signing_cert.subject.human_friendly,
        signer_serial=format(status.signing_cert.serial_number, "x"),
        algorithm=status.md_algorithm,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=trusted,
        revoked=revoked,
        coverage=cov.name.lower(),
        later_modifications=getattr(mod, "name", None) and mod.name.lower(),
        docmdp_ok=status.docmdp_ok,
        whole_document=bool(whole),
        signing_time=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        timestamp=ts,
        ok=not problems,
        problems=problems,
        notes=[] if problems else _benign_notes(data, sig),
    )
    return entry


def verify_pdf(data: bytes, trust: TrustStore, at=None) -> dict[str, Any]:
    """Validation report of all signatures in ``data`` (see module docstring); raises on unreadable
    PDFs. ``at``: the time of the validation (default now; a later time tells whether the
    document will still verify then)."""
    check_size(len(data), "pdf_bytes", "pdf")
    try:
        reader = open_pdf(data)
        sigs = list(reader.embedded_signatures)
    except InputError:
        raise
    except (PdfError, ArithmeticError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # ArithmeticError: a damaged number token makes the parser raise decimal.InvalidOperation
        raise InputError(f"corrupt PDF: cannot read its signature fields ({type(exc).__name__}: {exc})", field="pdf") from None
    if len(sigs) > limit("pdf_signatures"):
        raise InputError(f"{len(sigs)} signatures, more than the {describe('pdf_signatures')}", field="pdf")
    report = [_one(s, trust, data, at) for s in sigs]
    # A signed field whose signature pyHanko cannot recognise (e.g. an altered /SubFilter) is
    # skipped by it: without this, a document whose later signature was damaged would report
    # only the earlier ones, and those may well be fine.
    try:
        filled = [name for name, _, _ in enumerate_sig_fields(reader, filled_status=True)]
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InputError(f"corrupt PDF: cannot read its signature fields ({type(exc).__name__}: {exc})", field="pdf") from None
    seen = {r["field"] for r in report}
    for name in filled:
        if name not in seen:
            report.append({"field": name, "ok": False, "intact": False, "valid": False, "trusted": False, "notes": [],
                           "problems": ["signed field whose signature cannot be read (unknown or altered signature "
                                        "dictionary)"]})
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "signatures": report,
        "count": len(report),
        "ok": bool(report) and all(r["ok"] for r in report),
        "problems": [] if report else ["the PDF has no signatures"],
    }
