"""The command line as a user runs it: demo PKI, sign, verify, envelopes, evidence, report; errors exit 2."""
from __future__ import annotations

import json

import pytest

from otclab.cli.main import main
from otclab.esign.pdfsign.sample import sample_pdf


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    assert main(["esign", "demo-pki", str(d / "pki")]) == 0
    (d / "doc.pdf").write_bytes(sample_pdf(["Trade confirmation", "UTI CN0000000000ABC123"]))
    return d


@pytest.fixture(autouse=True)
def _env(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("OTCLAB_EVIDENCE_URL", str(workdir / "evidence.sqlite"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


TRUST = ["--trust-root", "pki/root-ca.pem", "--crl", "pki/crl.pem"]


def test_sign_twice_then_verify(capsys):
    code, out, _ = run(capsys, "esign", "sign", "doc.pdf", "s1.pdf", "--key", "pki/dealer.p12", "--password", "demo",
                       "--field", "dealer", "--later-field", "client", "--certify", "--tsa-key", "pki/tsa.p12",
                       "--tsa-password", "demo", "--seal-text", "甲方电子签章", "--seal-text", "%(signer)s", *TRUST, "--json")
    assert code == 0
    first = json.loads(out)
    assert first["timestamped"] and first["evidence"]["index"] >= 0
    code, out, _ = run(capsys, "esign", "sign", "s1.pdf", "s2.pdf", "--key", "pki/client.key.pem", "--cert", "pki/client.pem",
                       "--field", "client", "--tsa-key", "pki/tsa.key.pem", "--tsa-cert", "pki/tsa.pem", *TRUST, "--json")
    assert code == 0
    code, out, _ = run(capsys, "esign", "verify", "s2.pdf", *TRUST, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and [s["field"] for s in report["signatures"]] == ["dealer", "client"]
    # one flipped byte: exit 1 with the problem named
    data = bytearray(open("s2.pdf", "rb").read())
    data[data.index(b"Trade confirmation") + 3] ^= 1
    open("bad.pdf", "wb").write(bytes(data))
    code, out, _ = run(capsys, "esign", "verify", "bad.pdf", *TRUST)
    assert code == 1 and "NOT OK" in out and "digest mismatch" in out


def test_user_errors_exit_2_with_one_line(capsys):
    code, out, err = run(capsys, "esign", "sign", "doc.pdf", "x.pdf", "--key", "pki/expired.p12", "--password", "demo", *TRUST)
    assert code == 2 and err.startswith("error: certificate:") and "expired on" in err and err.count("\n") == 1
    code, _, err = run(capsys, "esign", "sign", "doc.pdf", "x.pdf", "--key", "pki/dealer.p12", "--password", "wrong")
    assert code == 2 and "wrong password" in err
    open("trunc.pdf", "wb").write(open("doc.pdf", "rb").read()[:200])
    code, _, err = run(capsys, "esign", "verify", "trunc.pdf", *TRUST)
    assert code == 2 and "corrupt or truncated PDF" in err and "Traceback" not in err


def test_envelope_seal_open_and_replay(capsys):
    open("msg.txt", "wb").write("确认书内容".encode())
    code, out, _ = run(capsys, "envelope", "seal", "msg.txt", "m.env", "--to", "pki/client.pem", "--type", "confirmation",
                       "--uti", "CN0000000000ABC123", "--key", "pki/dealer.p12", "--password", "demo", *TRUST, "--json")
    assert code == 0 and json.loads(out)["header"]["type"] == "confirmation"
    args = ["envelope", "open", "m.env", "out.txt", "--key", "pki/client.p12", "--password", "demo", *TRUST,
            "--replay-db", "replay.sqlite"]
    code, out, _ = run(capsys, *args, "--expect-type", "confirmation", "--json")
    assert code == 0 and open("out.txt", "rb").read() == "确认书内容".encode()
    code, _, err = run(capsys, *args)
    assert code == 2 and "replayed envelope" in err


def test_evidence_commands(capsys, workdir):
    code, out, _ = run(capsys, "evidence", "append", "--kind", "note", "--record", '{"memo": "测试"}', "--json")
    assert code == 0
    idx = json.loads(out)["index"]
    code, out, _ = run(capsys, "evidence", "checkpoint", "--key", "pki/dealer.p12", "--password", "demo", "--out", "cp.json", "--json")
    assert code == 0 and json.loads(out)["size"] == idx + 1
    assert run(capsys, "evidence", "prove", str(idx), "--out", "p.json")[0] == 0
    open("entry.json", "wb").write(b'{"memo":"\xe6\xb5\x8b\xe8\xaf\x95"}')
    code, out, _ = run(capsys, "evidence", "verify", "--proof", "p.json", "--entry", "entry.json", "--json")
    assert code == 0 and json.loads(out)["ok"]
    open("entry.json", "wb").write(b'{"memo":"x"}')
    assert run(capsys, "evidence", "verify", "--proof", "p.json", "--entry", "entry.json")[0] == 1
    assert run(capsys, "evidence", "prove", "--consistency", "1", "--out", "c.json")[0] == 0
    assert run(capsys, "evidence", "verify", "--proof", "c.json")[0] == 0
    code, out, _ = run(capsys, "evidence", "verify", "--checkpoint", "cp.json", *TRUST, "--json")
    assert code == 0 and json.loads(out)["signature_ok"]
    cp = bytearray(open("cp.json", "rb").read())
    cp[cp.index(b"otclab-evidence-log/v1") + 30] ^= 1
    open("cp_bad.json", "wb").write(bytes(cp))
    code, _, err = run(capsys, "evidence", "verify", "--checkpoint", "cp_bad.json", *TRUST)
    assert code == 2 and "checkpoint" in err
    code, out, _ = run(capsys, "evidence", "verify", *TRUST, "--json")
    assert code == 0 and json.loads(out)["ok"]
    code, _, err = run(capsys, "evidence", "prove", "99999")
    assert code == 2 and "outside" in err


def test_report_export(capsys, workdir):
    trade = {"trade_id": "SB-0001", "uti": "CN0000000000ABC123", "template": "snowball", "direction": "sell",
             "counterparty": {"id": "CP001", "name": "示例私募", "uscc": "91110000802100433B"},
             "trade_date": "2026-11-20", "premium": 0,
             "terms": {"underlying": "000852.SH", "notional": 5e6, "initial_price": 6500, "start_date": "2026-11-20",
                       "tenor_months": 24, "ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15}}
    open("trade.json", "w").write(json.dumps(trade, ensure_ascii=False))
    dealer = {"name": "示例证券", "uscc": "91350100M000100Y43", "lei": "5493001KJTIIGC8Y1R12"}
    open("dealer.json", "w").write(json.dumps(dealer, ensure_ascii=False))
    code, out, _ = run(capsys, "report", "export", "trade.json", "--dealer", "dealer.json", "--out-dir", "rep", "--json")
    res = json.loads(out)
    assert code == 0 and res["product"]["fpml_product"] == "genericProduct" and res["evidence"]["index"] >= 0
    assert (workdir / "rep" / "CN0000000000ABC123-new.fpml.xml").read_bytes().startswith(b"<?xml")
    dealer["lei"] = "5493001KJTIIGC8Y1R13"
    open("dealer.json", "w").write(json.dumps(dealer))
    code, _, err = run(capsys, "report", "export", "trade.json", "--dealer", "dealer.json")
    assert code == 2 and "dealer.lei" in err
