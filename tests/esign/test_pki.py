"""Certificates: loading PEM/PKCS#12 and refusing expired, revoked, wrong-purpose or untrusted ones."""
from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from otclab.esign.errors import CertificateError, InputError, OtcError, SignatureError
from otclab.esign.pki import TrustStore, check_certificate, load_certificates, load_credentials, load_crls
from otclab.esign.pki.demo import build_demo_pki
from otclab.esign.signer import RsaSigner, verify_signature


@pytest.fixture(scope="module")
def written(pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    pki.write(d)
    return d


def test_load_pem_and_pkcs12_give_same_key_and_chain(pki, written):
    a = load_credentials(written / "dealer.key.pem", written / "dealer.pem")
    b = load_credentials(written / "dealer.p12", password="demo")
    assert a.chain[0] == b.chain[0] == pki.parties["dealer"].chain[0]
    assert a.key.private_numbers() == b.key.private_numbers()
    assert [c.subject for c in b.chain] == [c.subject for c in pki.parties["dealer"].chain]
    assert load_certificates(written / "root-ca.pem") == [pki.root]
    assert load_crls(written / "crl.pem")[0].get_revoked_certificate_by_serial_number(
        pki.parties["revoked"].chain[0].serial_number) is not None


def test_wrong_pkcs12_password_is_clear(written):
    with pytest.raises(CertificateError, match="wrong password"):
        load_credentials(written / "dealer.p12", password="nope")


def test_key_not_matching_certificate_is_refused(written):
    with pytest.raises(CertificateError, match="does not match"):
        load_credentials(written / "dealer.key.pem", written / "client.pem")


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_certificates(tmp_path / "nope.pem")
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(InputError, match="not a PEM or DER"):
        load_certificates(tmp_path / "bad.pem")


def test_good_certificates_pass_for_their_purpose(pki, trust):
    for party in ("dealer", "client"):
        for purpose in ("document", "message", "encrypt"):
            path = check_certificate(pki.parties[party].chain[0], purpose, trust)
            assert path == [pki.parties[party].chain[0], pki.root]
    assert check_certificate(pki.parties["tsa"].chain[0], "timestamp", trust)[-1] == pki.root


def test_expired_certificate_refused_with_dates(pki, trust):
    with pytest.raises(CertificateError, match=r"expired on \d{4}-\d\d-\d\d"):
        check_certificate(pki.parties["expired"].chain[0], "document", trust)
    # ... but was fine while it was valid
    then = pki.parties["expired"].chain[0].not_valid_after_utc - dt.timedelta(days=1)
    assert check_certificate(pki.parties["expired"].chain[0], "document", trust, at=then)


def test_revoked_certificate_refused_with_reason(pki, trust):
    with pytest.raises(CertificateError, match="revoked on .* reason key_compromise"):
        check_certificate(pki.parties["revoked"].chain[0], "document", trust)
    # no CRL known: accepted unless the store requires revocation information
    assert check_certificate(pki.parties["revoked"].chain[0], "document", TrustStore(roots=[pki.root]))
    with pytest.raises(CertificateError, match="no CRL"):
        check_certificate(pki.parties["dealer"].chain[0], "document", TrustStore(roots=[pki.root], require_crl=True))


def test_wrong_purpose_refused(pki, trust):
    with pytest.raises(CertificateError, match="key usage lacks nonRepudiation"):
        check_certificate(pki.parties["tls"].chain[0], "document", trust)
    with pytest.raises(CertificateError, match="extended key usage is serverAuth"):
        check_certificate(pki.parties["tls"].chain[0], "message", trust)
    with pytest.raises(CertificateError, match="extended key usage is .*documentSigning"):
        check_certificate(pki.parties["dealer"].chain[0], "timestamp", trust)
    with pytest.raises(CertificateError, match="key usage lacks keyEncipherment"):
        check_certificate(pki.parties["tsa"].chain[0], "encrypt", trust)


def test_untrusted_root_and_forged_crl(pki, trust):
    other = build_demo_pki()
    with pytest.raises(CertificateError, match="does not chain to a trusted root"):
        check_certificate(other.parties["dealer"].chain[0], "document", trust)
    # a CRL with our CA's name but signed by another key is not believed
    forged = TrustStore(roots=[pki.root], crls=[
        x509.CertificateRevocationListBuilder().issuer_name(pki.root.subject)
        .last_update(dt.datetime.now(dt.timezone.utc)).next_update(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
        .sign(other.root_key, hashes.SHA256())])
    with pytest.raises(CertificateError, match="invalid signature"):
        check_certificate(pki.parties["dealer"].chain[0], "document", forged)


def test_stale_crl_refused(pki, trust):
    later = pki.crl.next_update_utc + dt.timedelta(days=1)
    with pytest.raises(CertificateError, match="stale"):
        check_certificate(pki.parties["dealer"].chain[0], "document", trust, at=later)


@pytest.mark.parametrize("scheme,alg", [("pss", "rsa-pss-sha256"), ("pkcs1v15", "rsa-pkcs1v15-sha256")])
def test_rsa_signer_interface(pki, scheme, alg):
    s = pki.parties["dealer"].signer(scheme)
    assert s.algorithm_id == alg and s.certificate == pki.parties["dealer"].chain[0]
    sig = s.sign(b"payload")
    verify_signature(s.certificate, alg, b"payload", sig)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(s.certificate, alg, b"payload!", sig)
    with pytest.raises(SignatureError, match="does not verify"):  # wrong key
        verify_signature(pki.parties["client"].chain[0], alg, b"payload", sig)
    with pytest.raises(SignatureError, match="unsupported signature algorithm 'sm2-sm3'"):
        verify_signature(s.certificate, "sm2-sm3", b"payload", sig)


def test_signer_refuses_mismatched_key(pki):
    with pytest.raises(CertificateError, match="does not belong"):
        RsaSigner(pki.parties["client"].key, pki.parties["dealer"].chain)
    assert issubclass(CertificateError, OtcError)
