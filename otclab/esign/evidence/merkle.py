"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification (SHA-256).

Definitions (RFC 9162 section 2.1.1): for the list D[0:n] of entries,

    MTH({})        = SHA-256()
    MTH({d0})      = SHA-256(0x00 || d0)                      (leaf hash)
    MTH(D[0:n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of 2 < n

Proof *generation* here reads hashes of complete, aligned subtrees (level L, index i covers
leaves [i*2^L, (i+1)*2^L)) from a ``SubtreeSource``; every left subtree in the RFC recursion is
such a subtree, so a proof needs O(log^2 n) lookups, not O(n) hashing. ``CompactRange`` keeps the
right edge of the tree ("peaks") so that appending a leaf creates at most log2(n)+1 new nodes.
The verification functions follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 literally.
"""
from __future__ import annotations

import hashlib
from typing import Protocol, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class SubtreeSource(Protocol):
    def subtree(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index * 2**level."""


def range_hash(src: SubtreeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for ``start`` aligned as in the RFC recursion (multiple of the split)."""
    n = end - start
    if n <= 0:
        raise ValueError("empty range")
    if n & (n - 1) == 0 and start % n == 0:
        return src.subtree(n.bit_length() - 1, start // n)
    k = split_point(n)
    return node_hash(range_hash(src, start, start + k), range_hash(src, start + k, end))


def root_hash(src: SubtreeSource, size: int) -> bytes:
    """Root hash of the first ``size`` leaves."""
    return EMPTY_ROOT if size == 0 else range_hash(src, 0, size)


def inclusion_proof(src: SubtreeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside tree of size {size}")
    proof: list[bytes] = []
    lo, hi = 0, size
    siblings = []
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo = lo + k
    for a, b in reversed(siblings):
        proof.append(range_hash(src, a, b))
    return proof


def consistency_proof(src: SubtreeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1 (empty if the sizes are equal)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"consistency proof needs 0 < old size ({old_size}) <= new size ({new_size})")
    nodes: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                nodes.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            nodes.append((lo + k, hi))
            hi = lo + k
        else:
            nodes.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    return [range_hash(src, a, b) for a, b in reversed(nodes)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != HASH_SIZE or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of ``old_size`` with ``old_root`` a prefix of the new one?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size:
        return False
    if not proof or any(len(p) != HASH_SIZE for p in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def peak_positions(size: int) -> list[tuple[int, int]]:
    """(level, index) of the complete subtrees that make up a tree of ``size`` leaves, left to right."""
    out, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


class CompactRange:
    """Right edge of the tree: the peak hashes for the current size; appends produce new nodes."""

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()):
        if len(peaks) != bin(size).count("1"):
            raise ValueError("peak count does not match the tree size")
        self.size = size
        self.peaks = list(peaks)

    def append(self, leaf: bytes, out: list[tuple[int, int, bytes]]) -> None:
        """Add one leaf hash; push every newly complete node (level, index, hash) onto ``out``."""
        index, level, h = self.size, 0, leaf
        out.append((0, index, h))
        while index & 1:
            h = node_hash(self.peaks.pop(), h)
            index >>= 1
            level += 1
            out.append((level, index, h))
        self.peaks.append(h)
        self.size += 1

    def root(self) -> bytes:
        """MTH of all leaves so far: the peaks folded right to left."""
        if not self.peaks:
            return EMPTY_ROOT
        r = self.peaks[-1]
        for p in reversed(self.peaks[:-1]):
            r = node_hash(p, r)
        return r
