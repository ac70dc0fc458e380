"""Documents received and attached to trades: content-addressed files, hash-versioned rows.

A confirmation's bytes are stored once under the documents folder (``documents_dir()``:
``OTCLAB_CONFIRM_DOCUMENTS``, else ``<data folder>/documents``) as ``<sha[:2]>/<sha256>.pdf``,
written to a temporary name, fsynced and renamed, so a crash leaves the file whole or absent.
``receive`` records the document (``confirm_documents``, status ``received``) before anything
reads it; the same bytes received again return the row already there. ``attach`` gives a trade
the document as its next attachment version (1, 2, ...); the same bytes attach to a trade once.
Paths in the store are relative to the documents folder, so the folder can move with its store.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import func, insert, select, update

from ..store import tables_confirm as TC
from ..store.db import data_dir, now


def documents_dir() -> Path:
    """Where received and attached documents are kept (``OTCLAB_CONFIRM_DOCUMENTS``, else
    ``<data folder>/documents``, the data folder being ``OTCLAB_DATA`` or ``~/.otclab``)."""
    return Path(os.environ.get("OTCLAB_CONFIRM_DOCUMENTS") or data_dir() / "documents")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_bytes(data: bytes, root: Path | None = None, suffix: str = ".pdf") -> tuple[str, str]:
    """Keep ``data`` under the documents folder; (sha256, path relative to the folder). Writing
    the same bytes twice keeps one file."""
    root = Path(root or documents_dir())
    digest = sha256_bytes(data)
    rel = f"{digest[:2]}/{digest}{suffix}"
    dest = root / rel
    if dest.exists() and dest.stat().st_size == len(data):
        return digest, rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return digest, rel


def document_path(rel: str, root: Path | None = None) -> Path:
    """The file of a stored path (``confirm_documents.path``, ``trade_attachments.path``)."""
    return Path(root or documents_dir()) / rel


def receive(store, data: bytes, file_name: str, source: str = "inbox", root: Path | None = None) -> dict:
    """Record a received document (file kept first, then its row) and return its row as a dict;
    the row already there when these bytes were received before."""
    digest, rel = store_bytes(data, root)
    d = TC.confirm_documents
    with store.begin() as conn:
        row = conn.execute(select(d).where(d.c.sha256 == digest)).first()
        if row is None:
            conn.execute(insert(d).values(sha256=digest, file_name=file_name, size=len(data), path=rel,
                                          source=source, received_at=now(), status="received"))
            row = conn.execute(select(d).where(d.c.sha256 == digest)).one()
    return dict(row._mapping)


def document(conn, document_id: int) -> dict | None:
    d = TC.confirm_documents
    row = conn.execute(select(d).where(d.c.id == document_id)).first()
    return dict(row._mapping) if row else None


def mark_document(conn, document_id: int, **values) -> None:
    conn.execute(update(TC.confirm_documents).where(TC.confirm_documents.c.id == document_id).values(**values))


def attach(conn, trade_id: str, *, sha256: str, file_name: str, path: str, size: int, kind: str, by: str,
           document_id: int | None = None) -> tuple[dict, bool]:
    """Attach a stored document to ``trade_id`` in the caller's transaction: (the attachment row,
    whether it is new). The same bytes already attached to the trade return that attachment."""
    a = TC.trade_attachments
    got = conn.execute(select(a).where(a.c.trade_id == trade_id, a.c.sha256 == sha256)).first()
    if got is not None:
        return dict(got._mapping), False
    version = (conn.execute(select(func.max(a.c.version)).where(a.c.trade_id == trade_id)).scalar() or 0) + 1
    aid = conn.execute(insert(a).values(trade_id=trade_id, version=version, kind=kind, document_id=document_id,
                                        sha256=sha256, file_name=file_name, path=path, size=size,
                                        attached_by=by, attached_at=now())).inserted_primary_key[0]
    return dict(conn.execute(select(a).where(a.c.id == aid)).one()._mapping), True


def attachments(conn, trade_id: str) -> list[dict]:
    """A trade's attachments, oldest version first."""
    a = TC.trade_attachments
    return [dict(r._mapping) for r in conn.execute(select(a).where(a.c.trade_id == trade_id).order_by(a.c.version))]


def confirmation_state(conn, trade_id: str) -> dict | None:
    """The trade's latest ``trade_confirmations`` row (None: never confirmed nor issued)."""
    c = TC.trade_confirmations
    row = conn.execute(select(c).where(c.c.trade_id == trade_id).order_by(c.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def record_confirmation(conn, trade_id: str, trade_version: int, state: str, route: str, by: str, *,
                        attachment_id: int | None = None, document_id: int | None = None,
                        break_id: int | None = None, comment: str | None = None) -> int:
    """Append a confirmation event of a trade (``confirmed`` or ``issued``, by route paper/online)."""
    return int(conn.execute(insert(TC.trade_confirmations).values(
        trade_id=trade_id, trade_version=trade_version, state=state, route=route, attachment_id=attachment_id,
        document_id=document_id, break_id=break_id, by=by, at=now(), comment=comment)).inserted_primary_key[0])
