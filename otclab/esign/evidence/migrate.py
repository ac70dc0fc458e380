"""Migrate a format-1 evidence log (leaf = the data alone) to format 2 (every column in the leaf).

A format-1 log cannot be upgraded in place: its leaf hashes, roots and signed checkpoints are
over the data only, and recomputing them would silently bless whatever kinds and times the
database holds today. So the migration

1. audits the old log by its own (format 1) rules: every leaf and Merkle node re-derived from
   the data, every stored checkpoint's root compared, their signatures checked (against
   ``trust`` if given); any problem and nothing is written;
2. copies every entry, in order, with its kind, data and original ``received_at``, into a new
   log (which must not exist yet), where the format-2 leaves now bind all three;
3. appends one last entry ``log.migrated`` recording the old log's size and root and each old
   checkpoint (size, root, time, signer certificate SHA-256), so that a receipt or checkpoint
   issued by the old log can still be traced to the new one.

The old file is left untouched: keep it as the archive of the old checkpoints. Sign a fresh
checkpoint of the new log afterwards (``otclab evidence checkpoint``).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..errors import EvidenceError
from ..pki.checks import TrustStore
from . import merkle
from .entry import FORMAT
from .log import EvidenceLog
from .store import blob

BATCH = 50_000


def _sqlite_path(url: str) -> Path | None:
    if url.startswith(("postgresql://", "postgres://")) or url == ":memory:":
        return None
    return Path(url[len("sqlite:///"):] if url.startswith("sqlite:///") else url)


def migrate_log(old_url: str | Path, new_url: str | Path, trust: TrustStore | None = None) -> dict[str, Any]:
    """Copy the format-1 log at ``old_url`` into a new format-2 log at ``new_url`` (see module docstring)."""
    old_url, new_url = str(old_url), str(new_url)
    old_path, new_path = _sqlite_path(old_url), _sqlite_path(new_url)
    if old_url == new_url or (old_path and new_path and old_path.resolve() == new_path.resolve()):
        raise EvidenceError("migrate into a new log, not onto the old one", field="new_log")
    if new_path is not None and new_path.exists():
        raise EvidenceError(f"{new_path} exists: the migration writes a new log and never overwrites one", field="new_log")
    with EvidenceLog(old_url, create=False, legacy=True) as src:
        if src.format != 1:
            raise EvidenceError(f"the log at {src.where} is already in format {src.format}: nothing to migrate", field="log")
        with src.db.read():
            n = src.require_entries()
            report = src._audit(n, trust, lambda kind, at, data: merkle.leaf_hash(data))
            cps = src.checkpoints()
        if not report["ok"]:
            raise EvidenceError(
                f"the format-1 log at {src.where} does not audit clean, so it is not migrated: {report['problems'][0]}",
                field="log",
            )
        old = {
            "format": 1, "size": n, "root": report["root"],
            "checkpoints": [{"size": cp.size, "root": cp.root.hex(), "time": cp.time,
                             "signer_cert_sha256": hashlib.sha256(cp.certificate).hexdigest()} for cp in cps],
            "checkpoint_signers_trusted": trust is not None,
        }
        with EvidenceLog(new_url, create=True) as dst:
            if dst.size() != 0:
                raise EvidenceError(f"the log at {dst.where} is not empty: migrate into a new log", field="new_log")
            start = 0
            while start < n:
                rows = src.db.query(
                    "SELECT kind, data, received_at FROM evidence_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                    (start, start + BATCH),
                )
                dst._append([(kind, blob(data), at) for kind, data, at in rows])
                start += BATCH
            receipt = dst.append("log.migrated", {"from": old})
    return {"from": old, "to": {"format": FORMAT, "size": receipt.size, "root": receipt.root.hex(),
                                "migration_entry": receipt.index}}
