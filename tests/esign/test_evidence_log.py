"""The stored evidence log: appends, proofs, checkpoints, audit and tamper detection (SQLite/PostgreSQL)."""
from __future__ import annotations

import hashlib
import json
import os
import uuid

import pytest

from otclab.esign.canonical import canonical_json
from otclab.esign.errors import CertificateError, EvidenceError, OtcError
from otclab.esign.evidence import Checkpoint, EvidenceLog, merkle, verify_consistency_proof, verify_inclusion_proof


def ref_entry(kind: str, received_at: str, data: bytes) -> bytes:
    """The documented format-2 entry bytes, written out independently of otclab.esign.evidence.entry."""
    k, t = kind.encode(), received_at.encode()
    return (b"otclab-evidence-entry/v2\x00" + len(k).to_bytes(2, "big") + k + len(t).to_bytes(2, "big") + t
            + hashlib.sha256(data).digest())


def stored(log: EvidenceLog, n: int | None = None) -> list[bytes]:
    """Entry bytes of the first n stored entries (kind, time and data as the database holds them)."""
    return [ref_entry(k, at, d) for k, d, at in (log.entry(i) for i in range(log.size() if n is None else n))]


def ref_root(entries: list[bytes]) -> bytes:
    """Independent MTH (RFC 9162 definition) of a list of entries."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + ref_root(entries[:k]) + ref_root(entries[k:])).digest()


@pytest.fixture
def log(tmp_path):
    with EvidenceLog(tmp_path / "evidence.sqlite") as lg:
        yield lg


def _fill(log: EvidenceLog, n: int) -> list[bytes]:
    records = [{"kind": "test", "i": i, "doc": f"文件{i}"} for i in range(n)]
    log.append_many([("test", r) for r in records])
    return [canonical_json(r) for r in records]


def test_appends_match_independent_root_at_every_size(log):
    count = 0
    for batch in ([0], list(range(1, 7)), list(range(7, 40)), [40]):
        receipts = log.append_many([("t", {"i": i}) for i in batch])
        count += len(batch)
        entries = stored(log)
        assert [log.entry(i)[1] for i in batch] == [canonical_json({"i": i}) for i in batch]
        assert receipts[-1].size == count == log.size()
        assert receipts[-1].root == ref_root(entries) == log.root()
        assert [r.index for r in receipts] == batch
        assert [r.leaf_hash for r in receipts] == [hashlib.sha256(b"\x00" + entries[i]).digest() for i in batch]
    for n in range(1, count + 1):
        assert log.root(n) == ref_root(entries[:n])


def test_proofs_from_the_store_verify(log):
    data = _fill(log, 1000)
    entries = stored(log)
    root = ref_root(entries)
    for i in (0, 1, 499, 998, 999):
        p = log.prove_inclusion(i)
        assert p["root"] == root.hex()
        assert verify_inclusion_proof(p, data[i], root=root)
        assert not verify_inclusion_proof(p, data[i] + b" ", root=root)
        assert not verify_inclusion_proof(p, data[i], root=ref_root(entries[:999]))
        assert log.verify_proof(p, data[i])["ok"] and not log.verify_proof(p, data[i] + b" ")["ok"]
        older = log.prove_inclusion(i, size=i + 1)
        assert older["root"] == ref_root(entries[: i + 1]).hex()
        assert verify_inclusion_proof(older, data[i], root=ref_root(entries[: i + 1]))
    for m in (1, 2, 3, 512, 999, 1000):
        c = log.prove_consistency(m)
        old = ref_root(entries[:m])
        assert c["old_root"] == old.hex() and verify_consistency_proof(c, old_root=old, new_root=root)
        assert log.verify_proof(c)["ok"]
        c["proof"] = c["proof"][1:] if c["proof"] else ["00" * 32]
        assert not verify_consistency_proof(c, old_root=old, new_root=root)
        assert not log.verify_proof(c)["ok"]


def test_log_persists_across_reopen(tmp_path):
    path = tmp_path / "e.sqlite"
    with EvidenceLog(path) as lg:
        _fill(lg, 37)
        entries = stored(lg)
    with EvidenceLog(f"sqlite:///{path}", create=False) as lg:
        assert lg.size() == 37 and lg.root() == ref_root(entries)
        lg.append("more", {"x": 1})
        assert lg.root() == ref_root(stored(lg)) and stored(lg)[:37] == entries


def test_append_is_all_or_nothing(log):
    _fill(log, 5)
    with pytest.raises(EvidenceError, match="kind"):
        log.append_many([("ok", {"a": 1}), ("", {"b": 2})])
    assert log.size() == 5


def test_checkpoint_sign_verify_and_consistency(log, pki, trust):
    _fill(log, 100)
    cp = log.checkpoint(pki.parties["dealer"].signer())
    assert cp.size == 100 and cp.root == log.root()
    again = Checkpoint.from_json(cp.to_json())
    assert again == cp
    _fill(log, 23)
    result = log.verify_checkpoint(again, trust)
    assert result["signature_ok"] and result["consistent_with_size"] == 123
    assert log.audit(trust)["ok"]


def test_checkpoint_by_wrong_purpose_or_untrusted_signer_refused(log, pki, trust):
    _fill(log, 3)
    cp = Checkpoint.create(log.size(), log.root(), pki.parties["tls"].signer())
    with pytest.raises(CertificateError, match="serverAuth"):
        cp.verify(trust)
    cp = Checkpoint.create(log.size(), log.root(), pki.parties["expired"].signer())
    with pytest.raises(CertificateError, match="expired"):
        cp.verify(trust)


def test_every_flipped_byte_in_a_checkpoint_is_detected(log, pki, trust):
    _fill(log, 10)
    text = log.checkpoint(pki.parties["dealer"].signer()).to_json().encode()
    for pos in range(len(text)):
        bad = bytearray(text)
        bad[pos] ^= 0x01
        with pytest.raises(OtcError):
            log.verify_checkpoint(Checkpoint.from_json(bytes(bad)), trust)
        # even without a trust store: the body names the certificate by hash and is signed
        with pytest.raises(OtcError):
            Checkpoint.from_json(bytes(bad)).check_integrity()


def test_flipped_byte_in_a_logged_entry_is_detected(log, pki, trust):
    entries = _fill(log, 200)
    log.checkpoint(pki.parties["dealer"].signer())
    proof = log.prove_inclusion(137)
    assert log.audit(trust)["ok"]
    tampered = bytearray(entries[137])
    tampered[5] ^= 0x01
    with log.db.write():
        log.db.execute("UPDATE evidence_entries SET data = ? WHERE idx = ?", (bytes(tampered), 137))
    report = log.audit(trust)
    assert not report["ok"]
    assert any("entry 137" in p for p in report["problems"])
    assert not log.verify_proof(proof, log.entry(137)[1])["ok"]
    assert log.verify_proof(proof, entries[137])["ok"]  # the proof still holds the original


def test_rewritten_history_is_caught_by_the_checkpoint(log, pki, trust):
    _fill(log, 50)
    cp = log.checkpoint(pki.parties["dealer"].signer())
    # an attacker rewrites entry 10 AND all the Merkle nodes (a consistent forged tree)
    with log.db.write():
        log.db.execute("DELETE FROM evidence_nodes")
        log.db.execute("UPDATE evidence_entries SET data = ? WHERE idx = 10", (b'{"forged":true}',))
        rows = log.db.query("SELECT kind, received_at, data FROM evidence_entries ORDER BY idx")
        cr, nodes = merkle.CompactRange(), []
        for kind, at, data in rows:
            cr.append(merkle.leaf_hash(ref_entry(kind, at, bytes(data))), nodes)
        log.db.executemany("INSERT INTO evidence_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
    log._cache.clear()
    with pytest.raises(EvidenceError, match="log altered"):
        log.verify_checkpoint(cp, trust)
    assert not log.audit(trust)["ok"]


def test_bad_requests_are_clear(log):
    _fill(log, 4)
    with pytest.raises(EvidenceError, match="outside 0..3"):
        log.prove_inclusion(4)
    with pytest.raises(EvidenceError, match="old size"):
        log.prove_consistency(5)
    with pytest.raises(EvidenceError, match="no entry 9"):
        log.entry(9)
    with pytest.raises(EvidenceError, match="not valid JSON"):
        Checkpoint.from_json("{nope")
    with pytest.raises(EvidenceError, match="must have exactly the keys"):
        verify_inclusion_proof({"index": 0}, root=log.root())


@pytest.mark.skipif(not os.environ.get("OTCLAB_TEST_PG_URL"), reason="set OTCLAB_TEST_PG_URL to test PostgreSQL")
def test_postgresql_backend(pki, trust):
    url = os.environ["OTCLAB_TEST_PG_URL"]
    with EvidenceLog(url) as lg:
        # a shared database: work relative to what is there
        start = lg.size()
        tag = uuid.uuid4().hex
        receipts = lg.append_many([("pgtest", {"tag": tag, "i": i}) for i in range(50)])
        assert receipts[-1].size == start + 50 == lg.size()
        p = lg.prove_inclusion(start + 7)
        assert lg.verify_proof(p, canonical_json({"tag": tag, "i": 7}))["ok"]
        cp = lg.checkpoint(pki.parties["dealer"].signer())
        assert lg.verify_checkpoint(Checkpoint.from_json(cp.to_json()), trust)["signature_ok"]
        assert json.loads(cp.to_json())["algorithm"] == "rsa-pss-sha256"


def test_concurrent_writers_are_serialised(tmp_path):
    """Two writers with their own connections: every entry lands once and the tree stays consistent."""
    import threading

    path = tmp_path / "shared.sqlite"
    EvidenceLog(path).close()
    errors = []

    def writer(tag):
        try:
            with EvidenceLog(path) as lg:
                for b in range(20):
                    lg.append_many([("w", {"tag": tag, "b": b, "i": i}) for i in range(10)])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with EvidenceLog(path) as lg:
        assert lg.size() == 400
        assert lg.audit()["ok"]
        assert lg.root() == ref_root(stored(lg))
        data = [lg.entry(i)[1] for i in range(400)]
        assert len({json.loads(d)["tag"] + str(json.loads(d)["b"]) + str(json.loads(d)["i"]) for d in data}) == 400
