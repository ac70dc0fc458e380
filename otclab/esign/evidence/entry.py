"""What one log entry is and how it is hashed into the tree (log format 2).

Every stored column of an entry is inside its leaf hash. The Merkle leaf of entry ``idx`` is the
RFC 9162 leaf hash ``SHA-256(0x00 || E)`` of the *entry bytes*

    E = "otclab-evidence-entry/v2" 0x00
        || u16(len(kind)) || kind              (ASCII, 1..64 chars of A-Z a-z 0-9 . _ : -)
        || u16(len(received_at)) || received_at (ASCII, ISO 8601 UTC, as stored)
        || SHA-256(data)                        (32 bytes; data = canonical JSON of the record)

(u16 = two bytes, big-endian). The index is the leaf's position in the tree, so it is bound too.
Because the data enter through their SHA-256, an inclusion proof can carry ``kind``,
``received_at`` and ``data_sha256`` and the verifier recomputes the leaf from them: the kind and
time a proof shows are always checked, and the data whenever they are given.

Format 1 (before issue 12) hashed the data alone; such a log is refused with the way to migrate
it (``otclab evidence migrate``, ``migrate.py``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct

from ..errors import EvidenceError
from ..limits import limit
from . import merkle

FORMAT = 2
MAGIC = b"otclab-evidence-entry/v2\x00"
KIND_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
TIME_MAX = 64


def check_kind(kind: object, field: str = "kind") -> str:
    """The entry kind, or ``EvidenceError`` saying what a kind may be."""
    n = limit("kind_chars")
    if not isinstance(kind, str) or not kind or len(kind) > n or not KIND_RE.fullmatch(kind):
        shown = repr(kind) if not isinstance(kind, str) or len(kind) <= 40 else repr(kind[:40]) + "..."
        raise EvidenceError(
            f"entry kind {shown} not allowed: 1..{n} characters of A-Z a-z 0-9 . _ : - starting with a "
            "letter or digit (e.g. pdf.signed)",
            field=field,
        )
    return kind


def check_time(text: object, field: str = "received_at") -> str:
    """An entry time as stored (ISO 8601 with offset), or ``EvidenceError``."""
    ok = isinstance(text, str) and 0 < len(text) <= TIME_MAX and text.isascii()
    if ok:
        try:
            ok = dt.datetime.fromisoformat(text).tzinfo is not None
        except ValueError:
            ok = False
    if not ok:
        raise EvidenceError("must be an ISO 8601 time with a UTC offset, as the log writes it", field=field)
    return text


def entry_bytes(kind: str, received_at: str, data_sha256: bytes) -> bytes:
    """The bytes whose RFC 9162 leaf hash is the entry's leaf (see the module docstring).

    Kinds and times we write are ASCII; what a damaged or edited database holds is encoded as
    UTF-8 so that it can still be hashed (and then fails to match), never crash the audit."""
    if not isinstance(kind, str) or not isinstance(received_at, str) or len(data_sha256) != 32:
        raise EvidenceError("stored entry columns have the wrong types: the log store is damaged", field="log")
    k, t = kind.encode("utf-8", "surrogatepass"), received_at.encode("utf-8", "surrogatepass")
    if len(k) > 0xFFFF or len(t) > 0xFFFF:
        raise EvidenceError("stored entry kind or time is too long: the log store is damaged", field="log")
    return MAGIC + struct.pack(">H", len(k)) + k + struct.pack(">H", len(t)) + t + data_sha256


def leaf_of(kind: str, received_at: str, data_sha256: bytes) -> bytes:
    """Leaf hash from the kind, the time and the SHA-256 of the data."""
    return merkle.leaf_hash(entry_bytes(kind, received_at, data_sha256))


def entry_leaf(kind: str, received_at: str, data: bytes) -> bytes:
    """Leaf hash of a stored entry (format 2)."""
    return leaf_of(kind, received_at, hashlib.sha256(data).digest())
