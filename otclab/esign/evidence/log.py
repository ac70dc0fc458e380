"""The append-only evidence log: entries, Merkle nodes, proofs, signed checkpoints and a full audit.

Each entry is a (kind, data) pair; ``data`` is the canonical JSON of the event (a signature, an
envelope, a report submission) and its leaf hash is SHA-256(0x00 || data). Appends are batched:
one transaction inserts the entries and every Merkle node they complete, starting from the peaks
of the current tree, so appending k leaves costs O(k) hashes and inserts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..canonical import canonical_json
from ..errors import EvidenceError, OtcError
from ..pki.checks import TrustStore
from ..signer import Signer
from . import merkle
from .checkpoint import Checkpoint
from .store import Database, blob

AUDIT_BATCH = 50_000


@dataclass(frozen=True)
class Receipt:
    """Where an appended entry landed: its index, leaf hash and the tree size/root right after it."""

    index: int
    leaf_hash: bytes
    size: int
    root: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "leaf_hash": self.leaf_hash.hex(), "size": self.size, "root": self.root.hex()}


def encode_record(record: dict[str, Any] | bytes) -> bytes:
    """Entry bytes: canonical JSON for a dict, the bytes themselves otherwise."""
    return record if isinstance(record, bytes) else canonical_json(record)


class EvidenceLog:
    """Evidence log stored at ``url`` (SQLite file path / ``sqlite:///`` URL, or ``postgresql://``)."""

    def __init__(self, url: str | Path):
        self.db = Database(url)
        self._cache: dict[tuple[int, int], bytes] = {}

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "EvidenceLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- reading -------------------------------------------------------------------------
    def size(self) -> int:
        """Number of entries."""
        (n,) = self.db.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM evidence_entries")[0]
        return int(n)

    def subtree(self, level: int, index: int) -> bytes:
        """Stored hash of a complete aligned subtree (``merkle.SubtreeSource``); nodes never change."""
        key = (level, index)
        h = self._cache.get(key)
        if h is None:
            rows = self.db.query("SELECT hash FROM evidence_nodes WHERE level = ? AND idx = ?", (level, index))
            if not rows:
                raise EvidenceError(f"Merkle node ({level}, {index}) missing: the log store is damaged", field="log")
            h = blob(rows[0][0])
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key] = h
        return h

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the first ``size`` entries (default: all)."""
        n = self.size() if size is None else size
        self._check_size(n)
        return merkle.root_hash(self, n)

    def entry(self, index: int) -> tuple[str, bytes, str]:
        """(kind, data, received_at) of entry ``index``."""
        rows = self.db.query("SELECT kind, data, received_at FROM evidence_entries WHERE idx = ?", (index,))
        if not rows:
            raise EvidenceError(f"no entry {index}; the log has {self.size()} entries", field="index")
        kind, data, at = rows[0]
        return kind, blob(data), at

    def _check_size(self, size: int) -> None:
        n = self.size()
        if not 0 <= size <= n:
            raise EvidenceError(f"tree size {size} outside 0..{n}", field="size")

    # ---- writing -------------------------------------------------------------------------
    def append(self, kind: str, record: dict[str, Any] | bytes) -> Receipt:
        """Append one entry; returns its receipt."""
        return self.append_many([(kind, record)])[-1]

    def append_many(self, items: Iterable[tuple[str, dict[str, Any] | bytes]]) -> list[Receipt]:
        """Append entries in one transaction (all or none); receipts in order."""
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        with self.db.write():
            n = self.size()
            peaks = [self.subtree(level, index) for level, index in merkle.peak_positions(n)]
            cr = merkle.CompactRange(n, peaks)
            entries, nodes, receipts = [], [], []
            for kind, record in items:
                if not kind or not isinstance(kind, str):
                    raise EvidenceError("every entry needs a kind (e.g. pdf.signed)", field="kind")
                data = encode_record(record)
                lh = merkle.leaf_hash(data)
                entries.append((cr.size, kind, data, now))
                cr.append(lh, nodes)
                receipts.append((cr.size - 1, lh))
            self.db.executemany("INSERT INTO evidence_entries (idx, kind, data, received_at) VALUES (?, ?, ?, ?)", entries)
            self.db.executemany("INSERT INTO evidence_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        root = cr.root()
        size = cr.size
        return [Receipt(i, lh, size, root) for i, lh in receipts]

    # ---- proofs --------------------------------------------------------------------------
    def prove_inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries (default: current)."""
        with self.db.read():
            n = self.size() if size is None else size
            self._check_size(n)
            if not 0 <= index < n:
                raise EvidenceError(f"entry index {index} outside 0..{n - 1}", field="index")
            kind, data, _ = self.entry(index)
            proof = merkle.inclusion_proof(self, index, n)
            root = merkle.root_hash(self, n)
        return {
            "index": index, "size": n, "kind": kind, "leaf_hash": merkle.leaf_hash(data).hex(),
            "root": root.hex(), "proof": [p.hex() for p in proof],
        }

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> dict[str, Any]:
        """Consistency proof from the tree of ``old_size`` entries to that of ``new_size``."""
        with self.db.read():
            n = self.size() if new_size is None else new_size
            self._check_size(n)
            if not 0 < old_size <= n:
                raise EvidenceError(f"old size must be in 1..{n}", field="old_size")
            proof = merkle.consistency_proof(self, old_size, n)
            return {
                "old_size": old_size, "new_size": n, "old_root": merkle.root_hash(self, old_size).hex(),
                "new_root": merkle.root_hash(self, n).hex(), "proof": [p.hex() for p in proof],
            }

    # ---- checkpoints ---------------------------------------------------------------------
    def checkpoint(self, signer: Signer, now: dt.datetime | None = None) -> Checkpoint:
        """Sign and store a checkpoint of the current tree."""
        with self.db.write():
            n = self.size()
            cp = Checkpoint.create(n, merkle.root_hash(self, n), signer, now)
            self.db.execute(
                "INSERT INTO evidence_checkpoints (size, root, time, body, signature, algorithm, certificate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cp.size, cp.root, cp.time, cp.body, cp.signature, cp.algorithm, cp.certificate),
            )
        return cp

    def checkpoints(self) -> list[Checkpoint]:
        """Stored checkpoints, oldest first."""
        rows = self.db.query(
            "SELECT size, root, time, algorithm, signature, certificate FROM evidence_checkpoints ORDER BY size, time"
        )
        return [Checkpoint(int(s), blob(r), t, a, blob(sig), blob(c)) for s, r, t, a, sig, c in rows]

    def verify_checkpoint(self, cp: Checkpoint, trust: TrustStore | None = None) -> dict[str, Any]:
        """Check a checkpoint's signature and that this log extends it (consistency proof)."""
        cp.verify(trust)
        n = self.size()
        if cp.size > n:
            raise EvidenceError(f"checkpoint size {cp.size} exceeds the log size {n}: entries are missing", field="checkpoint")
        root_then = self.root(cp.size)
        if root_then != cp.root:
            raise EvidenceError(
                f"log root at size {cp.size} is {root_then.hex()}, checkpoint says {cp.root.hex()}: log altered",
                field="checkpoint",
            )
        result: dict[str, Any] = {"size": cp.size, "root": cp.root.hex(), "time": cp.time, "signature_ok": True}
        if cp.size > 0:
            proof = self.prove_consistency(cp.size, n)
            ok = merkle.verify_consistency(
                cp.size, n, [bytes.fromhex(p) for p in proof["proof"]], cp.root, bytes.fromhex(proof["new_root"])
            )
            if not ok:
                raise EvidenceError("consistency proof from the checkpoint to the current log fails", field="checkpoint")
            result["consistent_with_size"] = n
        return result

    # ---- audit ---------------------------------------------------------------------------
    def audit(self, trust: TrustStore | None = None) -> dict[str, Any]:
        """Re-hash every entry from its stored data and re-derive the tree; compare with stored
        nodes and with every stored checkpoint (signature and root). Returns a report with
        ``ok`` and a list of ``problems`` (first altered entry index, bad checkpoints, ...)."""
        problems: list[str] = []
        cps = self.checkpoints()
        want = {cp.size for cp in cps}
        roots_at: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in want else {}
        cr = merkle.CompactRange()
        n = self.size()
        start = 0
        bad_entries = 0
        while start < n:
            rows = self.db.query(
                "SELECT e.idx, e.data, n.hash FROM evidence_entries e LEFT JOIN evidence_nodes n "
                "ON n.level = 0 AND n.idx = e.idx WHERE e.idx >= ? AND e.idx < ? ORDER BY e.idx",
                (start, start + AUDIT_BATCH),
            )
            if len(rows) != min(AUDIT_BATCH, n - start):
                problems.append(f"entries missing between {start} and {start + AUDIT_BATCH}")
                break
            sink: list = []
            for idx, data, stored in rows:
                lh = merkle.leaf_hash(blob(data))
                if stored is None or blob(stored) != lh:
                    bad_entries += 1
                    if bad_entries <= 10:
                        problems.append(f"entry {idx}: data does not match its recorded leaf hash (altered)")
                cr.append(lh, sink)
                sink.clear()
                if cr.size in want:
                    roots_at[cr.size] = cr.root()
            start += AUDIT_BATCH
        recomputed = cr.root()
        stored_root = self.root(n) if not problems else None
        if stored_root is not None and stored_root != recomputed:
            problems.append("stored Merkle nodes disagree with the entries")
        for cp in cps:
            try:
                cp.verify(trust)
            except OtcError as exc:
                problems.append(f"checkpoint size {cp.size} at {cp.time}: {exc.message}")
                continue
            if roots_at.get(cp.size) != cp.root:
                problems.append(f"checkpoint size {cp.size} at {cp.time}: root differs from the entries (log altered)")
        return {"size": n, "root": recomputed.hex(), "checkpoints": len(cps), "ok": not problems, "problems": problems}


def verify_inclusion_proof(proof: dict[str, Any], data: bytes | None = None) -> bool:
    """Verify a proof dict from ``prove_inclusion``; with ``data``, also check it hashes to the leaf."""
    try:
        leaf = bytes.fromhex(proof["leaf_hash"])
        if data is not None and merkle.leaf_hash(data) != leaf:
            return False
        return merkle.verify_inclusion(
            leaf, int(proof["index"]), int(proof["size"]), [bytes.fromhex(p) for p in proof["proof"]],
            bytes.fromhex(proof["root"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise EvidenceError(f"malformed inclusion proof ({exc})", field="proof") from None


def verify_consistency_proof(proof: dict[str, Any]) -> bool:
    """Verify a proof dict from ``prove_consistency``."""
    try:
        return merkle.verify_consistency(
            int(proof["old_size"]), int(proof["new_size"]), [bytes.fromhex(p) for p in proof["proof"]],
            bytes.fromhex(proof["old_root"]), bytes.fromhex(proof["new_root"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise EvidenceError(f"malformed consistency proof ({exc})", field="proof") from None
