"""Issue 12, class 2 (evidence that can be forged) and the e-sign extras, as a user meets them.

Each test reproduces one finding of the hostile pass over ``otclab evidence`` / ``esign`` /
``envelope`` through the command line (``otclab.cli.main.main``) and, where there is one, the
Python API. A user error must be one line on stderr with exit 2; "not verified" is exit 1.
"""
from __future__ import annotations

import json
import sqlite3
import stat

import pytest

from otclab.cli.main import main
from otclab.esign.errors import CertificateError, EvidenceError
from otclab.esign.evidence import Checkpoint, EvidenceLog



TRUST: list[str] = []  # filled by the pki fixture: --trust-root ... --crl ...


@pytest.fixture(scope="module")
def pkidir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hardening")
    assert main(["esign", "demo-pki", str(d / "pki")]) == 0
    assert main(["esign", "demo-pki", str(d / "other")]) == 0  # another PKI, not trusted below
    TRUST[:] = ["--trust-root", str(d / "pki" / "root-ca.pem"), "--crl", str(d / "pki" / "crl.pem")]
    return d


@pytest.fixture
def cwd(pkidir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTCLAB_EVIDENCE_URL", str(tmp_path / "evidence.sqlite"))
    return tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, err
    return code, out, err


def fill(path, n, start=0, tag="a"):
    with EvidenceLog(path) as lg:
        lg.append_many([("note", {"i": i, "tag": tag}) for i in range(start, start + n)])


def key(pkidir, pki="pki", party="dealer"):
    return ["--key", str(pkidir / pki / f"{party}.p12"), "--password", "demo"]


# ---- proofs verify only against a root the verifier trusts ------------------------------------

def test_forged_one_leaf_proof_of_an_entry_never_logged_is_not_verified(cwd, capsys):
    """The proof brought its own root: a made-up one-leaf proof printed VERIFIED."""
    fill(cwd / "evidence.sqlite", 5)
    fake = "5d" * 32
    proof = {"type": "inclusion", "index": 0, "size": 1, "kind": "note", "received_at": "2026-01-05T09:30:00+00:00",
             "data_sha256": "11" * 32, "leaf_hash": fake, "root": fake, "proof": []}
    (cwd / "p.json").write_text(json.dumps(proof))
    (cwd / "entry.bin").write_bytes(b'{"memo":"never logged"}')
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "p.json")
    assert code == 1 and "VERIFIED" not in out and "FAILED" in out
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "p.json", "--entry", "entry.bin")
    assert code == 1 and "VERIFIED" not in out
    # no log and no checkpoint: there is no trusted root at all, which is an error, not a verdict
    code, out, err = run(capsys, "evidence", "verify", "--proof", "p.json", "--log", cwd / "elsewhere.sqlite")
    assert code == 2 and "VERIFIED" not in out and "trusted root" in err
    assert not (cwd / "elsewhere.sqlite").exists()
    # the genuine proof of entry 3 still verifies against the log
    assert run(capsys, "evidence", "prove", "3", "--out", "good.json")[0] == 0
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "good.json", "--entry", "entry.bin")
    assert code == 1  # the entry file is not entry 3
    (cwd / "entry.bin").write_bytes(b'{"i":3,"tag":"a"}')
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "good.json", "--entry", "entry.bin", "--json")
    res = json.loads(out)
    assert code == 0 and res["ok"] and res["entry_checked"] and res["kind"] == "note"
    assert res["roots"][0]["source"].startswith("log")


def test_forged_proofs_fail_through_the_python_api(tmp_path):
    from otclab.esign.evidence import verify_inclusion_proof, verify_proof

    fill(tmp_path / "e.sqlite", 5)
    with EvidenceLog(tmp_path / "e.sqlite", create=False) as lg:
        good = lg.prove_inclusion(2)
        assert verify_proof(good, log=lg)["ok"]
        assert verify_inclusion_proof(good, root=lg.root(5))
        forged = dict(good, size=1, index=0, proof=[], root=good["leaf_hash"])
        assert not verify_proof(forged, log=lg)["ok"]
        assert not verify_inclusion_proof(forged, root=lg.root(1))
        for field, value in (("kind", "pdf.signed"), ("received_at", "2020-01-01T00:00:00+00:00"), ("data_sha256", "00" * 32)):
            assert not verify_proof(dict(good, **{field: value}), log=lg)["ok"], field


def test_a_checkpoint_given_beside_a_proof_is_the_root_it_is_checked_against(cwd, capsys, pkidir):
    """``--checkpoint`` beside ``--proof`` was ignored; the proof's own root was used."""
    fill(cwd / "A.sqlite", 5, tag="A")
    fill(cwd / "B.sqlite", 5, tag="B")
    assert run(capsys, "evidence", "checkpoint", *key(pkidir), "--out", "cpA.json", "--log", "A.sqlite")[0] == 0
    assert run(capsys, "evidence", "prove", "2", "--out", "pA.json", "--log", "A.sqlite")[0] == 0
    assert run(capsys, "evidence", "prove", "2", "--out", "pB.json", "--log", "B.sqlite")[0] == 0
    # no log here (OTCLAB_EVIDENCE_URL names a missing file): the checkpoint is the only root
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "pB.json", "--checkpoint", "cpA.json", *TRUST)
    assert code == 1 and "FAILED" in out
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "pB.json", "--checkpoint", "cpA.json", *TRUST,
                       "--log", "B.sqlite")
    assert code == 1 and "FAILED" in out  # the signed checkpoint wins over a log that disagrees
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "pA.json", "--checkpoint", "cpA.json", *TRUST, "--json")
    res = json.loads(out)
    assert code == 0 and res["ok"] and res["roots"][0]["source"].startswith("checkpoint")
    assert not (cwd / "evidence.sqlite").exists()


def test_a_consistency_proof_between_two_equal_made_up_roots_is_not_verified(cwd, capsys, pkidir):
    fill(cwd / "evidence.sqlite", 5)
    made_up = "ab" * 32
    for old, new in ((3, 3), (5, 5)):
        (cwd / "c.json").write_text(json.dumps({"type": "consistency", "old_size": old, "new_size": new,
                                                "old_root": made_up, "new_root": made_up, "proof": []}))
        code, out, _ = run(capsys, "evidence", "verify", "--proof", "c.json")
        assert code == 1 and "FAILED" in out, (old, new)
    (cwd / "c.json").write_text(json.dumps({"type": "consistency", "old_size": 9, "new_size": 9,
                                            "old_root": made_up, "new_root": made_up, "proof": []}))
    code, out, err = run(capsys, "evidence", "verify", "--proof", "c.json")
    assert code == 2 and "VERIFIED" not in out  # size 9 is beyond the log: no trusted root for it
    # a real one, between two signed checkpoints, verifies with no log at all
    assert run(capsys, "evidence", "checkpoint", *key(pkidir), "--out", "cp5.json")[0] == 0
    fill(cwd / "evidence.sqlite", 4, start=5)
    assert run(capsys, "evidence", "checkpoint", *key(pkidir), "--out", "cp9.json")[0] == 0
    assert run(capsys, "evidence", "prove", "--consistency", "5", "--out", "c59.json")[0] == 0
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "c59.json", "--checkpoint", "cp5.json",
                       "--checkpoint", "cp9.json", *TRUST, "--log", cwd / "absent.sqlite", "--json")
    assert code == 0 and json.loads(out)["ok"]
    assert [r["source"].split()[0] for r in json.loads(out)["roots"]] == ["checkpoint", "checkpoint"]


# ---- a checkpoint signature is trusted only through --trust-root -------------------------------

def test_checkpoint_signature_is_not_reported_ok_without_a_trust_root(cwd, capsys, pkidir):
    fill(cwd / "evidence.sqlite", 3)
    assert run(capsys, "evidence", "checkpoint", *key(pkidir, "other"), "--out", "cp_other.json")[0] == 0
    code, out, err = run(capsys, "evidence", "verify", "--checkpoint", "cp_other.json")
    assert code == 2 and "signature OK" not in out and "--trust-root" in err
    code, out, err = run(capsys, "evidence", "verify", "--checkpoint", "cp_other.json", *TRUST)
    assert code == 2 and "does not chain to a trusted root" in err
    cp = Checkpoint.from_json((cwd / "cp_other.json").read_bytes())
    with EvidenceLog(cwd / "evidence.sqlite", create=False) as lg:
        with pytest.raises(EvidenceError, match="trust"):
            lg.verify_checkpoint(cp)
        with pytest.raises(EvidenceError, match="trust"):
            cp.verify(None)
    # the audit without a trust root does not call the stored checkpoint trusted either
    code, out, _ = run(capsys, "evidence", "verify", "--json")
    res = json.loads(out)
    assert res["checkpoint_signers_trusted"] is False and "not checked" in " ".join(res["notes"])
    code, out, _ = run(capsys, "evidence", "verify", *TRUST)
    assert code == 1 and "does not chain" in out


# ---- every stored column is inside the leaf hash ------------------------------------------------

@pytest.mark.parametrize("column,value", [("kind", "pdf.signed"), ("received_at", "2020-01-01T00:00:00+00:00")])
def test_editing_kind_or_received_at_in_the_database_is_caught(cwd, capsys, column, value):
    path = cwd / "evidence.sqlite"
    fill(path, 10)
    assert run(capsys, "evidence", "verify")[0] == 0
    assert run(capsys, "evidence", "prove", "3", "--out", "p.json")[0] == 0
    con = sqlite3.connect(path)
    with con:
        con.execute(f"UPDATE evidence_entries SET {column} = ? WHERE idx = 3", (value,))
    con.close()
    code, out, _ = run(capsys, "evidence", "verify")
    assert code == 1 and "entry 3" in out
    # a proof made after the edit carries the edited column and does not verify
    assert run(capsys, "evidence", "prove", "3", "--out", "p2.json")[0] == 0
    assert json.loads((cwd / "p2.json").read_text())[column] == value
    (cwd / "entry.bin").write_bytes(b'{"i":3,"tag":"a"}')
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "p2.json", "--entry", "entry.bin")
    assert code == 1 and "FAILED" in out


def make_format1_log(path, n: int, signer=None) -> None:
    """A log as otclab wrote it before issue 12 (leaf = SHA-256(0x00 || data); no format marker)."""
    import datetime as dt
    import hashlib

    from otclab.esign.canonical import canonical_json
    from otclab.esign.evidence import merkle

    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")  # as otclab wrote it
    con.executescript(
        "CREATE TABLE evidence_entries (idx INTEGER PRIMARY KEY, kind TEXT NOT NULL, data BLOB NOT NULL, "
        "received_at TEXT NOT NULL);"
        "CREATE TABLE evidence_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
        "PRIMARY KEY (level, idx));"
        "CREATE TABLE evidence_checkpoints (size INTEGER NOT NULL, root BLOB NOT NULL, time TEXT NOT NULL, "
        "body BLOB NOT NULL, signature BLOB NOT NULL, algorithm TEXT NOT NULL, certificate BLOB NOT NULL, "
        "PRIMARY KEY (size, time));")
    cr, nodes = merkle.CompactRange(), []
    for i in range(n):
        data = canonical_json({"i": i, "old": True})
        at = (dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i)).isoformat()
        con.execute("INSERT INTO evidence_entries VALUES (?, ?, ?, ?)", (i, "pdf.signed", data, at))
        cr.append(hashlib.sha256(b"\x00" + data).digest(), nodes)
    con.executemany("INSERT INTO evidence_nodes VALUES (?, ?, ?)", nodes)
    if signer is not None:
        cp = Checkpoint.create(n, cr.root(), signer)
        con.execute("INSERT INTO evidence_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (cp.size, cp.root, cp.time, cp.body, cp.signature, cp.algorithm, cp.certificate))
    con.commit()
    con.close()


def test_a_format1_log_is_refused_with_the_way_to_migrate_it(cwd, capsys, pkidir):
    import hashlib

    from otclab.esign.pki import load_credentials

    old = cwd / "old.sqlite"
    make_format1_log(old, 20, load_credentials(pkidir / "pki" / "dealer.p12", password="demo").signer())
    before = hashlib.sha256(old.read_bytes()).hexdigest()
    for argv in (["verify"], ["prove", "3"], ["append", "--kind", "note", "--record", "{}"]):
        code, _, err = run(capsys, "evidence", *argv, "--log", old)
        assert code == 2 and "format 1" in err and "otclab evidence migrate" in err, argv
    code, out, err = run(capsys, "evidence", "migrate", old, "new.sqlite", *TRUST, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert code == 0 and res["from"]["size"] == 20 and res["to"]["size"] == 21
    assert res["from"]["checkpoints"][0]["size"] == 20 and res["from"]["checkpoint_signers_trusted"]
    assert hashlib.sha256(old.read_bytes()).hexdigest() == before  # the old log is the archive, untouched
    with EvidenceLog(cwd / "new.sqlite", create=False) as lg, sqlite3.connect(old) as con:
        rows = con.execute("SELECT kind, data, received_at FROM evidence_entries ORDER BY idx").fetchall()
        assert [lg.entry(i) for i in range(20)] == [(k, bytes(d), at) for k, d, at in rows]
        kind, data, _ = lg.entry(20)
        assert kind == "log.migrated" and json.loads(data)["from"]["root"] == res["from"]["root"]
        assert lg.audit()["ok"]
    code, _, err = run(capsys, "evidence", "migrate", old, "new.sqlite")
    assert code == 2 and "exists" in err
    # an altered format-1 log is not migrated
    con = sqlite3.connect(old)
    with con:
        con.execute("UPDATE evidence_entries SET data = ? WHERE idx = 4", (b'{"i":4,"old":false}',))
    con.close()
    code, _, err = run(capsys, "evidence", "migrate", old, "again.sqlite")
    assert code == 2 and "entry 4" in err and not (cwd / "again.sqlite").exists()


# ---- a missing, empty or damaged log is an error, and verify never creates one ------------------

def test_missing_log_is_an_error_and_is_never_created(cwd, capsys, pkidir):
    typo = cwd / "evidnce.sqlite"
    code, out, err = run(capsys, "evidence", "verify", "--log", typo)
    assert code == 2 and "no evidence log" in err and "OK" not in out
    for argv in (["prove", "0"], ["prove", "--consistency", "1"], ["checkpoint", *key(pkidir)]):
        code, _, err = run(capsys, "evidence", *argv, "--log", typo)
        assert code == 2 and "no evidence log" in err, argv
    assert not typo.exists()
    with pytest.raises(EvidenceError, match="no evidence log"):
        EvidenceLog(typo, create=False)
    assert not typo.exists()


def test_empty_log_is_an_error_not_ok(cwd, capsys):
    EvidenceLog(cwd / "evidence.sqlite").close()
    code, out, err = run(capsys, "evidence", "verify", *TRUST)
    assert code == 2 and "no entries" in err and "OK" not in out
    with EvidenceLog(cwd / "evidence.sqlite", create=False) as lg:
        with pytest.raises(EvidenceError, match="no entries"):
            lg.audit()


def test_damaged_log_is_one_clear_line(cwd, capsys):
    path = cwd / "evidence.sqlite"
    with EvidenceLog(path) as lg:
        lg.append_many([("note", {"i": i, "pad": "x" * 200}) for i in range(2000)])
    whole = path.read_bytes()
    for name, data in (("truncated", whole[: len(whole) // 2]), ("cut after the header", whole[:4096]),
                       ("not a database", b"hello " * 1000)):
        path.write_bytes(data)
        for argv in (["verify"], ["prove", "0"], ["append", "--kind", "note", "--record", "{}"]):
            code, out, err = run(capsys, "evidence", *argv)
            assert code == 2 and "damaged" in err, (name, argv, err)


# ---- durable commits before a receipt is returned -----------------------------------------------

def test_receipts_follow_a_durable_commit(tmp_path):
    with EvidenceLog(tmp_path / "e.sqlite") as lg:
        assert lg.db.query("PRAGMA synchronous")[0][0] == 2  # FULL: the WAL is synced at every commit
        receipt = lg.append("note", {"x": 1})
    with EvidenceLog(tmp_path / "e.sqlite", create=False) as again:
        assert again.size() == receipt.size == 1 and again.root() == receipt.root


# ---- bad values at the evidence and envelope boundaries -----------------------------------------

@pytest.mark.parametrize("record", [
    '{"x": NaN}',
    '{"x": Infinity}',
    '{"x": -1e400}',
    '{"a": 1, "a": 2}',
    pytest.param('{"a":' * 50_000 + "1" + "}" * 50_000, id="deep"),
    "[1]",
])
def test_bad_records_are_refused_with_one_line(cwd, capsys, record):
    code, _, err = run(capsys, "evidence", "append", "--kind", "note", "--record", record)
    assert code == 2 and "record" in err


@pytest.mark.parametrize("kind", ["", pytest.param("a" * 65, id="long"),
                                  pytest.param("note\nforged", id="newline"),
                                  pytest.param("备注", id="non-ascii")])
def test_bad_kinds_are_refused(cwd, capsys, kind):
    code, _, err = run(capsys, "evidence", "append", "--kind", kind, "--record", "{}")
    assert code == 2 and "kind" in err


def test_oversized_proof_file_is_refused(cwd, capsys):
    fill(cwd / "evidence.sqlite", 3)
    assert run(capsys, "evidence", "prove", "1", "--out", "p.json")[0] == 0
    (cwd / "big.json").write_text((cwd / "p.json").read_text() + " " * (2 << 20))
    code, _, err = run(capsys, "evidence", "verify", "--proof", "big.json")
    assert code == 2 and "limit" in err


def test_envelope_window_and_size_are_bounded(cwd, capsys, pkidir, monkeypatch):
    p = pkidir / "pki"
    (cwd / "msg.txt").write_text("确认书")
    assert run(capsys, "envelope", "seal", "msg.txt", "m.env", "--to", p / "client.pem", "--type", "confirmation",
               "--uti", "U1", *key(pkidir))[0] == 0
    args = ["envelope", "open", "m.env", "out.txt", *key(pkidir, party="client"), *TRUST, "--replay-db", "r.sqlite"]
    for window in ("0", "-5", str(10**15)):
        code, _, err = run(capsys, *args, "--window", window)
        assert code == 2 and "window" in err, window
    monkeypatch.setenv("OTCLAB_MAX_ENVELOPE_BYTES", "1000")
    code, _, err = run(capsys, *args)
    assert code == 2 and "limit" in err and "OTCLAB_MAX_ENVELOPE_BYTES" in err
    monkeypatch.delenv("OTCLAB_MAX_ENVELOPE_BYTES")
    assert run(capsys, *args)[0] == 0


# ---- demo PKI: private keys stay private, existing files stay --------------------------------------

def test_demo_pki_keys_are_private_and_never_overwritten(tmp_path, capsys):
    d = tmp_path / "pki"
    assert run(capsys, "esign", "demo-pki", d)[0] == 0
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    keys = [f for f in d.iterdir() if f.name.endswith((".key.pem", ".p12"))]
    assert len(keys) == 13  # root CA key + 6 parties x (PEM key, PKCS#12)
    for f in d.iterdir():
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == (0o600 if f in keys else 0o644), (f.name, oct(mode))
    before = {f.name: f.read_bytes() for f in d.iterdir()}
    code, _, err = run(capsys, "esign", "demo-pki", d)
    assert code == 2 and "--force" in err and "root-ca.key.pem" in err
    assert {f.name: f.read_bytes() for f in d.iterdir()} == before
    (d / "dealer.key.pem").chmod(0o644)
    assert run(capsys, "esign", "demo-pki", d, "--force")[0] == 0
    assert (d / "dealer.key.pem").read_bytes() != before["dealer.key.pem"]
    assert stat.S_IMODE((d / "dealer.key.pem").stat().st_mode) == 0o600


def test_demo_pki_with_a_passphrase_encrypts_every_key(tmp_path, capsys):
    from otclab.esign.pki import load_credentials

    d = tmp_path / "pki"
    code, out, _ = run(capsys, "esign", "demo-pki", d, "--password", "s3cret-不", "--json")
    assert code == 0 and json.loads(out)["pkcs12_password"] is None
    for f in d.glob("*.key.pem"):
        assert b"ENCRYPTED PRIVATE KEY" in f.read_bytes(), f.name
    with pytest.raises(CertificateError, match="wrong password"):
        load_credentials(d / "dealer.key.pem", d / "dealer.pem")
    with pytest.raises(CertificateError, match="wrong password"):
        load_credentials(d / "dealer.p12", password="demo")
    assert load_credentials(d / "dealer.key.pem", d / "dealer.pem", "s3cret-不").chain
    assert load_credentials(d / "dealer.p12", password="s3cret-不").chain


# ---- signed PDFs: which byte changes are benign ---------------------------------------------------

import random  # noqa: E402
import re  # noqa: E402

from otclab.esign.errors import InputError  # noqa: E402
from otclab.esign.pdfsign import sign_pdf, verify_pdf  # noqa: E402

PDF_WHITESPACE = b"\x00\t\n\x0c\r "


@pytest.fixture(scope="module")
def one_signed(pki, trust, tsa, document):
    return sign_pdf(document, pki.parties["dealer"].signer(), field_name="dealer", certify=True, timestamper=tsa,
                    trust=trust)


def contents_span(data: bytes) -> tuple[int, int]:
    """(start, end) of the hex digits of the last signature's /Contents: the gap of its /ByteRange."""
    a, b, c, _ = (int(x) for x in re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)[-1])
    assert data[a + b:a + b + 1] == b"<" and data[c - 1:c] == b">"
    return a + b + 1, c - 1


def decoded(data: bytes, span: tuple[int, int]) -> bytes | None:
    """The hex string in ``span`` decoded by the PDF rules (white space ignored, odd count padded)."""
    digits = bytes(ch for ch in data[span[0]:span[1]] if ch not in PDF_WHITESPACE)
    if re.fullmatch(rb"[0-9a-fA-F]*", digits) is None:
        return None
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode("ascii"))


def flipped(data: bytes, pos: int, bit: int) -> bytes:
    out = bytearray(data)
    out[pos] ^= bit
    return bytes(out)


def benign(original: bytes, changed: bytes, span: tuple[int, int]) -> bool:
    """The documented rule: only the /Contents hex string changed, and it decodes to the same bytes."""
    same_outside = original[:span[0]] == changed[:span[0]] and original[span[1]:] == changed[span[1]:]
    return same_outside and decoded(changed, span) == decoded(original, span)


def test_benign_changes_inside_contents_verify_and_are_named(one_signed, trust):
    s, e = contents_span(one_signed)
    letter = s + next(k for k, ch in enumerate(one_signed[s:e]) if chr(ch) in "ABCDEFabcdef")
    case = flipped(one_signed, letter, 0x20)
    assert benign(one_signed, case, (s, e))
    sig = verify_pdf(case, trust)["signatures"][0]
    assert sig["ok"] and any("letter case" in n for n in sig["notes"]), sig
    pad = e - 10
    assert one_signed[pad:pad + 1] == b"0"
    space = flipped(one_signed, pad, 0x10)
    assert space[pad:pad + 1] == b" " and benign(one_signed, space, (s, e))
    sig = verify_pdf(space, trust)["signatures"][0]
    assert sig["ok"] and any("white space" in n for n in sig["notes"]), sig
    assert verify_pdf(one_signed, trust)["signatures"][0]["notes"] == []


def test_every_other_single_bit_flip_fails_verification(one_signed, both_signed, trust):
    """All 8 bits at 8 positions of /Contents (its delimiters, the DER start, a hex letter, the middle,
    the last DER digit, the padding) and 16 random (position, bit) flips anywhere in a two-signature
    document: a flip verifies if and only if it is benign by the documented rule."""
    s, e = contents_span(one_signed)
    hexs = one_signed[s:e]
    der_end = s + len(hexs.rstrip(b"0"))
    letter = s + next(k for k, ch in enumerate(hexs) if chr(ch) in "ABCDEFabcdef")
    positions = [s - 1, s, letter, (s + der_end) // 2, der_end - 1, der_end, e - 1, e]
    rng = random.Random(12)
    cases = [(one_signed, p, 1 << b) for p in positions for b in range(8)]
    cases += [(both_signed, rng.randrange(len(both_signed)), 1 << rng.randrange(8)) for _ in range(16)]
    seen_benign = 0
    for doc, pos, bit in cases:
        bad = flipped(doc, pos, bit)
        try:
            ok = verify_pdf(bad, trust)["ok"]
        except InputError:
            ok = False
        # only the last signature's /Contents lies outside every signed byte range: an earlier
        # signature's /Contents is covered by the signatures after it
        expect = benign(doc, bad, contents_span(doc))
        assert ok == expect, f"flip of bit {bit:#04x} at byte {pos}: verified={ok}, benign by the rule={expect}"
        seen_benign += expect
    assert seen_benign >= 3  # the letter's case bit and two padding digits turned into spaces



# ---- the other size limits of the area (docs/esign.md, "Input limits") ----------------------------

def test_pdf_pki_and_device_inputs_are_bounded(cwd, capsys, monkeypatch, document):
    (cwd / "doc.pdf").write_bytes(document)
    monkeypatch.setenv("OTCLAB_MAX_PDF_BYTES", "100")
    code, _, err = run(capsys, "esign", "verify", "doc.pdf", *TRUST)
    assert code == 2 and "more than the limit of 100" in err and "OTCLAB_MAX_PDF_BYTES" in err
    monkeypatch.setenv("OTCLAB_MAX_PDF_BYTES", "lots")
    code, _, err = run(capsys, "esign", "verify", "doc.pdf", *TRUST)
    assert code == 2 and err.startswith("error: OTCLAB_MAX_PDF_BYTES:") and "positive integer" in err
    monkeypatch.delenv("OTCLAB_MAX_PDF_BYTES")
    monkeypatch.setenv("OTCLAB_MAX_PKI_FILE_BYTES", "10")
    code, _, err = run(capsys, "esign", "verify", "doc.pdf", *TRUST)
    assert code == 2 and "OTCLAB_MAX_PKI_FILE_BYTES" in err
    monkeypatch.delenv("OTCLAB_MAX_PKI_FILE_BYTES")
    for argv in (["esign", "verify", "/dev/zero", *TRUST], ["evidence", "append", "--kind", "note", "--file", "/dev/zero"],
                 ["evidence", "verify", "--proof", "/dev/zero"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "regular file" in err, argv
    assert not (cwd / "evidence.sqlite").exists()
