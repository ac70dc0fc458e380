"""The local RFC 3161 TSA answers DER requests with signed tokens over the given imprint."""
from __future__ import annotations

import hashlib

import pytest
from asn1crypto import algos, tsp

from otclab.esign.errors import CertificateError, InputError
from otclab.esign.pki.tsa import LocalTimestampAuthority


def test_rfc3161_request_response(tsa):
    digest = hashlib.sha256(b"document").digest()
    req = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": tsp.MessageImprint({"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                                               "hashed_message": digest}),
        "nonce": 123456789, "cert_req": True,
    })
    resp = tsp.TimeStampResp.load(tsa.respond(req.dump()))
    assert resp["status"]["status"].native == "granted"
    info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == 123456789
    assert "Timestamp Authority" in info["tsa"].chosen.native["common_name"]


def test_tsa_refuses_garbage_and_non_tsa_certificates(tsa, pki, trust):
    with pytest.raises(InputError, match="TimeStampReq"):
        tsa.respond(b"\x30\x03\x02\x01\x01garbage")
    with pytest.raises(CertificateError, match="timestamp"):
        LocalTimestampAuthority(pki.parties["dealer"], trust)
