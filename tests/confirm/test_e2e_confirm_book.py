"""End to end against the book of record: confirmations dropped into the inbox are matched to
booked trades in the store, attached, confirmed or raised as breaks, and mailed to the trader
through a real SMTP server on localhost (aiosmtpd)."""
from __future__ import annotations

import hashlib
import shutil

from confirm_book_support import OPS_MAIL, TRADER, TRADER_MAIL, _raw, book, mail_cfg, render, rows
from smtp_server import free_port, smtp_server
from store.conftest import db_url, store  # noqa: F401  (the store fixtures, both backends)

from otclab.confirm import attach as A
from otclab.confirm.inbox import InboxPaths, run_inbox
from otclab.mail.queue import deliver_due, queue_rows
from otclab.store import tables_confirm as TC

def test_a_scan_of_a_booked_trade_is_matched_mailed_and_confirmed(tmp_path):
    # one backend: OCR of the scan is the slow part, and the store logic runs on both backends below
    from otclab.store.db import Store

    store = Store(f"sqlite:///{tmp_path / 'otclab.db'}")
    raw = _raw(3, "snowball", "OTC-20250312-00042")
    other = _raw(4, "vanilla", "OTC-20250312-00043")
    book(store, [raw, other])
    paths = InboxPaths.under(tmp_path / "root")
    paths.make()
    scan = render(raw, tmp_path / "scan.pdf", scan_seed=1)
    shutil.copy(scan, paths.inbox / "scan0001.pdf")
    docs = tmp_path / "documents"
    with smtp_server() as srv:
        cfg = mail_cfg(srv.port)
        entries = run_inbox(paths, store=store, mail=cfg, documents=docs, stable_seconds=0)
        (e,) = entries
        assert e["status"] == "processed", e
        assert e["book"]["outcome"] == "confirmed", e["book"]
        assert e["book"]["trade_id"] == raw["trade_id"] and e["book"]["match"] == "trade_id"
        assert deliver_due(store, cfg, docs) == {"sent": 1}
        (msg,) = srv.wait_for(1)
    assert msg["To"] == TRADER_MAIL and raw["trade_id"] in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "every field agrees" in body and "notional" in body
    (part,) = list(msg.iter_attachments())
    data = part.get_content()
    assert part.get_filename() == "scan0001.pdf"
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(scan.read_bytes()).hexdigest()
    with store.connect() as c:
        state = A.confirmation_state(c, raw["trade_id"])
        (att,) = A.attachments(c, raw["trade_id"])
        assert A.confirmation_state(c, other["trade_id"]) is None
    assert (state["state"], state["route"], state["trade_version"]) == ("confirmed", "paper", 1)
    assert att["version"] == 1 and att["sha256"] == e["sha256"]
    assert A.document_path(att["path"], docs).read_bytes() == scan.read_bytes()   # "uploaded"
    assert rows(store, TC.confirm_breaks) == []
    (m,) = queue_rows(store)
    assert m["status"] == "sent" and m["attempts"] == 1
    store.dispose()


def test_breaks_mismatch_no_match_ambiguous_and_the_same_document_twice(store, tmp_path):
    booked = _raw(5, "snowball", "OTC-20250401-00101")
    twin_a = _raw(6, "vanilla", "OTC-20250401-00201", cp="CP024")
    twin_b = {**twin_a, "trade_id": "OTC-20250401-00202"}      # the same facts, booked twice
    book(store, [booked, twin_a, twin_b])
    paths = InboxPaths.under(tmp_path / "root")
    paths.make()
    wrong = {**booked, "terms": {**booked["terms"], "notional": booked["terms"]["notional"] + 1_000_000}}
    render(wrong, paths.inbox / "a_mismatch.pdf")
    render({**twin_a, "trade_id": "OTC-20250401-09999"}, paths.inbox / "b_ambiguous.pdf")
    render(_raw(7, "phoenix", "SWAP-20250501-00007", cp="CP900"), paths.inbox / "c_unbooked.pdf")
    docs = tmp_path / "documents"
    with smtp_server() as srv:
        cfg = mail_cfg(srv.port)
        entries = {e["file"]: e for e in run_inbox(paths, store=store, mail=cfg, documents=docs)}
        assert deliver_due(store, cfg, docs) == {"sent": 3}
        msgs = {m["To"] + " " + m["Subject"]: m for m in srv.wait_for(3)}
    mism = entries["a_mismatch.pdf"]["book"]
    assert mism["outcome"] == "break" and mism["kind"] == "mismatch" and mism["trade_id"] == booked["trade_id"]
    (item,) = [i for i in mism["items"] if i["field"] == "notional"]
    assert (item["booked"], item["document"], item["kind"]) == (booked["terms"]["notional"],
                                                                 wrong["terms"]["notional"], "different")
    amb = entries["b_ambiguous.pdf"]["book"]
    assert amb["kind"] == "ambiguous" and amb["trade_id"] is None
    assert sorted(c["trade_id"] for c in amb["candidates"]) == [twin_a["trade_id"], twin_b["trade_id"]]
    none = entries["c_unbooked.pdf"]["book"]
    assert none["kind"] == "no_match" and none["trade_id"] is None
    brks = {b["kind"]: b for b in rows(store, TC.confirm_breaks)}
    assert set(brks) == {"mismatch", "ambiguous", "no_match"} and all(b["status"] == "open" for b in brks.values())
    assert twin_a["trade_id"] in brks["ambiguous"]["summary"] and twin_b["trade_id"] in brks["ambiguous"]["summary"]
    # the mismatch goes to the trader who booked it, with both values; the unmatched to operations
    (to_trader,) = [m for k, m in msgs.items() if k.startswith(TRADER_MAIL)]
    assert f"break {mism['break_id']}" in to_trader["Subject"]
    body = to_trader.get_body(("plain",)).get_content()
    assert "notional" in body and f"{wrong['terms']['notional']:,.2f}" in body
    assert len(list(to_trader.iter_attachments())) == 1
    assert sum(k.startswith(OPS_MAIL) for k in msgs) == 2
    with store.connect() as c:
        assert A.confirmation_state(c, booked["trade_id"]) is None     # a break confirms nothing
        assert len(A.attachments(c, booked["trade_id"])) == 1          # but the document is on the trade
    # the same document again, under another name: a duplicate; attached once, mailed once
    shutil.copy(paths.processed / entries["a_mismatch.pdf"]["destination"].split("/")[-1], paths.inbox / "again.pdf")
    (dup,) = run_inbox(paths, store=store, mail=mail_cfg(free_port()), documents=docs)
    assert dup["status"] == "duplicate"
    with store.connect() as c:
        assert len(A.attachments(c, booked["trade_id"])) == 1
    assert len(queue_rows(store)) == 3 and len(rows(store, TC.confirm_breaks)) == 3


def test_a_mail_server_that_is_down_delays_the_mail_and_nothing_is_lost(store, tmp_path, capsys):
    from otclab.cli.main import main
    from otclab.mail.config import load_config

    raw = _raw(8, "snowball", "OTC-20250601-00300")
    book(store, [raw])
    paths = InboxPaths.under(tmp_path / "root")
    paths.make()
    render(raw, paths.inbox / "conf.pdf")
    docs = tmp_path / "documents"
    port = free_port()                 # nothing listens there yet
    (tmp_path / "mail.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "otclab@desk.test"\ntimeout_s = 5\n'
        f'[queue]\nbackoff_s = 30\n[addresses]\n"{TRADER}" = "{TRADER_MAIL}"\n', encoding="utf-8")
    cfg = load_config(tmp_path / "mail.toml")
    # the command line: the inbox against the store, then the due mails (the server is down)
    assert main(["confirm", "inbox", str(paths.log.parent), "--db", store.url.render_as_string(hide_password=False),
                 "--mail-config", str(tmp_path / "mail.toml"), "--documents", str(docs), "--settle", "0"]) == 0
    out = capsys.readouterr().out
    assert f"confirmed {raw['trade_id']}" in out and "mail: {'retry': 1}" in out
    (m,) = queue_rows(store)
    assert m["status"] == "pending" and m["attempts"] == 1 and "not reachable" in m["last_error"]
    assert deliver_due(store, cfg, docs) == {}              # not due before its backoff
    with smtp_server(port) as srv:
        assert deliver_due(store, cfg, docs, at=m["next_attempt_at"]) == {"sent": 1}
        (msg,) = srv.wait_for(1)
        assert deliver_due(store, cfg, docs, at=m["next_attempt_at"]) == {}   # sent once
    assert msg["Message-ID"] == m["message_id"] and raw["trade_id"] in msg["Subject"]
    (m,) = queue_rows(store)
    assert m["status"] == "sent" and m["attempts"] == 2


def test_a_crash_after_the_store_commit_is_finished_without_reading_again(store, tmp_path):
    from otclab.confirm.book_confirm import confirm_document
    from otclab.confirm.worker import extract_isolated

    raw = _raw(9, "snowball", "OTC-20250701-00400")
    book(store, [raw])
    paths = InboxPaths.under(tmp_path / "root")
    paths.make()
    f = render(raw, paths.inbox / "conf.pdf")
    docs = tmp_path / "documents"
    # the run that crashed: received, read and committed, then killed before its log line and move
    doc = A.receive(store, f.read_bytes(), f.name, "inbox", docs)
    ex = extract_isolated(f).to_json()
    assert confirm_document(store, doc["id"], ex, mail_cfg(free_port()))["outcome"] == "confirmed"
    (e,) = run_inbox(paths, store=store, mail=mail_cfg(free_port()), documents=docs)
    assert e["status"] == "processed" and e["book"] == {"outcome": "confirmed", "trade_id": raw["trade_id"],
                                                        "replayed": True}
    assert "timing" not in e                     # not read a second time
    assert not (paths.inbox / "conf.pdf").exists()
    assert len(rows(store, TC.trade_confirmations)) == 1 and len(queue_rows(store)) == 1
