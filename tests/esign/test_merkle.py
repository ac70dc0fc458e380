"""The Merkle tree against an independent computation (the RFC 9162 recursive MTH definition).

Property tests: inclusion and consistency proofs verify for random tree sizes up to 10,000 and
fail after any alteration. One 10,000-leaf node table serves every smaller size (the complete
subtrees of a prefix are nodes of the full tree), and the reference MTH memoises ranges, so the
tests stay fast.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st

from otclab.esign.evidence import merkle

N_MAX = 10_000
DATA = [f"entry-{i}".encode() for i in range(N_MAX)]


@lru_cache(maxsize=None)
def ref_mth(lo: int, hi: int) -> bytes:
    """RFC 9162 section 2.1.1, written from the definition (independent of the code under test)."""
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + DATA[lo]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(lo, lo + k) + ref_mth(lo + k, hi)).digest()


class Nodes:
    def __init__(self):
        cr, out = merkle.CompactRange(), []
        for d in DATA:
            cr.append(merkle.leaf_hash(d), out)
        self.nodes = {(lvl, i): h for lvl, i, h in out}
        self.final_root = cr.root()

    def subtree(self, level, index):
        return self.nodes[(level, index)]


NODES = Nodes()
sizes = st.integers(min_value=1, max_value=N_MAX)


def test_known_vectors_and_empty_tree():
    assert merkle.root_hash(NODES, 0).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    # RFC 6962 reference test vector: leaf hash of the empty entry
    assert merkle.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert NODES.final_root == ref_mth(0, N_MAX)


def test_compact_range_root_matches_reference_for_every_small_size():
    cr, sink = merkle.CompactRange(), []
    for n in range(1, 300):
        cr.append(merkle.leaf_hash(DATA[n - 1]), sink)
        assert cr.root() == ref_mth(0, n) == merkle.root_hash(NODES, n)


@settings(max_examples=150, deadline=None)
@given(sizes, st.data())
def test_inclusion_proofs_verify(n, data):
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = merkle.inclusion_proof(NODES, i, n)
    root = ref_mth(0, n)
    assert merkle.root_hash(NODES, n) == root
    assert merkle.verify_inclusion(merkle.leaf_hash(DATA[i]), i, n, proof, root)
    assert len(proof) <= (n - 1).bit_length()


@settings(max_examples=150, deadline=None)
@given(sizes, st.data())
def test_altered_inclusion_proofs_fail(n, data):
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = merkle.inclusion_proof(NODES, i, n)
    root, leaf = ref_mth(0, n), merkle.leaf_hash(DATA[i])
    if proof:
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bit = data.draw(st.integers(min_value=0, max_value=255))
        bad = list(proof)
        bad[k] = bytes(b ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(bad[k]))
        assert not merkle.verify_inclusion(leaf, i, n, bad, root)
        assert not merkle.verify_inclusion(leaf, i, n, proof[:-1], root)
    assert not merkle.verify_inclusion(leaf, i, n, proof + [bytes(32)], root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(DATA[i] + b"x"), i, n, proof, root)
    other = data.draw(st.integers(min_value=0, max_value=n - 1))
    if other != i:  # the same proof does not place the leaf elsewhere
        assert not merkle.verify_inclusion(leaf, other, n, proof, root)
    assert not merkle.verify_inclusion(leaf, n, n, proof, root)  # index outside the tree
    # (the tree size alone is not authenticated by a proof; the signed checkpoint binds size and root)


@settings(max_examples=150, deadline=None)
@given(sizes, st.data())
def test_consistency_proofs_verify(n, data):
    m = data.draw(st.integers(min_value=1, max_value=n))
    proof = merkle.consistency_proof(NODES, m, n)
    assert merkle.verify_consistency(m, n, proof, ref_mth(0, m), ref_mth(0, n))
    assert (proof == []) == (m == n)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=2, max_value=N_MAX), st.data())
def test_altered_consistency_proofs_fail(n, data):
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    proof = merkle.consistency_proof(NODES, m, n)
    old, new = ref_mth(0, m), ref_mth(0, n)
    k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bad = list(proof)
    bad[k] = bytes([bad[k][0] ^ 0x80]) + bad[k][1:]
    assert not merkle.verify_consistency(m, n, bad, old, new)
    assert not merkle.verify_consistency(m, n, proof[:-1], old, new)
    assert not merkle.verify_consistency(m, n, proof + [bytes(32)], old, new)
    assert not merkle.verify_consistency(m, n, [], old, new)
    # a different history: the old root of another prefix does not fit
    assert not merkle.verify_consistency(m, n, proof, ref_mth(1, m + 1) if m + 1 <= N_MAX else bytes(32), new)
    assert not merkle.verify_consistency(m, n, proof, old, ref_mth(0, n - 1))
