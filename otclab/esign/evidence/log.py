"""The append-only evidence log: entries, Merkle nodes, proofs, signed checkpoints and a full audit.

Each entry is (kind, data, received_at); ``data`` is the canonical JSON of the event (a
signature, an envelope, a report submission). Its leaf hash covers every stored column (format
2, ``entry.py``). Appends are batched: one transaction inserts the entries and every Merkle node
they complete, starting from the peaks of the current tree, so appending k leaves costs O(k)
hashes and inserts; the receipt is returned after the commit is durable.

Trust: a proof is verified against a root the verifier trusts, the log's own or a signed
checkpoint checked against a trust store (``proofs.verify_proof``), never against a root written
in the proof. A checkpoint signature counts only when its signer chains to a trusted root.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..canonical import canonical_json
from ..errors import EvidenceError, OtcError
from ..limits import check_size
from ..pki.checks import TrustStore
from ..signer import Signer
from . import merkle
from .checkpoint import Checkpoint
from .entry import FORMAT, check_kind, entry_leaf
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
    if isinstance(record, bytes):
        return record
    try:
        return canonical_json(record)
    except (TypeError, ValueError) as exc:  # NaN/Infinity or objects JSON cannot hold
        raise EvidenceError(f"record cannot be logged as canonical JSON ({exc})", field="record") from None


class EvidenceLog:
    """Evidence log stored at ``url`` (SQLite file path / ``sqlite:///`` URL, or ``postgresql://``).

    ``create=True`` (writers: append, sign, seal, report) creates the log if there is none;
    ``create=False`` (readers: verify, prove, audit, checkpoint) refuses a missing log. A log in
    format 1 is refused with the migration command, unless ``legacy=True`` (``migrate.py`` only).
    """

    def __init__(self, url: str | Path, create: bool = True, *, legacy: bool = False):
        self.url = str(url)
        self.db = Database(url, create=create)
        self.where = self.db.where
        self._cache: dict[tuple[int, int], bytes] = {}
        try:
            self.format = self._format(create, legacy)
        except BaseException:
            self.db.close()
            raise

    def _format(self, create: bool, legacy: bool) -> int:
        has_meta = "evidence_meta" in self.db.tables()
        with self.db.read():
            rows = self.db.query("SELECT value FROM evidence_meta WHERE key = 'format'") if has_meta else []
            empty = self.size() == 0 and not self.db.query("SELECT 1 FROM evidence_checkpoints LIMIT 1")
        if rows:
            try:
                fmt = int(rows[0][0])
            except (TypeError, ValueError):
                raise EvidenceError(f"the evidence log at {self.where} has an unreadable format marker", field="log") from None
            if fmt != FORMAT:
                raise EvidenceError(
                    f"the evidence log at {self.where} is in format {fmt}; this otclab reads format {FORMAT}"
                    + (" (written by a newer otclab)" if fmt > FORMAT else ""),
                    field="log",
                )
            return fmt
        if empty:  # a new log (or an empty one from before the format marker): it becomes format 2
            if create:  # two writers creating one log at once both get here: the first marker wins
                with self.db.write():
                    self.db.execute(self.db.statements[-1])  # evidence_meta, missing in an empty old log
                    self.db.execute("INSERT INTO evidence_meta (key, value) VALUES ('format', ?) "
                                    "ON CONFLICT (key) DO NOTHING", (str(FORMAT),))
            return FORMAT
        if legacy:
            return 1
        raise EvidenceError(
            f"the evidence log at {self.where} is in format 1, whose leaf hash leaves out each entry's kind and "
            f"time; it is not read any more. Migrate it: otclab evidence migrate {self.where} NEW_LOG "
            "(docs/esign.md, 'Log format')",
            field="log",
        )

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
        if not isinstance(n, int) or n < 0:
            raise EvidenceError(f"the evidence log at {self.where} has a damaged entry index", field="log")
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
            if len(h) != merkle.HASH_SIZE:
                raise EvidenceError(f"Merkle node ({level}, {index}) is not a hash: the log store is damaged", field="log")
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

    def require_entries(self) -> int:
        """The size, or ``EvidenceError`` for an empty log (an empty log is never 'OK')."""
        n = self.size()
        if n == 0:
            raise EvidenceError(
                f"the evidence log at {self.where} has no entries (is it the right log?)", field="log"
            )
        return n

    # ---- writing -------------------------------------------------------------------------
    def append(self, kind: str, record: dict[str, Any] | bytes) -> Receipt:
        """Append one entry; returns its receipt."""
        return self.append_many([(kind, record)])[-1]

    def append_many(self, items: Iterable[tuple[str, dict[str, Any] | bytes]]) -> list[Receipt]:
        """Append entries in one transaction (all or none); receipts in order, after a durable commit."""
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        return self._append((kind, encode_record(record), now) for kind, record in items)

    def _append(self, items: Iterable[tuple[str, bytes, str]]) -> list[Receipt]:
        if self.format != FORMAT:
            raise EvidenceError(f"the log at {self.where} is in format {self.format}: read-only", field="log")
        rows = []
        for kind, data, at in items:
            check_kind(kind)
            check_size(len(data), "entry_bytes", "record")
            rows.append((kind, data, at))
        with self.db.write():
            n = self.size()
            peaks = [self.subtree(level, index) for level, index in merkle.peak_positions(n)]
            cr = merkle.CompactRange(n, peaks)
            entries, nodes, receipts = [], [], []
            for kind, data, at in rows:
                lh = entry_leaf(kind, at, data)
                entries.append((cr.size, kind, data, at))
                cr.append(lh, nodes)
                receipts.append((cr.size - 1, lh))
            self.db.executemany("INSERT INTO evidence_entries (idx, kind, data, received_at) VALUES (?, ?, ?, ?)", entries)
            self.db.executemany("INSERT INTO evidence_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        root = cr.root()
        size = cr.size
        return [Receipt(i, lh, size, root) for i, lh in receipts]

    # ---- proofs --------------------------------------------------------------------------
    def prove_inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries (default: current).

        The proof carries the entry's kind, time and data hash; its leaf is recomputed from them.
        Its ``root`` is informational: verifiers use a root they trust (``proofs.verify_proof``).
        """
        with self.db.read():
            n = self.size() if size is None else size
            self._check_size(n)
            if not 0 <= index < n:
                raise EvidenceError(f"entry index {index} outside 0..{n - 1}", field="index")
            kind, data, at = self.entry(index)
            proof = merkle.inclusion_proof(self, index, n)
            root = merkle.root_hash(self, n)
        return {
            "index": index, "size": n, "kind": kind, "received_at": at,
            "data_sha256": hashlib.sha256(data).hexdigest(), "leaf_hash": entry_leaf(kind, at, data).hex(),
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

    def verify_proof(self, proof: Any, data: bytes | None = None, **kw) -> dict[str, Any]:
        """``proofs.verify_proof`` with this log as the trusted root (checkpoints may be added by ``kw``)."""
        from .proofs import verify_proof

        return verify_proof(proof, log=self, data=data, **kw)

    # ---- checkpoints ---------------------------------------------------------------------
    def checkpoint(self, signer: Signer, now: dt.datetime | None = None) -> Checkpoint:
        """Sign and store a checkpoint of the current tree (an empty log has nothing to sign)."""
        with self.db.write():
            n = self.require_entries()
            cp = Checkpoint.create(n, merkle.root_hash(self, n), signer, now)
            self.db.execute(
                "INSERT INTO evidence_checkpoints (size, root, time, body, signature, algorithm, certificate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cp.size, cp.root, cp.time, cp.body, cp.signature, cp.algorithm, cp.certificate),
            )
        return cp

    def _checkpoint_rows(self) -> list[tuple[Checkpoint | None, bytes | None, str]]:
        rows = self.db.query(
            "SELECT size, root, time, algorithm, signature, certificate, body FROM evidence_checkpoints ORDER BY size, time"
        )
        out = []
        for s, r, t, a, sig, c, body in rows:
            try:
                cp = Checkpoint(int(s), blob(r), str(t), str(a), blob(sig), blob(c))
                cp.body  # noqa: B018 - an edited row that cannot even be re-encoded is reported, not raised
                out.append((cp, blob(body), f"checkpoint size {s} at {t}"))
            except (OtcError, TypeError, ValueError):
                out.append((None, None, f"checkpoint size {s!r} at {t!r}"))
        return out

    def checkpoints(self) -> list[Checkpoint]:
        """Stored checkpoints, oldest first."""
        return [cp for cp, _, _ in self._checkpoint_rows() if cp is not None]

    def verify_checkpoint(self, cp: Checkpoint, trust: TrustStore | None = None) -> dict[str, Any]:
        """Check a checkpoint's signer against ``trust`` (required), its signature, and that this
        log extends it (same root at its size, consistency proof to the current size)."""
        cert = cp.verify(trust)
        n = self.size()
        if cp.size > n:
            raise EvidenceError(f"checkpoint size {cp.size} exceeds the log size {n}: entries are missing", field="checkpoint")
        root_then = self.root(cp.size)
        if root_then != cp.root:
            raise EvidenceError(
                f"log root at size {cp.size} is {root_then.hex()}, checkpoint says {cp.root.hex()}: log altered",
                field="checkpoint",
            )
        result: dict[str, Any] = {"size": cp.size, "root": cp.root.hex(), "time": cp.time,
                                  "signer": cert.subject.rfc4514_string(), "signature_ok": True,
                                  "signature_trusted": True}
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
        """Re-hash every entry from all its stored columns, re-derive every Merkle node and compare
        with the stored ones, and check every stored checkpoint (its stored body, root, signature;
        its signer against ``trust`` if given). Returns a report with ``ok``, ``problems`` and
        ``notes``. An empty log is an ``EvidenceError``, not a clean report."""
        with self.db.read():
            n = self.require_entries()
            return self._audit(n, trust, lambda kind, at, data: entry_leaf(kind, at, data))

    def _audit(self, n: int, trust: TrustStore | None, leaf_fn) -> dict[str, Any]:
        problems: list[str] = []
        notes: list[str] = []
        cps = self._checkpoint_rows()
        want = {cp.size for cp, _, _ in cps if cp is not None}
        roots_at: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in want else {}
        cr = merkle.CompactRange()
        bad = {"entries": 0, "nodes": 0}

        def problem(kind: str, text: str) -> None:
            bad[kind] += 1
            if bad[kind] <= 10:
                problems.append(text)

        start = 0
        while start < n:
            end = min(n, start + AUDIT_BATCH)
            rows = self.db.query(
                "SELECT idx, kind, received_at, data FROM evidence_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                (start, end),
            )
            if [r[0] for r in rows] != list(range(start, end)):
                problems.append(f"entries missing between {start} and {end}")
                break
            sink: list[tuple[int, int, bytes]] = []
            for idx, kind, at, data in rows:
                try:
                    lh = leaf_fn(kind, at, blob(data))
                except OtcError:
                    lh = b"\x00" * merkle.HASH_SIZE  # unhashable columns: cannot match the stored leaf
                cr.append(lh, sink)
                if cr.size in want:
                    roots_at[cr.size] = cr.root()
            stored: dict[tuple[int, int], bytes] = {}
            for level in sorted({lv for lv, _, _ in sink}):
                ids = [i for lv, i, _ in sink if lv == level]
                for lv, i, h in self.db.query(
                    "SELECT level, idx, hash FROM evidence_nodes WHERE level = ? AND idx >= ? AND idx <= ?",
                    (level, min(ids), max(ids)),
                ):
                    stored[(lv, i)] = h
            for level, i, h in sink:
                got = stored.get((level, i))
                if got is None or not isinstance(got, (bytes, bytearray, memoryview)) or bytes(got) != h:
                    if level == 0:
                        problem("entries", f"entry {i}: its kind, time or data do not match its recorded leaf hash (altered)")
                    else:
                        problem("nodes", f"Merkle node ({level}, {i}) does not match the entries below it (store altered)")
            start = end
        for kind, count in bad.items():
            if count > 10:
                problems.append(f"... {count} {kind} in all do not match")
        (stored_nodes,) = self.db.query("SELECT COUNT(*) FROM evidence_nodes")[0]
        (stored_entries,) = self.db.query("SELECT COUNT(*) FROM evidence_entries")[0]
        expected_nodes = 2 * n - bin(n).count("1")
        if stored_entries != n:
            problems.append(f"{stored_entries} entries stored for indexes 0..{n - 1} (rows added or removed)")
        if stored_nodes != expected_nodes and not problems:
            problems.append(f"{stored_nodes} Merkle nodes stored where a tree of {n} entries has {expected_nodes}")
        recomputed = cr.root()
        for cp, body, label in cps:
            if cp is None:
                problems.append(f"{label}: stored row is unreadable (altered)")
                continue
            if body != cp.body:
                problems.append(f"{label}: stored body differs from its size, root, time and certificate (altered)")
                continue
            try:
                if trust is not None:
                    cp.verify(trust)
                else:
                    cp.check_integrity()
            except OtcError as exc:
                problems.append(f"{label}: {exc.message}")
                continue
            if cp.size > n:
                problems.append(f"{label}: the log has only {n} entries (entries removed)")
            elif roots_at.get(cp.size) != cp.root:
                problems.append(f"{label}: root differs from the entries (log altered)")
        if cps and trust is None:
            notes.append("checkpoint signers not checked against a trusted root (give --trust-root); "
                         "their signatures were checked against their own certificates only")
        if not cps:
            notes.append("no signed checkpoints: the audit shows the log agrees with itself, not that it was "
                         "never rewritten as a whole")
        return {"size": n, "root": recomputed.hex(), "format": self.format, "checkpoints": len(cps),
                "checkpoint_signers_trusted": trust is not None, "ok": not problems, "problems": problems,
                "notes": notes}


def __getattr__(name: str):  # the proof functions moved to proofs.py; old imports keep working
    if name in ("verify_inclusion_proof", "verify_consistency_proof", "verify_proof"):
        from . import proofs

        return getattr(proofs, name)
    raise AttributeError(name)
