"""The case through every reviewer role with four-eyes, return and resubmission, the evidence log,
the sealed report verified by ``otclab esign verify``, and enforcement: booking and quoting
refused for a client that is not onboarded, suspended or of a lower C-level, allowed after
approval; the import of clients onboarded before the platform."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from kyc_support import approve_all, new_case, reviewers, sign_all

from otclab.access import AccessDenied, Identity
from otclab.kyc import service as K

ROOT = Path(__file__).resolve().parents[2]


def _trade(trade_id, cp, template="vanilla"):
    return {"trade_id": trade_id, "template": template, "direction": "sell", "premium": 50_000,
            "counterparty": {"id": cp, "name": "瀚海鼎盛投资有限公司"},
            "terms": {"underlying": "000300.SH", "notional": 1e6, "initial_price": 3900, "start_date": "2025-12-30",
                      "tenor_months": 3, "option_type": "put", "strike": 0.95}}


def _book(store, trade_id, cp):
    from otclab.core.dates import Date
    from otclab.workflows.trades import book

    return book(store, [_trade(trade_id, cp)], recorded_by="trader1", as_of=Date(2025, 12, 30))


def test_every_role_in_turn_with_four_eyes_return_and_resubmission(store):
    who = reviewers()
    case = new_case(store)
    assert K.submit(store, case, "client.hanhai") == "sales_review"
    assert [s.case_id for s in K.queue(store, "sales")] == [case] and K.queue(store, "operations") == []
    v = K.view(store, case)
    assert v.questionnaire["c_level"] == 5 and v.suitability["eligible_otc"] and v.aml["level"] in ("low", "medium")
    assert v.prepared_by == ["client.hanhai"] and [c["key"] for c in K.CHECKS_BY_ROLE["compliance"]][0] == "suitability"
    # the wrong role, no scope, and the preparer cannot act
    with pytest.raises(AccessDenied, match="sales step"):
        K.act(store, case, "approve", who["risk"])
    with pytest.raises(AccessDenied, match="kyc-review"):
        K.act(store, case, "approve", Identity("nobody"))
    helper = Identity.of_groups("client.hanhai", ["sales"])     # even holding the sales group
    with pytest.raises(K.CaseError, match="four-eyes: client.hanhai prepared"):
        K.act(store, case, "approve", helper)
    with pytest.raises(K.CaseError, match="needs a comment"):
        K.act(store, case, "return", who["sales"])
    # sales approves; operations returns it for correction; the client fixes and resubmits
    assert K.act(store, case, "approve", who["sales"], "身份核实") == "operations_review"
    both = Identity.of_groups("sam.sales", ["sales", "operations"])
    with pytest.raises(K.CaseError, match="already approved case .* at the sales step"):
        K.act(store, case, "approve", both)
    assert K.act(store, case, "return", who["operations"], "授权书未盖章，请重新上传") == "returned"
    from kyc_support import pdf_bytes

    ref = K.upload(store, case, "authorisation", "auth-stamped.pdf", pdf_bytes("stamped"), "client.hanhai")
    assert ref.version == 2
    assert K.submit(store, case, "client.hanhai") == "sales_review"
    assert K.view(store, case).approvals == {}                        # a new round starts at sales
    v = approve_all(store, case, who)
    assert v.state == "approved" and v.approvals == {"sales": "sam.sales", "operations": "olga.ops",
                                                     "compliance": "carl.comp", "risk": "rita.risk"}
    # no seal configured here: the approval stands, the agreements are not issued and the history says why
    assert not v.client["tradable"] and v.client["c_level"] == 5 and "has not signed" in v.client["reason"]
    with pytest.raises(K.CaseError, match="no review step"):
        K.act(store, case, "approve", who["risk"])
    actions = [(h["action"], h["role"], h["by"]) for h in v.history if h["action"] not in ("saved", "uploaded")]
    assert actions[:4] == [("opened", None, "client.hanhai"), ("submit", None, "client.hanhai"),
                           ("assessed", None, "system"), ("approve", "sales", "sam.sales")]
    assert ("return", "operations", "olga.ops") in actions and actions[-2] == ("approve", "risk", "rita.risk")
    assert actions[-1] == ("agreements_failed", None, "system") and "no seal" in v.history[-1]["comment"]
    logged = K.evidence_entries(store, case)
    assert [e["seq"] for e in logged] == [h["seq"] for h in v.history]          # every event, in order
    assert any(e["comment"] == "授权书未盖章，请重新上传" for e in logged)


def test_a_client_short_of_the_otc_standard_cannot_pass_compliance(store):
    who = reviewers()
    case = new_case(store, financials={"net_assets": "4999万"})
    K.submit(store, case, "client.hanhai")
    K.act(store, case, "approve", who["sales"])
    K.act(store, case, "approve", who["operations"])
    for h in K.view(store, case).hits:
        K.decide_hit(store, case, h["hit_id"], "false_positive", "carl.comp", "不同主体")
    with pytest.raises(K.CaseError, match="OTC-option counterparty standard"):
        K.act(store, case, "approve", who["compliance"])
    assert K.act(store, case, "reject", who["compliance"], "净资产不足5000万") == "rejected"


def test_the_sealed_report_verifies_with_otclab_esign_verify(store, seal, tmp_path):
    case = new_case(store)
    K.submit(store, case, "client.hanhai")
    with pytest.raises(Exception, match="once it is approved"):
        K.report(store, case)
    approve_all(store, case)
    ref = K.report(store, case)
    assert K.report(store, case) == ref                                       # made once
    data = Path(ref.path).read_bytes()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == ref.sha256 and "示例证券" in ref.signer
    out = subprocess.run([sys.executable, "-m", "otclab", "esign", "verify", ref.path, "--trust-root",
                          str(seal / "root-ca.pem"), "--json"], capture_output=True, text=True, timeout=120,
                         cwd=str(ROOT))
    assert out.returncode == 0, out.stdout + out.stderr
    import json

    rep = json.loads(out.stdout)
    assert rep["ok"] and rep["count"] == 1 and rep["signatures"][0]["coverage"] == "entire_file"
    tampered = tmp_path / "t.pdf"
    tampered.write_bytes(data.replace(b"/Producer", b"/Producex", 1))
    from otclab.esign.cli_support import trust_store
    from otclab.esign.pdfsign import verify_pdf

    assert not verify_pdf(tampered.read_bytes(), trust_store([seal / "root-ca.pem"], None))["ok"]
    from otclab.kyc.evidence import log_url, open_log

    log = open_log(log_url(store))
    kind, body, _ = log.entry(ref.log_index)
    assert kind == "kyc.report" and ref.sha256.encode() in body
    assert K.view(store, case).report["sha256"] == ref.sha256


def test_booking_refused_until_approved_then_allowed_and_refused_again_when_suspended(store, seal, one_agreement):
    from otclab.kyc.clients import OnboardingRefused

    case = new_case(store, counterparty_id="CP-KYC9")
    with pytest.raises(OnboardingRefused, match="counterparty CP-KYC9 is not onboarded"):
        _book(store, "K-T1", "CP-KYC9")
    K.submit(store, case, "client.hanhai")
    approve_all(store, case)
    with pytest.raises(OnboardingRefused, match="CP-KYC9 .* has not signed"):
        _book(store, "K-T1", "CP-KYC9")
    sign_all(store, case, seal)                          # the client signs the agreements first
    assert [r.trade_id for r in _book(store, "K-T1", "CP-KYC9")] == ["K-T1"]
    K.suspend(store, "CP-KYC9", "年度复核资料未提交", "olga.ops")
    with pytest.raises(OnboardingRefused, match="CP-KYC9 .* is suspended: 年度复核资料未提交"):
        _book(store, "K-T2", "CP-KYC9")


def test_a_lower_c_level_an_expired_document_or_a_lapsed_review_refuse_the_trade(store, seal, one_agreement):
    from otclab.kyc.clients import check_counterparties, record_client

    case = new_case(store, counterparty_id="CP-C3", quest="low")
    K.submit(store, case, "client.hanhai")
    v = approve_all(store, case)
    sign_all(store, case, seal)
    assert v.questionnaire["c_level"] == 1 and v.state == "approved"
    today = dt.date.today()
    with store.begin() as c:
        record_client(c, counterparty_id="CP-DOC", name="证件过期公司", uscc=None, status="approved", c_level=5,
                      eligible_otc=True, review_date=today, docs_valid_until=today - dt.timedelta(days=1),
                      source="import", recorded_by="t")
        record_client(c, counterparty_id="CP-OLD", name="复核逾期公司", uscc=None, status="approved", c_level=5,
                      eligible_otc=True, review_date=today - dt.timedelta(days=400), docs_valid_until=None,
                      source="import", recorded_by="t")
    with store.connect() as c:
        got = check_counterparties(c, [("CP-C3", "snowball"), ("CP-DOC", "vanilla"), ("CP-OLD", "phoenix"),
                                       ("CP-NONE", "sharkfin"), ("CP-C3", "snowball", None, "91110000600037341L")])
    assert "is C1; snowball is an R5 product and needs C5" in got[0]
    assert "suspended: an identity document expired" in got[1]
    assert "suspended: its annual KYC review lapsed" in got[2]
    assert "not onboarded" in got[3]
    assert "onboarded with USCC 91310115MA1H7GQK3W, the trade names 91110000600037341L" in got[4]


def test_check_counterparties_answers_a_batch_in_one_query(store):
    from sqlalchemy import event

    from otclab.kyc.demo import onboard

    onboard(store, [f"CP{i:04d}" for i in range(50)], by="ops")
    seen = []
    with store.connect() as c:
        event.listen(c, "before_cursor_execute", lambda *a: seen.append(a[2]))
        got = K.check_counterparties(c, [(f"CP{i % 60:04d}", "snowball") for i in range(1000)])
    assert [q.split()[0] for q in seen if q.split()[0] != "BEGIN"] == ["SELECT"]
    assert sum(r is None for r in got) == sum(1 for i in range(1000) if i % 60 < 50) == 840
    assert all("CP005" in r and "not onboarded" in r for i, r in enumerate(got) if i % 60 >= 50)


def test_import_through_the_cli_is_checked_recorded_and_logged(store, tmp_path):
    from otclab.cli.main import main
    from otclab.kyc.evidence import log_url, open_log

    url = store.url.render_as_string(hide_password=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("counterparty_id,name,status,c_level,review_date\nCP1,甲公司,approved,C6,2026-01-05\n",
                   encoding="utf-8")
    assert main(["kyc", "import", str(bad), "--db", url, "--user", "olga.ops"]) == 2
    good = tmp_path / "clients.csv"
    today = dt.date.today().isoformat()
    good.write_text("counterparty_id,name,uscc,status,c_level,review_date\n"
                    f"CP1,甲公司,,approved,C5,{today}\nCP2,乙公司,,suspended,C4,{today}\n", encoding="utf-8")
    assert main(["kyc", "import", str(good), "--db", url, "--user", "olga.ops"]) == 0
    with store.connect() as c:
        assert K.client_status(c, "CP1").tradable and K.client_status(c, "CP2").status == "suspended"
    log = open_log(log_url(store))
    kind, body, _ = log.entry(log.size() - 1)
    assert kind == "kyc.import" and b"olga.ops" in body and "CP2".encode() in body
    assert main(["kyc", "status", "CP2", "--db", url]) == 1
    assert main(["kyc", "status", "CP1", "--db", url]) == 0


def test_quoting_is_refused_for_a_client_not_onboarded_or_suspended(store, tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "quotes"))
    from quotes_support import inbound, seed_store

    from otclab.workflows.demo import counterparties
    from otclab.workflows.quotes import contacts, service
    from otclab.workflows.quotes.config import QuoteConfig

    service.configure(QuoteConfig(four_eyes_notional=30_000_000, webhook_url="http://127.0.0.1:9/x?key=unused",
                                  evidence_log=str(tmp_path / "q-evidence.sqlite")))
    try:
        seed_store(store)                                  # client01 -> CP001, onboarded (C5)
        cp2 = counterparties(7, 7)[1]
        contacts.add(store, "client02", cp2["id"], cp2["name"], cp2["uscc"], "approved", by="test")
        K.suspend(store, counterparties(7, 7)[0]["id"], "反洗钱复核中", "olga.ops")
        text = "@bot 中证500 雪球 1年 名义本金1000万 敲出103 敲入80 月度观察 报票息"
        for sender in ("client01", "client02"):
            service.receive(store, inbound(text, sender=sender))
        assert service.process_pending(store) == 2
        errors = {q["counterparty_id"]: q.get("error") for q in service.list_quotes(store)}
        assert "suspended: 反洗钱复核中" in errors[counterparties(7, 7)[0]["id"]]
        assert "is not onboarded" in errors[cp2["id"]]
    finally:
        service.configure(None)


def test_the_cli_invites_reviews_with_the_users_file_and_prints_one_line_errors(store, tmp_path, capsys, monkeypatch):
    import re

    from kyc_support import make_uscc

    from otclab.cli.main import main

    url = store.url.render_as_string(hide_password=False)
    args = ["kyc", "invite", "--institution", "嘉禾瑞丰资产管理有限公司", "--contact-name", "林静", "--contact",
            "lin@example.com", "--counterparty-id", "CP-CLI", "--db", url, "--user", "sam.sales"]
    bad = make_uscc()[:-1] + ("A" if make_uscc()[-1] != "A" else "B")
    assert main(args + ["--uscc", bad]) == 2
    err = capsys.readouterr().err
    assert "check character" in err and len(err.strip().splitlines()) == 1
    assert main(args + ["--uscc", make_uscc()]) == 0
    code = re.search(r"code ([A-Z0-9-]{19})", capsys.readouterr().out).group(1)
    case = K.redeem(store, code, "client.cli")
    assert main(["kyc", "queue", "sales", "--db", url]) == 0 and "no case waits" in capsys.readouterr().out
    users = tmp_path / "users.toml"
    users.write_text('[users."sam.sales"]\ngroups = ["sales"]\n[users."olga.ops"]\ngroups = ["operations"]\n',
                     encoding="utf-8")
    monkeypatch.setenv("OTCLAB_USERS", str(users))
    assert main(["kyc", "act", case, "approve", "--db", url, "--user", "sam.sales"]) != 0      # still a draft
    assert "no review step" in capsys.readouterr().err
    other = new_case(store, counterparty_id="CP-CLI2", username="client.cli2")
    K.submit(store, other, "client.cli2")
    assert main(["kyc", "act", other, "approve", "--comment", "已核实", "--db", url, "--user", "sam.sales"]) == 0
    assert f"{other}: operations_review" in capsys.readouterr().out
    assert main(["kyc", "act", other, "approve", "--db", url, "--user", "sam.sales"]) == 3         # not operations
    assert "operations step" in capsys.readouterr().err
    assert K.view(store, other).history[-1]["comment"] == "已核实"


def test_the_demo_cases_wait_at_their_steps(store):
    from otclab.kyc.demo import demo_cases

    ids = demo_cases(store)
    views = [K.view(store, c) for c in ids]
    assert [v.state for v in views] == ["sales_review", "compliance_review", "draft"]
    assert {h["subject_role"] for h in views[1].hits} == {"institution", "legal_rep", "owner"}
    assert views[1].aml["level"] == "high" and views[2].missing
    assert demo_cases(store) == ids
