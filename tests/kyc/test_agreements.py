"""The agreements an approved client signs online (issue 15): issued and sealed by the firm on
approval, signed by the client with its own certificate (the demo PKI's client party) or with an
event certificate in the web form, both signatures verified, the stored hashes and the evidence
entries; refusals (not approved, already signed, a tampered stored copy, a seal that does not
verify, an unknown kind); a crash between a file and its row finished by the rerun; trading
refused until every required agreement is signed (an imported client unaffected); the CLI end to
end with ``otclab esign verify``."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from kyc_support import agreements_file, approve_all, client_credentials, new_case, sign_all

from otclab.kyc import service as K
from otclab.kyc.clients import OnboardingRefused

TITLES = {"master_supplement": "《中国证券期货市场场外衍生品交易主协议》补充协议",
          "risk_disclosure": "《场外衍生品交易风险揭示书》", "suitability_match": "《适当性匹配意见书》"}


def _book(store, trade_id, cp):
    from otclab.core.dates import Date
    from otclab.workflows.trades import book

    trade = {"trade_id": trade_id, "template": "vanilla", "direction": "sell", "premium": 50_000,
             "counterparty": {"id": cp, "name": "瀚海鼎盛投资有限公司"},
             "terms": {"underlying": "000300.SH", "notional": 1e6, "initial_price": 3900, "start_date": "2025-12-30",
                       "tenor_months": 3, "option_type": "put", "strike": 0.95}}
    return book(store, [trade], recorded_by="trader1", as_of=Date(2025, 12, 30))


def _approved(store, cp="CP-AG1", username="client.hanhai"):
    case = new_case(store, counterparty_id=cp, username=username)
    K.submit(store, case, username)
    approve_all(store, case)
    return case


def _entries(store, kind):
    from otclab.kyc.evidence import log_url, open_log

    log = open_log(log_url(store))
    return [json.loads(log.entry(i)[1]) for i in range(log.size()) if log.entry(i)[0] == kind]


def _text(pdf: bytes) -> str:
    """The PDF's text (pypdfium2), line breaks dropped (a paragraph wraps anywhere in Chinese)."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r", "").replace("\n", "")
    finally:
        doc.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)      # on PostgreSQL: test_kyc_workflow's booking
def test_approval_issues_them_the_client_signs_with_its_certificate_and_then_may_trade(store, seal):
    from otclab.esign.pdfsign import verify_pdf

    case = _approved(store)
    refs = K.agreements(store, case)
    assert [(r.kind, r.title, r.state, r.required) for r in refs] == [(k, t, "issued", True) for k, t in TITLES.items()]
    trust = K.trust_from_pki(seal)
    for r in refs:                                      # certified by the firm, the stored copy has its hash
        data = Path(r.issued_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.issued_sha256 and r.issued_sha256 in r.issued_path
        rep = verify_pdf(data, trust)
        assert rep["ok"] and rep["count"] == 1 and rep["signatures"][0]["field"] == "dealer"
        assert "示例证券" in r.issued_signer and r.issued_by == "rita.risk"
    text = _text(Path(refs[2].issued_path).read_bytes())          # filled from the case
    v = K.view(store, case)
    for part in (v.institution, v.uscc, case, "C5", "R5", "匹配"):
        assert part in text
    assert "郑远航" in _text(Path(refs[0].issued_path).read_bytes())
    assert K.issue_agreements(store, case, by="someone") == refs                  # made once
    issued = _entries(store, "kyc.agreement_issued")
    assert sorted(e["sha256"] for e in issued) == sorted(r.issued_sha256 for r in refs)
    # trading waits for the signatures: the refusal names them and how to sign
    with pytest.raises(OnboardingRefused) as e:
        _book(store, "AG-T1", "CP-AG1")
    assert all(t in str(e.value) for t in TITLES.values()) and f"otclab kyc agreements sign {case}" in str(e.value)
    one = K.sign_agreement(store, case, "risk_disclosure", client_credentials(seal), trust, by="client.hanhai")
    assert one.state == "signed" and one.signed_with == "certificate" and "示例私募基金" in one.signer_subject
    signed = Path(one.signed_path).read_bytes()
    assert hashlib.sha256(signed).hexdigest() == one.signed_sha256 and signed.startswith(
        Path(one.issued_path).read_bytes())                               # an incremental update of the sealed copy
    rep = verify_pdf(signed, trust)
    assert rep["ok"] and rep["count"] == 2 and [s["field"] for s in rep["signatures"]] == ["dealer", "client"]
    with pytest.raises(K.AgreementError, match="is already signed"):
        K.sign_agreement(store, case, "risk_disclosure", client_credentials(seal), trust, by="client.hanhai")
    with pytest.raises(K.AgreementError, match="unknown agreement kind 'nda'.*allowed: master_supplement"):
        K.sign_agreement(store, case, "nda", client_credentials(seal), trust, by="client.hanhai")
    with pytest.raises(OnboardingRefused) as e:
        _book(store, "AG-T1", "CP-AG1")
    assert TITLES["master_supplement"] in str(e.value) and TITLES["risk_disclosure"] not in str(e.value)
    assert [r.kind for r in sign_all(store, case, seal)] == ["master_supplement", "suitability_match"]
    assert [r.trade_id for r in _book(store, "AG-T1", "CP-AG1")] == ["AG-T1"]
    logged = _entries(store, "kyc.agreement_signed")
    assert sorted(e["sha256"] for e in logged) == sorted(r.signed_sha256 for r in K.agreements(store, case))
    assert all(e["by"] == "client.hanhai" and "示例私募基金" in e["signer"] for e in logged)
    assert [a["state"] for a in K.view(store, case).extra["agreements"]] == ["signed"] * 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)      # signing is backend-blind: SQLite only
def test_the_web_route_signs_with_an_event_certificate_for_the_logged_in_clients_institution(store, seal, tmp_path,
                                                                                             monkeypatch):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from otclab.esign.pdfsign import verify_pdf
    from otclab.esign.pki.checks import check_certificate

    monkeypatch.setenv("OTCLAB_KYC_AGREEMENTS", str(agreements_file(tmp_path, ["risk_disclosure", "suitability_match"])))
    case = _approved(store, "CP-AG2", "client.ev")
    with pytest.raises(K.AgreementError, match="client.other has no KYC case"):
        K.sign_agreements_online(store, "client.other")
    done = K.sign_agreements_online(store, "client.ev", ["suitability_match"])
    assert [r.kind for r in done] == ["suitability_match"] and done[0].signed_with == "event"
    done += K.sign_agreements_online(store, "client.ev")                # the rest
    assert [(r.kind, r.state) for r in K.agreements(store, case)] == [("risk_disclosure", "signed"),
                                                                       ("suitability_match", "signed")]
    trust = K.trust_from_pki(seal)
    serials = set()
    for r in done:
        data = Path(r.signed_path).read_bytes()
        rep = verify_pdf(data, trust)
        assert rep["ok"] and rep["count"] == 2
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        cert = x509.load_der_x509_certificate(PdfFileReader(io.BytesIO(data)).embedded_signatures[1].signer_cert.dump())
        subject = {a.oid: a.value for a in cert.subject}
        assert subject[NameOID.ORGANIZATION_NAME] == "瀚海鼎盛投资有限公司"
        assert subject[NameOID.SERIAL_NUMBER] == subject[NameOID.ORGANIZATIONAL_UNIT_NAME] == K.view(store, case).uscc
        assert subject[NameOID.COMMON_NAME] == "钱嘉禾" and subject[NameOID.USER_ID] == "client.ev"
        assert check_certificate(cert, "document", trust)[-1] == trust.roots[0]      # the PKI's root, fit to sign
        serials.add(cert.serial_number)
        # the platform's TSA (the PKI's tsa party) stamps the client's signature, so the event
        # certificate lives a day and the signed copy still verifies after it has expired
        import datetime as dt

        assert rep["signatures"][1]["timestamp"]["trusted"]
        assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=1, minutes=5)
        assert verify_pdf(data, trust, at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))["ok"]
    assert len(serials) == 2                                            # one event certificate per signature
    assert [r.trade_id for r in _book(store, "AG-T2", "CP-AG2")] == ["AG-T2"]
    with pytest.raises(K.AgreementError, match="no agreement waiting for a signature"):
        K.sign_agreements_online(store, "client.ev")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)      # signing is backend-blind: SQLite only
def test_refusals_not_approved_a_tampered_copy_and_a_seal_that_does_not_verify(store, seal):
    from otclab.esign.pki.demo import build_demo_pki

    case = new_case(store, counterparty_id="CP-AG3", username="client.t")
    with pytest.raises(K.AgreementError, match="is draft: the agreements are issued once it is approved"):
        K.issue_agreements(store, case, by="ops")
    with pytest.raises(K.AgreementError, match="is draft"):
        K.sign_agreement(store, case, "risk_disclosure", client_credentials(seal), K.trust_from_pki(seal), by="c")
    K.submit(store, case, "client.t")
    approve_all(store, case)
    trust = K.trust_from_pki(seal)
    ref = next(r for r in K.agreements(store, case) if r.kind == "risk_disclosure")
    path = Path(ref.issued_path)
    good = path.read_bytes()
    path.write_bytes(good.replace(b"/Producer", b"/Producex", 1))
    with pytest.raises(K.AgreementError, match="no longer has its recorded SHA-256"):
        K.sign_agreement(store, case, "risk_disclosure", client_credentials(seal), trust, by="client.t")
    path.write_bytes(good)
    other = build_demo_pki().trust()                                   # a root that did not issue the firm's seal
    with pytest.raises(K.AgreementError, match="the firm's seal on 《场外衍生品交易风险揭示书》 does not verify"):
        K.sign_agreement(store, case, "risk_disclosure", client_credentials(seal), other, by="client.t")
    assert [r.state for r in K.agreements(store, case)] == ["issued"] * 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)      # signing is backend-blind: SQLite only
def test_a_failed_issue_leaves_the_approval_standing_and_a_rerun_finishes_what_a_crash_left(store, pki, monkeypatch,
                                                                                              tmp_path):
    from sqlalchemy import delete, update

    from otclab.store import tables_kyc as T

    monkeypatch.delenv("OTCLAB_KYC_PKI", raising=False)                # no seal configured
    case = _approved(store, "CP-AG4", "client.f")
    v = K.view(store, case)
    assert v.state == "approved" and K.agreements(store, case) == []
    assert v.history[-1]["action"] == "agreements_failed" and "no seal" in v.history[-1]["comment"]
    assert f"otclab kyc agreements issue {case}" in K.agreements_failure(store, case)
    assert "has not signed" in v.client["reason"]
    monkeypatch.setenv("OTCLAB_KYC_PKI", str(pki))
    refs = K.issue_agreements(store, case, by="olga.ops")
    assert len(refs) == 3 and K.agreements_failure(store, case) is None
    # a crash after the files were written and before their rows: the rerun finds them by hash
    folder = Path(refs[0].issued_path).parent
    files = sorted(folder.iterdir())
    with store.begin() as c:
        c.execute(delete(T.kyc_agreements).where(T.kyc_agreements.c.case_id == case))
    again = K.issue_agreements(store, case, by="olga.ops")
    assert [r.issued_sha256 for r in again] == [r.issued_sha256 for r in refs] and sorted(folder.iterdir()) == files
    # the same after a signature: the signed copy is found, not signed a second time
    signed = K.sign_agreement(store, case, "master_supplement", client_credentials(pki), K.trust_from_pki(pki),
                              by="client.f")
    with store.begin() as c:
        c.execute(update(T.kyc_agreements).where(T.kyc_agreements.c.case_id == case,
                                                 T.kyc_agreements.c.kind == signed.kind)
                  .values(state="issued", signed_sha256=None, signed_path=None, signed_size=None, signer_subject=None,
                          signed_with=None, signed_by=None, signed_at=None, signed_log_index=None))
    files = sorted(folder.iterdir())
    redone = K.sign_agreement(store, case, signed.kind, client_credentials(pki), K.trust_from_pki(pki), by="client.f")
    assert redone.signed_sha256 == signed.signed_sha256 and sorted(folder.iterdir()) == files
    with store.connect() as c:
        st = K.client_status(c, "CP-AG4")
    assert not st.tradable and TITLES["risk_disclosure"] in st.reason and TITLES["master_supplement"] not in st.reason
    # which agreements are required is data: optional ones do not hold trading up
    monkeypatch.setenv("OTCLAB_KYC_AGREEMENTS", str(agreements_file(tmp_path, optional=("risk_disclosure",
                                                                                         "suitability_match"))))
    assert [r["title"] for r in K.unsigned_agreements(store, case)] == []
    with store.connect() as c:
        st = K.client_status(c, "CP-AG4")
    assert st.tradable, st.reason


def _file(tmp_path, extra):
    from otclab.kyc.agreements import AGREEMENTS_FILE

    p = tmp_path / f"agreements-{len(extra)}.toml"
    p.write_text(AGREEMENTS_FILE.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return p


def test_the_agreements_file_is_checked_with_the_field_named(tmp_path, monkeypatch):
    from otclab.kyc.agreements import definitions

    monkeypatch.setenv("OTCLAB_KYC_AGREEMENTS", str(_file(tmp_path, '\n[[agreement]]\nkind = "x"\ntitle = "甲"\n'
                                                                         'paragraphs = ["{institutoin}"]\n')))
    from otclab.core.errors import OtcError

    with pytest.raises(OtcError, match=r"x paragraph 1: unknown placeholder\(s\) \{institutoin\}"):
        definitions()
    monkeypatch.setenv("OTCLAB_KYC_AGREEMENTS", str(_file(tmp_path, '\n[[agreement]]\nkind = "Risk Disclosure"\n'
                                                                         'title = "甲"\nparagraphs = ["a"]\n')))
    with pytest.raises(OtcError, match="kind must be 1-32 lower-case ascii"):
        definitions()


def test_an_imported_client_is_unaffected_and_the_check_stays_one_query(store, seal):
    from sqlalchemy import event

    from otclab.kyc.demo import onboard

    case = _approved(store, "CP-AG5", "client.q")
    onboard(store, ["CP-IMP1", "CP-IMP2"], by="ops")
    assert [r.trade_id for r in _book(store, "AG-T5", "CP-IMP1")] == ["AG-T5"]        # on paper before the platform
    seen = []
    with store.connect() as c:
        event.listen(c, "before_cursor_execute", lambda *a: seen.append(a[2]))
        got = K.check_counterparties(c, [("CP-AG5", "snowball"), ("CP-IMP1", "snowball"), ("CP-IMP2", "vanilla")] * 300)
    assert [q.split()[0] for q in seen if q.split()[0] != "BEGIN"] == ["SELECT"]
    assert [g is None for g in got[:3]] == [False, True, True] and "has not signed" in got[0] and case in got[0]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)      # signing is backend-blind: SQLite only
def test_the_cli_issues_signs_shows_and_esign_verify_checks_the_signed_copy(store, pki, monkeypatch, capsys, tmp_path):
    from otclab.cli.main import main

    url = store.url.render_as_string(hide_password=False)
    monkeypatch.delenv("OTCLAB_KYC_PKI", raising=False)
    monkeypatch.setenv("OTCLAB_KYC_AGREEMENTS", str(agreements_file(tmp_path, ["master_supplement", "risk_disclosure"])))
    case = _approved(store, "CP-AG6", "client.cli")                     # approved without a seal: nothing issued
    assert main(["kyc", "agreements", "show", case, "--db", url]) == 0
    out = capsys.readouterr().out
    assert "(no agreements issued)" in out and "no seal" in out and TITLES["risk_disclosure"] in out
    monkeypatch.setenv("OTCLAB_KYC_PKI", str(pki))
    assert main(["kyc", "agreements", "issue", case, "--db", url, "--user", "olga.ops"]) == 0
    out = capsys.readouterr().out
    assert "master_supplement" in out and "risk_disclosure" in out and out.count("issued") >= 2
    key = ["--key", str(pki / "client.p12"), "--password", "demo", "--pki", str(pki), "--db", url, "--user", "client.cli"]
    assert main(["kyc", "agreements", "sign", case, "--kind", "nda", *key]) == 2
    err = capsys.readouterr().err
    assert "unknown agreement kind 'nda'" in err and len(err.strip().splitlines()) == 1
    assert main(["kyc", "agreements", "sign", case, "--kind", "risk_disclosure", *key]) == 0
    assert "risk_disclosure: signed by" in capsys.readouterr().out
    assert main(["kyc", "agreements", "sign", case, *key]) == 0              # every one left
    out = capsys.readouterr().out
    assert "master_supplement: signed" in out and "risk_disclosure" not in out
    assert main(["kyc", "agreements", "show", case, "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.count("signed") >= 2 and "every required agreement is signed" in out
    signed = K.agreements(store, case)[0].signed_path
    assert main(["esign", "verify", signed, "--trust-root", str(pki / "root-ca.pem"), "--crl", str(pki / "crl.pem")]) == 0
    out = capsys.readouterr().out
    assert "OK (2 signature(s))" in out and "[dealer]" in out and "[client]" in out
    assert main(["kyc", "status", "CP-AG6", "--db", url]) == 0
