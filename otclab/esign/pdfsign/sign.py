"""Sign a PDF (PAdES baseline, CAdES-detached CMS) with a visible seal and an RFC 3161 timestamp.

Several signers sign one document by incremental updates: the first (the dealer) may *certify*
the document (DocMDP: only form filling and further signatures allowed afterwards), the next (the
client) adds an approval signature in a new field. Each signature covers the whole file as it was
when signed; later revisions may only add signatures.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper

from ..errors import InputError
from ..limits import check_size
from ..pki.checks import TrustStore, check_certificate
from ..signer import Signer
from .adapter import HankoSignerAdapter
from .font import seal_font_path

# fontTools reports every table it does not subset (harmless for the seal font); keep stderr clean
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

if TYPE_CHECKING:
    from ..evidence import EvidenceLog

SEAL_WIDTH, SEAL_HEIGHT, SEAL_GAP = 180, 90, 10  # PDF points (1/72 inch)


@dataclass
class SealSpec:
    """Visible seal: text lines (Chinese allowed) and where it goes; ``box`` None = next free slot.

    ``%(signer)s`` and ``%(ts)s`` in the text are replaced by the signer's name and signing time.
    """

    lines: list[str] = field(default_factory=lambda: ["电子签章：%(signer)s", "签署时间：%(ts)s"])
    page: int = -1
    box: tuple[int, int, int, int] | None = None
    font_size: int = 7


def open_pdf(data: bytes, field_name: str = "pdf") -> PdfFileReader:
    """Parse PDF bytes with pyHanko, turning any parse failure into ``InputError``."""
    if not data.startswith(b"%PDF-"):
        raise InputError("not a PDF file (no %PDF- header)", field=field_name)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        reader.root  # noqa: B018 - force reading the trailer and catalogue
        return reader
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputError(f"corrupt or truncated PDF ({type(exc).__name__}: {exc})", field=field_name) from None


def next_field_name(data: bytes) -> str:
    """Name given to a new signature field when none is chosen: Signature<n+1>."""
    return f"Signature{len(list(fields.enumerate_sig_fields(open_pdf(data)))) + 1}"


def _next_box(reader: PdfFileReader) -> tuple[int, int, int, int]:
    """Lower-left seal slot not used by an existing signature field (slots run left to right)."""
    used = len(list(fields.enumerate_sig_fields(reader)))
    x0 = 40 + used * (SEAL_WIDTH + SEAL_GAP)
    return (x0, 40, x0 + SEAL_WIDTH, 40 + SEAL_HEIGHT)


def sign_pdf(
    data: bytes,
    signer: Signer,
    *,
    field_name: str | None = None,
    seal: SealSpec | None = None,
    timestamper: TimeStamper | None = None,
    certify: bool = False,
    later_fields: tuple[str, ...] | list[str] = (),
    reason: str | None = None,
    location: str | None = None,
    trust: TrustStore | None = None,
    at: dt.datetime | None = None,
    evidence: "EvidenceLog | None" = None,
) -> bytes:
    """Signed PDF bytes: ``data`` plus one incremental update holding the new signature.

    ``trust`` (if given) makes us refuse a signer certificate that is expired, revoked or not for
    document signing *before* signing, with the reason. ``timestamper`` adds an RFC 3161 signature
    timestamp token (PAdES-B-T). ``certify`` makes this a certification signature allowing only
    form filling and further signatures afterwards; ``later_fields`` then names the empty seal
    fields created for the later signers (they sign with ``field_name`` set to one of them).
    With ``evidence``, the signature (``signed_record``: SHA-256 of input and output, signer,
    field) is appended to the evidence log.
    """
    check_size(len(data), "pdf_bytes", "pdf")
    if trust is not None:
        check_certificate(signer.certificate, "document", trust, at=at, extra_chain=signer.certificate_chain[1:])
    reader = open_pdf(data)
    seal = seal or SealSpec()
    existing = {name: value for name, value, _ in fields.enumerate_sig_fields(reader)}
    name = field_name or f"Signature{len(existing) + 1}"
    if existing.get(name) is not None:
        raise InputError(f"signature field {name!r} is already signed", field="field")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except (PdfError, ValueError, KeyError) as exc:
        raise InputError(f"corrupt or truncated PDF ({exc})", field="pdf") from None
    # A certified document may afterwards only have its *existing* fields filled in, so the first
    # signer creates the empty seal fields of the later signers in the certified revision.
    slot = len(existing)
    for later in later_fields:
        if later in existing or later == name:
            raise InputError(f"signature field {later!r} already exists", field="later_fields")
        slot += 1
        x0 = 40 + slot * (SEAL_WIDTH + SEAL_GAP)
        fields.append_signature_field(
            writer,
            fields.SigFieldSpec(sig_field_name=later, on_page=seal.page, box=(x0, 40, x0 + SEAL_WIDTH, 40 + SEAL_HEIGHT)),
        )

    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    style = TextStampStyle(
        stamp_text="\n".join(seal.lines),
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(seal_font_path(), font_size=seal.font_size)),
        timestamp_format="%Y-%m-%d %H:%M:%S %Z",
        border_width=2,
    )
    spec = None
    if name not in existing:
        spec = fields.SigFieldSpec(sig_field_name=name, on_page=seal.page, box=seal.box or _next_box(reader))
    meta = signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        reason=reason,
        location=location,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=HankoSignerAdapter(signer),
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=spec,
    )
    signed = pdf_signer.sign_pdf(writer).getvalue()
    if evidence is not None:
        evidence.append("pdf.signed", signed_record(data, signed, signer, name, certify, timestamper is not None))
    return signed


def signed_record(data: bytes, signed: bytes, signer: Signer, field_name: str, certify: bool, timestamped: bool) -> dict:
    """Evidence record of one PDF signature: hashes of the document before/after, signer, field."""
    from cryptography.hazmat.primitives import serialization

    return {
        "input_sha256": hashlib.sha256(data).hexdigest(),
        "output_sha256": hashlib.sha256(signed).hexdigest(),
        "signer": signer.certificate.subject.rfc4514_string(),
        "signer_cert_sha256": hashlib.sha256(signer.certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "algorithm": signer.algorithm_id,
        "field": field_name,
        "certify": certify,
        "timestamped": timestamped,
    }
