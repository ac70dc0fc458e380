"""Uploaded documents: size-limited, typed by their content, stored with their SHA-256, never
overwritten; a resubmission is a new version.

A document is accepted when its bytes are a PDF (``%PDF-`` header and an ``%%EOF`` trailer) or a
PNG or JPEG image (by their signatures); the file name's extension must agree with the content
(a non-PDF named ``.pdf`` is refused). The file is written first (temp name, fsync, rename:
``paths.write_atomic``) under ``<KYC files>/documents/<case>/<kind>/v<n>-<sha256>.<ext>``, and only
then is its row committed; a crash in between leaves a file no row points to (never a row
pointing to a partial file), and ``orphans`` lists such files.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from sqlalchemy import func, insert, select

from ..core.errors import OtcError
from ..store import tables_kyc as T
from ..store.db import now
from .evidence import add_event, catch_up
from .fields import DOCUMENTS
from .model import DocumentRef
from .paths import files_dir, write_atomic

MAX_BYTES = int(os.environ.get("OTCLAB_KYC_MAX_UPLOAD", 10 * 1024 * 1024))   # 10 MiB
TYPES = {"pdf": ("application/pdf", (".pdf",)), "png": ("image/png", (".png",)),
         "jpeg": ("image/jpeg", (".jpg", ".jpeg"))}


class DocumentError(OtcError):
    """An upload that is refused (too large, wrong type, unknown kind)."""


def sniff(data: bytes) -> str | None:
    """'pdf', 'png' or 'jpeg' from the bytes themselves, or None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff") and data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "jpeg"
    return None


def validate(kind: str, filename: str, data: bytes) -> str:
    """The document's type, or ``DocumentError`` naming what is wrong."""
    if kind not in DOCUMENTS:
        raise DocumentError(f"unknown document kind {kind!r}; allowed: {', '.join(DOCUMENTS)}", "kind")
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise DocumentError("the file is empty", "file")
    if len(data) > MAX_BYTES:
        raise DocumentError(f"{filename}: {len(data) / 1048576:.1f} MiB is over the limit of "
                            f"{MAX_BYTES / 1048576:.0f} MiB per document", "file")
    t = sniff(bytes(data[:16]) + bytes(data[-1100:])) if len(data) > 2200 else sniff(bytes(data))
    ext = Path(filename or "").suffix.lower()
    if t is None:
        named = " named .pdf" if ext == ".pdf" else ""
        raise DocumentError(f"{filename}: not a PDF, PNG or JPEG file by its content{named}; "
                            "allowed: PDF or a scan as PNG/JPEG", "file")
    if ext and ext not in TYPES[t][1]:
        raise DocumentError(f"{filename}: the content is {t.upper()} but the name ends in {ext}; "
                            f"name it {TYPES[t][1][0]}", "file")
    return t


def upload(store, case_id: str, kind: str, filename: str, data: bytes, by: str,
           valid_until: dt.date | None = None, *, _after_file=None) -> DocumentRef:
    """Store a new version of document ``kind`` of the case (draft or returned only)."""
    from .cases import editable_case

    t = validate(kind, filename, data)
    data = bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    root = files_dir(store)
    d, k = T.kyc_documents, kind
    with store.begin() as conn:
        editable_case(conn, case_id, by)
        version = (conn.execute(select(func.max(d.c.version)).where(d.c.case_id == case_id, d.c.kind == k)).scalar()
                   or 0) + 1
        rel = Path("documents") / case_id / kind / f"v{version}-{digest[:16]}.{t if t != 'jpeg' else 'jpg'}"
        try:
            write_atomic(root / rel, data)
        except FileExistsError:
            raise DocumentError(f"version {version} of {kind} is being stored by another upload; try again",
                                "file") from None
        if _after_file is not None:       # tests: a crash between the file and its row
            _after_file()
        ts = now()
        doc_id = conn.execute(insert(d).values(
            case_id=case_id, kind=kind, version=version, filename=Path(filename or kind).name[:200],
            content_type=TYPES[t][0], size=len(data), sha256=digest, path=str(rel), valid_until=valid_until,
            uploaded_by=by, uploaded_at=ts)).inserted_primary_key[0]
        add_event(conn, case_id, "uploaded", by, _state(conn, case_id),
                  details={"kind": kind, "version": version, "sha256": digest, "size": len(data),
                           "filename": Path(filename or kind).name[:200]})
    catch_up(store)
    return DocumentRef(doc_id, case_id, kind, version, Path(filename or kind).name[:200], TYPES[t][0], len(data), digest,
                       by, ts, valid_until)


def _state(conn, case_id):
    return conn.execute(select(T.kyc_cases.c.state).where(T.kyc_cases.c.case_id == case_id)).scalar()


def ref(row) -> DocumentRef:
    return DocumentRef(row.id, row.case_id, row.kind, row.version, row.filename, row.content_type, row.size,
                       row.sha256, row.uploaded_by, row.uploaded_at, row.valid_until)


def documents(conn, case_id: str) -> list[DocumentRef]:
    """Every stored version of the case's documents, by kind then version."""
    d = T.kyc_documents
    return [ref(r) for r in conn.execute(select(d).where(d.c.case_id == case_id).order_by(d.c.kind, d.c.version))]


def read(store, doc: DocumentRef) -> bytes:
    """The document's bytes, checked against its SHA-256."""
    with store.connect() as conn:
        rel = conn.execute(select(T.kyc_documents.c.path).where(T.kyc_documents.c.id == doc.id)).scalar()
    data = (files_dir(store) / rel).read_bytes()
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise OtcError(f"document {doc.kind} v{doc.version} of {doc.case_id} does not match its SHA-256", "document")
    return data


def orphans(store) -> list[Path]:
    """Document files no row points to (left by a crash between the file and its row)."""
    root = files_dir(store) / "documents"
    if not root.exists():
        return []
    with store.connect() as conn:
        known = {p for (p,) in conn.execute(select(T.kyc_documents.c.path))}
    return sorted(p for p in root.rglob("*") if p.is_file() and str(p.relative_to(files_dir(store))) not in known)
