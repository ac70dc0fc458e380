"""Online confirmation from the command line: issued from the booked trade and sealed by the
dealer, countersigned by the client, both signatures verified by `otclab esign verify`, the
trade confirmed online, each step in the evidence log."""
from __future__ import annotations

import json

from store.conftest import db_url, store  # noqa: F401  (the store fixtures, both backends)
from confirm_book_support import _raw, book

from otclab.cli.main import main
from otclab.confirm import attach as A


def test_issue_countersign_verify(store, tmp_path, capsys):
    from otclab.esign.evidence import EvidenceLog
    from otclab.esign.pki.demo import build_demo_pki

    raw = _raw(12, "snowball", "OTC-20250801-00500")
    book(store, [raw])
    pki = tmp_path / "pki"
    build_demo_pki().write(pki)
    url = store.url.render_as_string(hide_password=False)
    ev, docs = str(tmp_path / "evidence.sqlite"), str(tmp_path / "documents")
    common = ["--db", url, "--documents", docs, "--evidence", ev]
    tid = raw["trade_id"]
    # countersigning before the issue is refused with one line
    assert main(["confirm", "countersign", tid, "--key", str(pki / "client.p12"), "--password", "demo",
                 "--trust-root", str(pki / "root-ca.pem"), *common]) == 2
    assert "no online confirmation issued" in capsys.readouterr().err
    assert main(["confirm", "issue", tid, "--key", str(pki / "dealer.p12"), "--password", "demo",
                 "--trust-root", str(pki / "root-ca.pem"), "--crl", str(pki / "crl.pem"), "--user", "ops.li",
                 "--out", str(tmp_path / "issued.pdf"), *common]) == 0
    assert f"issued {tid} v1" in capsys.readouterr().out
    with store.connect() as c:
        assert (A.confirmation_state(c, tid)["state"], A.confirmation_state(c, tid)["route"]) == ("issued", "online")
    assert main(["confirm", "countersign", tid, "--key", str(pki / "client.p12"), "--password", "demo",
                 "--trust-root", str(pki / "root-ca.pem"), "--crl", str(pki / "crl.pem"), "--user", "ops.li",
                 "--out", str(tmp_path / "signed.pdf"), *common]) == 0
    assert "2 signatures verify" in capsys.readouterr().out
    assert main(["esign", "verify", str(tmp_path / "signed.pdf"), "--trust-root", str(pki / "root-ca.pem"),
                 "--crl", str(pki / "crl.pem"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["count"] == 2
    assert [s["field"] for s in report["signatures"]] == ["dealer", "client"]
    assert "示例证券" in report["signatures"][0]["signer"] and "示例私募" in report["signatures"][1]["signer"]
    with store.connect() as c:
        state = A.confirmation_state(c, tid)
        atts = A.attachments(c, tid)
    assert (state["state"], state["route"], state["by"]) == ("confirmed", "online", "ops.li")
    assert [a["kind"] for a in atts] == ["online_issued", "online_signed"] and [a["version"] for a in atts] == [1, 2]
    assert A.document_path(atts[1]["path"], tmp_path / "documents").read_bytes() == (tmp_path / "signed.pdf").read_bytes()
    assert main(["confirm", "documents", tid, "--db", url, "--documents", docs]) == 0
    shown = capsys.readouterr().out
    assert f"{tid}: confirmed (online) v1 by ops.li" in shown and "v2 online_signed" in shown
    with EvidenceLog(ev) as log:
        kinds = [log.entry(i)[0] for i in range(log.size())]
        last = json.loads(log.entry(log.size() - 1)[1])
    assert kinds == ["pdf.signed", "confirm.issued", "pdf.signed", "confirm.countersigned"]
    assert last["trade_id"] == tid and last["signed_sha256"] == atts[1]["sha256"]
    # once confirmed online, neither a second signature nor a new issue
    assert main(["confirm", "countersign", tid, "--key", str(pki / "client.p12"), "--password", "demo",
                 "--trust-root", str(pki / "root-ca.pem"), *common]) == 2
    assert "is confirmed (online)" in capsys.readouterr().err
    assert main(["confirm", "issue", tid, "--key", str(pki / "dealer.p12"), "--password", "demo", *common]) == 2
    assert "already confirmed online" in capsys.readouterr().err
