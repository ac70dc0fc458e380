"""Envelopes: round trip, verify-before-decrypt, wrong key, wrong associated data, replay, tampering."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from otclab.esign.canonical import b64d, b64e, canonical_json
from otclab.esign.envelope import ReplayStore, open_envelope, seal_envelope
from otclab.esign.envelope.format import aad, fingerprint, signed_part
from otclab.esign.envelope.open import decrypt_content
from otclab.esign.envelope.seal import OAEP
from otclab.esign.errors import CertificateError, EnvelopeError, OtcError, ReplayError
from otclab.esign.evidence import EvidenceLog

CONTENT = "交易确认书 UTI CN0000000000ABC123: notional CNY 10,000,000".encode()


@pytest.fixture(scope="module")
def sealed(pki, trust):
    return seal_envelope(CONTENT, "confirmation", "CN0000000000ABC123", pki.parties["dealer"].signer(),
                         pki.parties["client"].chain[0], trust=trust)


def _open(env, pki, trust, replay=None, party="client", **kw):
    c = pki.parties[party]
    return open_envelope(env, c.key, c.chain[0], trust, replay or ReplayStore(), **kw)


def test_round_trip_and_header(sealed, pki, trust):
    opened = _open(sealed, pki, trust, expect_type="confirmation", expect_uti="CN0000000000ABC123")
    assert opened.content == CONTENT
    assert opened.sender == pki.parties["dealer"].chain[0]
    h = json.loads(sealed)["header"]
    assert h["recipient"] == fingerprint(pki.parties["client"].chain[0])
    assert h["content_alg"] == "A256GCM" and h["key_alg"] == "RSA-OAEP-256" and h["sig_alg"] == "rsa-pss-sha256"
    assert CONTENT not in sealed  # encrypted


def test_replayed_envelope_refused(sealed, pki, trust, tmp_path):
    store = ReplayStore(tmp_path / "replay.sqlite")
    _open(sealed, pki, trust, store)
    with pytest.raises(ReplayError, match="replayed envelope"):
        _open(sealed, pki, trust, store)
    store.close()
    with pytest.raises(ReplayError, match="already accepted"):  # persisted across restarts
        _open(sealed, pki, trust, ReplayStore(tmp_path / "replay.sqlite"))


def test_stale_or_future_envelope_refused(pki, trust):
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    env = seal_envelope(b"x", "confirmation", "U1", pki.parties["dealer"].signer(), pki.parties["client"].chain[0], now=old)
    with pytest.raises(ReplayError, match="outside the accepted window of 300 s"):
        _open(env, pki, trust)
    assert _open(env, pki, trust, window=dt.timedelta(hours=2)).content == b"x"
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=30)
    env = seal_envelope(b"x", "confirmation", "U1", pki.parties["dealer"].signer(), pki.parties["client"].chain[0], now=future)
    with pytest.raises(ReplayError):
        _open(env, pki, trust)


def test_wrong_recipient_key(sealed, pki, trust):
    with pytest.raises(EnvelopeError, match="wrong recipient key"):
        _open(sealed, pki, trust, party="dealer")
    # right certificate, wrong private key: the content key cannot be unwrapped
    c, d = pki.parties["client"], pki.parties["dealer"]
    with pytest.raises(EnvelopeError, match="cannot unwrap the content key"):
        open_envelope(sealed, d.key, c.chain[0], trust, ReplayStore())


def test_wrong_associated_data(sealed, pki, trust):
    with pytest.raises(EnvelopeError, match="message type is 'confirmation', expected 'report'"):
        _open(sealed, pki, trust, expect_type="report")
    with pytest.raises(EnvelopeError, match="UTI is"):
        _open(sealed, pki, trust, expect_uti="OTHER")
    # at the cipher level: the GCM tag binds the header
    env = json.loads(sealed)
    key = pki.parties["client"].key.decrypt(b64d(env["wrapped_key"], "k"), OAEP)
    iv, ct = b64d(env["iv"], "iv"), b64d(env["ciphertext"], "c")
    assert decrypt_content(key, iv, ct, aad(env["header"])) == CONTENT
    with pytest.raises(EnvelopeError, match="associated data"):
        decrypt_content(key, iv, ct, aad({**env["header"], "uti": "CN0000000000ABC124"}))


def test_resigned_header_by_another_trusted_party_fails_decryption(sealed, pki, trust):
    """A valid counterparty re-labels someone else's ciphertext (new type, own signature): GCM refuses."""
    env = json.loads(sealed)
    mallory = pki.parties["client"].signer()  # trusted certificate, but not the original sender
    env["header"] = {**env["header"], "type": "termination", "sender": fingerprint(mallory.certificate)}
    env["sender_chain"] = [b64e(c.public_bytes(Encoding.DER)) for c in mallory.certificate_chain]
    env["signature"] = b64e(mallory.sign(signed_part(env)))
    with pytest.raises(EnvelopeError, match="authentication failed"):
        _open(canonical_json(env), pki, trust)


def test_flipped_bytes_are_detected(sealed, pki, trust):
    for pos in range(len(sealed)):  # every byte of the envelope
        bad = bytearray(sealed)
        bad[pos] ^= 0x01
        with pytest.raises(OtcError):
            _open(bytes(bad), pki, trust)


def test_expired_or_revoked_sender_refused(pki, trust):
    for party, reason in (("expired", "expired"), ("revoked", "revoked")):
        env = seal_envelope(b"x", "confirmation", "U1", pki.parties[party].signer(), pki.parties["client"].chain[0])
        with pytest.raises(CertificateError, match=reason):
            _open(env, pki, trust)
    with pytest.raises(CertificateError, match="expired"):
        seal_envelope(b"x", "confirmation", "U1", pki.parties["dealer"].signer(), pki.parties["expired"].chain[0], trust=trust)
    with pytest.raises(CertificateError, match="keyEncipherment"):
        seal_envelope(b"x", "confirmation", "U1", pki.parties["dealer"].signer(), pki.parties["tsa"].chain[0])


def test_received_envelopes_are_persisted_and_logged(sealed, pki, trust, tmp_path):
    store = ReplayStore()
    with EvidenceLog(tmp_path / "ev.sqlite") as log:
        _open(sealed, pki, trust, store, evidence=log)
        with pytest.raises(ReplayError):
            _open(sealed, pki, trust, store, evidence=log)
        kinds = [log.entry(i)[0] for i in range(log.size())]
        assert kinds == ["envelope.received", "envelope.opened", "envelope.received", "envelope.rejected"]
        assert json.loads(log.entry(3)[1])["error"] == "ReplayError"
    (count,) = store.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()
    assert count == 1  # same bytes stored once


def test_sealing_is_logged(pki, tmp_path):
    with EvidenceLog(tmp_path / "ev.sqlite") as log:
        env = seal_envelope(b"x", "report", "U9", pki.parties["dealer"].signer(), pki.parties["client"].chain[0], evidence=log)
        kind, data, _ = log.entry(0)
        assert kind == "envelope.sealed" and json.loads(data)["uti"] == "U9"
        assert json.loads(data)["envelope_sha256"] == hashlib.sha256(env).hexdigest()
