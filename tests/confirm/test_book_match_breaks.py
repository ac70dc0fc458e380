"""Matching to the book, reconciling against the current version, breaks and their closing, on
extractions given as data (no PDF read: fast), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from confirm_book_support import OPS_MAIL, TRADER_MAIL, _raw, book, mail_cfg, rows
from smtp_server import free_port
from store.conftest import db_url, store  # noqa: F401  (the store fixtures, both backends)

from otclab.access import Identity
from otclab.confirm import attach as A
from otclab.confirm.book_confirm import confirm_document
from otclab.confirm.breaks import close_break, list_breaks
from otclab.confirm.extract import FIELDS
from otclab.confirm.trade import confirmation_fields
from otclab.core.errors import OtcError
from otclab.mail.queue import queue_rows
from otclab.store import tables_confirm as TC

OPS = Identity.of_groups("ops.wang", ["operations"])


def extraction(rec, **changes) -> dict:
    fields = {f: None for f in FIELDS}
    fields.update(confirmation_fields(rec))
    fields.update(changes)
    return {"fields": fields, "confidence": {f: 0.99 for f, v in fields.items() if v is not None},
            "layout": None, "warnings": []}


def received(store, tmp_path, name: str) -> dict:
    return A.receive(store, b"%PDF-1.4 " + name.encode() + b"\n%%EOF", name, "inbox", tmp_path / "docs")


@pytest.fixture
def booked(store):
    recs = book(store, [_raw(21, "snowball", "OTC-20250102-00012"), _raw(22, "phoenix", "OTC-20250102-00013"),
                        _raw(23, "vanilla", "OTC-20250102-00014", cp="CP024")])
    return {r.trade_id: r for r in recs}


def test_matched_by_id_as_ocr_reads_it_by_uti_and_by_facts(store, tmp_path, booked):
    rec = booked["OTC-20250102-00012"]
    cfg = mail_cfg(free_port())
    s1 = confirm_document(store, received(store, tmp_path, "a")["id"], extraction(rec, trade_id="OTC2025O1O200012"), cfg)
    assert (s1["outcome"], s1["match"], s1["trade_id"]) == ("confirmed", "trade_id", rec.trade_id)
    s2 = confirm_document(store, received(store, tmp_path, "b")["id"], extraction(rec, trade_id=rec.uti), cfg)
    assert (s2["outcome"], s2["match"], s2["trade_id"]) == ("confirmed", "uti", rec.trade_id)
    other = booked["OTC-20250102-00013"]
    s3 = confirm_document(store, received(store, tmp_path, "c")["id"], extraction(other, trade_id=None), cfg)
    assert (s3["match"], s3["trade_id"]) == ("facts", other.trade_id)
    # matched, yet a confirmation that does not state the trade id is not accepted unattended
    assert s3["outcome"] == "break" and [(i["field"], i["kind"]) for i in s3["items"]] == [("trade_id", "missing")]
    with store.connect() as c:
        assert [a["version"] for a in A.attachments(c, rec.trade_id)] == [1, 2]
    assert [m["to_addr"] for m in queue_rows(store)] == [TRADER_MAIL] * 3


def test_a_field_below_its_threshold_is_a_break_even_when_it_agrees(store, tmp_path, booked):
    rec = booked["OTC-20250102-00012"]
    ex = extraction(rec)
    ex["confidence"]["coupon"] = 0.41
    s = confirm_document(store, received(store, tmp_path, "low")["id"], ex, mail_cfg(free_port()))
    assert s["outcome"] == "break" and s["kind"] == "mismatch"
    (item,) = s["items"]
    assert (item["field"], item["kind"], item["confidence"]) == ("coupon", "low_confidence", 0.41)
    assert item["booked"] == item["document"] == rec.terms["coupon"] and item["threshold"] > 0.41
    with store.connect() as c:
        assert A.confirmation_state(c, rec.trade_id) is None


def test_reconciled_against_the_current_version(store, tmp_path, booked):
    from otclab.workflows.trades import amend

    rec = booked["OTC-20250102-00012"]
    amend(store, rec.trade_id, {"terms": {"coupon": rec.terms["coupon"] + 0.01}}, "coupon agreed higher",
          correct=True, recorded_by="zhang.san")
    s = confirm_document(store, received(store, tmp_path, "old")["id"], extraction(rec), mail_cfg(free_port()))
    assert s["outcome"] == "break" and s["trade_version"] == 2
    assert [(i["field"], i["kind"]) for i in s["items"]] == [("coupon", "different")]


def test_no_match_names_the_nearest_and_ambiguous_names_both(store, tmp_path, booked):
    rec = booked["OTC-20250102-00014"]
    twin = book(store, [{**_raw(23, "vanilla", "OTC-20250102-00015", cp="CP024")}])[0]
    cfg = mail_cfg(free_port())
    amb = confirm_document(store, received(store, tmp_path, "amb")["id"], extraction(rec, trade_id=None), cfg)
    assert amb["kind"] == "ambiguous"
    assert sorted(c["trade_id"] for c in amb["candidates"]) == sorted([rec.trade_id, twin.trade_id])
    none = confirm_document(store, received(store, tmp_path, "none")["id"],
                            extraction(rec, trade_id="OTC-20991231-99999", notional=1.0, maturity_date="2030-01-02"), cfg)
    assert none["kind"] == "no_match" and {c["trade_id"] for c in none["candidates"]} == {rec.trade_id, twin.trade_id}
    assert "no booked trade has the id or UTI OTC-20991231-99999" in none["summary"]
    assert [m["to_addr"] for m in queue_rows(store)] == [OPS_MAIL, OPS_MAIL]   # no trader: operations


def test_processing_a_document_twice_does_it_once(store, tmp_path, booked):
    rec = booked["OTC-20250102-00012"]
    doc = received(store, tmp_path, "twice")
    assert received(store, tmp_path, "twice")["id"] == doc["id"]
    confirm_document(store, doc["id"], extraction(rec, notional=1.0), mail_cfg(free_port()))
    again = confirm_document(store, doc["id"], extraction(rec, notional=1.0), mail_cfg(free_port()))
    assert again == {"outcome": "break", "trade_id": rec.trade_id, "replayed": True}
    assert len(rows(store, TC.confirm_breaks)) == 1 and len(queue_rows(store)) == 1
    assert len(rows(store, TC.trade_attachments)) == 1


def test_breaks_are_accepted_or_resolved_by_operations_with_a_comment(store, tmp_path, booked):
    rec, twin_of = booked["OTC-20250102-00012"], booked["OTC-20250102-00014"]
    cfg = mail_cfg(free_port())
    mism = confirm_document(store, received(store, tmp_path, "m")["id"], extraction(rec, notional=1.0), cfg)
    book(store, [_raw(23, "vanilla", "OTC-20250102-00016", cp="CP024")])
    amb = confirm_document(store, received(store, tmp_path, "a")["id"], extraction(twin_of, trade_id=None), cfg)
    assert [b["id"] for b in list_breaks(store)] == [amb["break_id"], mism["break_id"]]
    with pytest.raises(OtcError, match="only the operations group"):
        close_break(store, mism["break_id"], "accept", Identity.of_groups("li.trader", ["trader"]), "fine")
    with pytest.raises(OtcError, match="comment"):
        close_break(store, mism["break_id"], "accept", OPS, " ")
    with pytest.raises(OtcError, match="name the trade it confirms"):
        close_break(store, amb["break_id"], "accept", OPS, "the 00014 one")
    with pytest.raises(OtcError, match="is not a candidate"):
        close_break(store, amb["break_id"], "accept", OPS, "wrong", trade_id=rec.trade_id)
    b = close_break(store, amb["break_id"], "accept", OPS, "counterparty confirms 00014 by phone",
                    trade_id=twin_of.trade_id)
    assert (b["status"], b["resolved_by"], b["trade_id"]) == ("accepted", "ops.wang", twin_of.trade_id)
    r = close_break(store, mism["break_id"], "resolve", OPS, "notional wrong on their side; re-sent")
    assert r["status"] == "resolved"
    with pytest.raises(OtcError, match="already resolved"):
        close_break(store, mism["break_id"], "accept", OPS, "again")
    with store.connect() as c:
        st = A.confirmation_state(c, twin_of.trade_id)
        assert (st["state"], st["route"], st["by"], st["break_id"]) == ("confirmed", "paper", "ops.wang", amb["break_id"])
        assert A.confirmation_state(c, rec.trade_id) is None
        assert len(A.attachments(c, twin_of.trade_id)) == 1
    assert list_breaks(store) == []
