"""Reading and verifying proof files against roots the verifier trusts.

A proof file (what ``otclab evidence prove`` writes) names the root it was made for, but that
root proves nothing: anybody can write a one-leaf "proof" whose root is its own leaf. So every
root a proof is checked against comes from a trusted source:

- a signed checkpoint of that tree size whose signer certificate chains to a trusted root
  (``--checkpoint`` with ``--trust-root``), or
- the log itself (the verifier's own copy: ``--log``), at that size.

Checkpoints take precedence; a size no checkpoint covers is taken from the log; a size neither
covers is an ``EvidenceError`` (no verdict without a trusted root). The proof's own root fields
must equal the trusted ones, and an inclusion proof's leaf is recomputed from the kind, time and
data hash it carries (``entry.py``), so none of what it shows is taken on its word.

Parsing is strict (exact keys, integer sizes, lowercase 64-hex hashes, at most
``MAX_PROOF_HASHES`` hashes, file at most the ``proof_bytes`` limit); any malformation is an
``EvidenceError`` naming the field.
"""
from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..canonical import load_json
from ..errors import EvidenceError
from ..limits import MAX_PROOF_HASHES, MAX_TREE_SIZE, check_size
from ..pki.checks import TrustStore
from . import merkle
from .checkpoint import Checkpoint
from .entry import check_kind, check_time, leaf_of

if TYPE_CHECKING:
    from .log import EvidenceLog

HEX32 = re.compile(r"[0-9a-f]{64}")
INCLUSION = ("index", "size", "kind", "received_at", "data_sha256", "leaf_hash", "root", "proof")
CONSISTENCY = ("old_size", "new_size", "old_root", "new_root", "proof")


def _int(p: dict, key: str, lo: int) -> int:
    v = p[key]
    if type(v) is not int or not lo <= v <= MAX_TREE_SIZE:
        raise EvidenceError(f"must be an integer in {lo}..{MAX_TREE_SIZE}", field=f"proof.{key}")
    return v


def _hash(v: Any, field: str) -> bytes:
    if not isinstance(v, str) or not HEX32.fullmatch(v):
        raise EvidenceError("must be a SHA-256 hash: 64 lowercase hex digits", field=field)
    return bytes.fromhex(v)


def parse_proof(proof: Any) -> dict[str, Any]:
    """A proof (file bytes, JSON text or dict) as a checked dict with bytes hashes; ``EvidenceError`` if malformed."""
    if isinstance(proof, (bytes, bytearray, str)):
        raw = proof.encode("utf-8", "surrogatepass") if isinstance(proof, str) else bytes(proof)
        check_size(len(raw), "proof_bytes", "proof")
        proof = load_json(raw, "proof", EvidenceError)
    if not isinstance(proof, dict):
        raise EvidenceError("a proof is a JSON object (what `otclab evidence prove` writes)", field="proof")
    kind = proof.get("type", "consistency" if "old_size" in proof else "inclusion")
    if kind not in ("inclusion", "consistency"):
        raise EvidenceError(f"unknown proof type {kind!r}; allowed: inclusion, consistency", field="proof.type")
    keys = INCLUSION if kind == "inclusion" else CONSISTENCY
    missing = [k for k in keys if k not in proof]
    extra = sorted(set(proof) - set(keys) - {"type"})
    if missing or extra:
        what = f"missing {', '.join(missing)}" if missing else f"unexpected {', '.join(map(repr, extra))}"
        raise EvidenceError(f"{kind} proof must have exactly the keys {', '.join(keys)} ({what})", field="proof")
    path = proof["proof"]
    if not isinstance(path, list) or len(path) > MAX_PROOF_HASHES:
        raise EvidenceError(f"must be a list of at most {MAX_PROOF_HASHES} hashes", field="proof.proof")
    out: dict[str, Any] = {"type": kind, "proof": [_hash(h, f"proof.proof[{i}]") for i, h in enumerate(path)]}
    if kind == "inclusion":
        out["size"] = _int(proof, "size", 1)
        out["index"] = _int(proof, "index", 0)
        if out["index"] >= out["size"]:
            raise EvidenceError(f"entry index {out['index']} outside a tree of size {out['size']}", field="proof.index")
        out["kind"] = check_kind(proof["kind"], "proof.kind")
        out["received_at"] = check_time(proof["received_at"], "proof.received_at")
        for k in ("data_sha256", "leaf_hash", "root"):
            out[k] = _hash(proof[k], f"proof.{k}")
    else:
        out["old_size"] = _int(proof, "old_size", 1)
        out["new_size"] = _int(proof, "new_size", 1)
        if out["old_size"] > out["new_size"]:
            raise EvidenceError("old_size must not exceed new_size", field="proof.old_size")
        out["old_root"] = _hash(proof["old_root"], "proof.old_root")
        out["new_root"] = _hash(proof["new_root"], "proof.new_root")
    return out


class TrustedRoots:
    """Roots by tree size from verified checkpoints, else from the log; where each came from."""

    def __init__(self, log: "EvidenceLog | Callable[[], EvidenceLog] | None" = None,
                 checkpoints: Iterable[Checkpoint] = (), trust: TrustStore | None = None):
        self._log = log
        self.by_size: dict[int, tuple[bytes, str]] = {}
        self.conflicts: list[str] = []
        cps = list(checkpoints)
        if cps and not isinstance(trust, TrustStore):
            raise EvidenceError(
                "a checkpoint is trusted only through the root that issued its signer's certificate: "
                "give --trust-root", field="trust-root")
        for cp in cps:
            cert = cp.verify(trust)
            source = f"checkpoint of {cp.time} signed by {cert.subject.rfc4514_string()} (trusted)"
            have = self.by_size.get(cp.size)
            if have is not None and have[0] != cp.root:
                self.conflicts.append(f"two trusted checkpoints of size {cp.size} name different roots: the log was forked")
            self.by_size.setdefault(cp.size, (cp.root, source))

    def log(self) -> "EvidenceLog | None":
        if callable(self._log) and not hasattr(self._log, "root"):
            self._log = self._log()
        return self._log

    def root(self, size: int) -> tuple[bytes, str]:
        if size in self.by_size:
            return self.by_size[size]
        try:
            log = self.log()
        except EvidenceError as exc:
            raise EvidenceError(f"no trusted root for tree size {size}: {exc.message}; or give a checkpoint of that "
                                "size (--checkpoint with --trust-root)", field=exc.field) from None
        if log is None:
            raise EvidenceError(
                f"no trusted root for tree size {size}: give the log (--log) or a checkpoint of that size "
                "(--checkpoint with --trust-root)", field="proof")
        n = log.require_entries()
        if size > n:
            more = f" and no checkpoint of size {size} was given" if self.by_size else ""
            raise EvidenceError(f"no trusted root for tree size {size}: the log at {log.where} has {n} entries{more}",
                                field="proof")
        return log.root(size), f"log {log.where} at size {size}"


def verify_proof(proof: Any, *, log: "EvidenceLog | Callable[[], EvidenceLog] | None" = None,
                 checkpoints: Iterable[Checkpoint] = (), trust: TrustStore | None = None,
                 data: bytes | None = None) -> dict[str, Any]:
    """Verify an inclusion or consistency proof against trusted roots (see the module docstring).

    ``log``: the log (or a function opening it, called only if a root is needed from it);
    ``checkpoints`` (verified with ``trust``, which they require); ``data``: the entry's data, for
    an inclusion proof. Returns ``{"type", "ok", "problems", "roots": [{size, root, source}], ...}``;
    a malformed proof or a size without a trusted root raises ``EvidenceError``.
    """
    p = parse_proof(proof)
    roots = TrustedRoots(log, checkpoints, trust)
    problems = list(roots.conflicts)
    if p["type"] == "inclusion":
        root, source = roots.root(p["size"])
        leaf = leaf_of(p["kind"], p["received_at"], p["data_sha256"])
        if leaf != p["leaf_hash"]:
            problems.append("the proof's leaf hash is not that of its kind, time and data hash (proof altered)")
        if data is not None and hashlib.sha256(data).digest() != p["data_sha256"]:
            problems.append("the entry data given do not hash to the proof's data_sha256 (not this entry)")
        if p["root"] != root:
            problems.append(f"the proof is for root {p['root'].hex()}, the trusted root of size {p['size']} is "
                            f"{root.hex()} ({source})")
        elif not merkle.verify_inclusion(leaf, p["index"], p["size"], p["proof"], root):
            problems.append(f"the inclusion path does not lead from entry {p['index']} to the trusted root")
        result = {"type": "inclusion", "index": p["index"], "size": p["size"], "kind": p["kind"],
                  "received_at": p["received_at"], "data_sha256": p["data_sha256"].hex(), "leaf_hash": leaf.hex(),
                  "root": root.hex(), "entry_checked": data is not None,
                  "roots": [{"size": p["size"], "root": root.hex(), "source": source}]}
    else:
        old, new = p["old_size"], p["new_size"]
        old_root, old_src = roots.root(old)
        new_root, new_src = roots.root(new)
        for label, mine, trusted, size, src in (("old", p["old_root"], old_root, old, old_src),
                                                ("new", p["new_root"], new_root, new, new_src)):
            if mine != trusted:
                problems.append(f"the proof's {label} root {mine.hex()} is not the trusted root of size {size} "
                                f"{trusted.hex()} ({src})")
        if not problems and not merkle.verify_consistency(old, new, p["proof"], old_root, new_root):
            problems.append(f"the consistency proof does not connect the trusted roots of sizes {old} and {new}")
        result = {"type": "consistency", "old_size": old, "new_size": new, "old_root": old_root.hex(),
                  "new_root": new_root.hex(),
                  "roots": [{"size": old, "root": old_root.hex(), "source": old_src},
                            {"size": new, "root": new_root.hex(), "source": new_src}]}
    return {**result, "ok": not problems, "problems": problems}


def verify_inclusion_proof(proof: Any, data: bytes | None = None, *, root: bytes) -> bool:
    """Does ``proof`` put its entry (and ``data``, if given) under ``root``, a root *you* trust?"""
    p = parse_proof(proof)
    if p["type"] != "inclusion":
        raise EvidenceError("not an inclusion proof", field="proof.type")
    leaf = leaf_of(p["kind"], p["received_at"], p["data_sha256"])
    if leaf != p["leaf_hash"] or p["root"] != root:
        return False
    if data is not None and hashlib.sha256(data).digest() != p["data_sha256"]:
        return False
    return merkle.verify_inclusion(leaf, p["index"], p["size"], p["proof"], root)


def verify_consistency_proof(proof: Any, *, old_root: bytes, new_root: bytes) -> bool:
    """Does ``proof`` show the tree with ``old_root`` is a prefix of the one with ``new_root`` (roots *you* trust)?"""
    p = parse_proof(proof)
    if p["type"] != "consistency":
        raise EvidenceError("not a consistency proof", field="proof.type")
    if p["old_root"] != old_root or p["new_root"] != new_root:
        return False
    return merkle.verify_consistency(p["old_size"], p["new_size"], p["proof"], old_root, new_root)
