"""The quote workflow on the store (SQLite and PostgreSQL): inbox, sender mapping, clarifying
questions, pricing against `otclab price`/`otclab solve`, four-eyes, expiry, rejection, booking,
corrections, and the evidence log."""
from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest
from sqlalchemy import func, inspect, select

from otclab.cli.main import main
from otclab.store import tables as T
from otclab.workflows.quotes import evidence, expiry, process, reply, service
from otclab.workflows.quotes.corrections import examples
from otclab.workflows.quotes.errors import QuoteError

from quotes_support import inbound, market

SNOWBALL = "@报价机器人 中证500 雪球 12个月 敲出103 敲入80 票息多少"
VANILLA = "@报价机器人 500 看涨 平值 3个月 名义1000万 期权费多少"
BIG_VANILLA = "500 看涨 平值 3个月 名义5000万 期权费多少"


def _messages(st):
    with st.connect() as c:
        return {r.id: r for r in c.execute(select(T.rfq_messages).order_by(T.rfq_messages.c.id)).all()}


def _outbound(st):
    with st.connect() as c:
        return c.execute(select(T.outbound_messages).order_by(T.outbound_messages.c.id)).all()


def _quote_for(st, text, cfg, sender="client01"):
    assert service.receive(st, inbound(text, sender=sender))
    assert service.process_pending(st) == 1
    return service.list_quotes(st)[0]


def test_a_message_is_persisted_before_processing_and_a_retry_is_not_processed_twice(qstore, cfg):
    m = inbound(VANILLA, msgid="CAIQ16HMjQYY")
    assert service.receive(qstore, m) is True
    assert service.receive(qstore, inbound("改了的文字", msgid="CAIQ16HMjQYY")) is False   # WeCom's retry
    (row,) = _messages(qstore).values()
    assert (row.msgid, row.status, row.text, row.sender, row.raw_body) == ("CAIQ16HMjQYY", "pending", VANILLA,
                                                                          "client01", b'{"encrypt":"..."}')
    assert service.process_pending(qstore) == 1
    assert service.process_pending(qstore) == 0
    (row,) = _messages(qstore).values()
    assert (row.status, row.outcome, row.attempts) == ("done", "quoted", 1)
    rid = service.refused(qstore, "bad signature: msg_signature does not match", b"<xml>tampered</xml>",
                          {"msg_signature": "00", "timestamp": "1", "nonce": "2"})
    r = _messages(qstore)[rid]
    assert (r.status, r.outcome, r.error, r.raw_body) == ("refused", "refused_request",
                                                         "bad signature: msg_signature does not match",
                                                         b"<xml>tampered</xml>")
    assert service.process_pending(qstore) == 0      # a refused request is kept, never processed


@pytest.mark.parametrize("sender,status", [("stranger", None), ("client06", "pending"), ("client07", "blocked")])
def test_a_sender_who_may_not_be_quoted_gets_a_polite_refusal_never_a_price(qstore, cfg, sender, status):
    service.receive(qstore, inbound(SNOWBALL, sender=sender))
    assert service.process_pending(qstore) == 1
    assert service.list_quotes(qstore) == []
    (out,) = _outbound(qstore)
    assert out.kind == "refusal" and out.text == reply.refusal(sender, status) and out.mentioned == [sender]
    assert out.text.startswith("您好，感谢您的询价。") and "暂时无法为您提供报价" in out.text
    assert "%" not in out.text and "票息" not in out.text
    (m,) = _messages(qstore).values()
    assert m.outcome == "refused_sender" and sender in m.error


def test_an_incomplete_request_gets_a_clarifying_question_not_a_guess(qstore, cfg):
    texts = {"中证500 雪球 敲出103 敲入80 票息多少": "请补充：期限。",
             "雪球 12个月 敲出103 敲入80 票息多少": "请补充：标的。",
             "1000指数 鲨鱼鳍 6个月 参与率多少 103敲出": "请补充：看涨还是看跌。",
             "你好": "没有识别到询价要素。请注明标的、产品结构和期限"}
    for t in texts:
        service.receive(qstore, inbound(t))
    assert service.process_pending(qstore) == 4
    assert service.list_quotes(qstore) == []
    outs = _outbound(qstore)
    assert [o.kind for o in outs] == ["clarify"] * 4
    for o, want in zip(outs, texts.values()):
        assert o.text.startswith("您好，") and want in o.text and o.mentioned == ["client01"]
    assert {m.outcome for m in _messages(qstore).values()} == {"clarify"}


def _cli_json(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_vanilla_and_snowball_quotes_agree_with_otclab_price_and_solve(qstore, cfg, tmp_path, capsys):
    service.configure(dataclasses.replace(cfg, pde_n_x=1201, pde_steps_per_day=4.0))   # the CLI's PDE grid
    service.receive(qstore, inbound(VANILLA))
    service.receive(qstore, inbound(SNOWBALL))
    assert service.process_pending(qstore) == 2
    by = {q["structure"]: service.get_quote(qstore, q["quote_id"]) for q in service.list_quotes(qstore)}
    van, snow = by["vanilla"], by["snowball"]
    # vanilla: the closed form, 1,000万 notional, at the money, 3 months on CSI 500
    assert van["state"] == "pending_approval" and van["pricing"]["engine"] == "analytic"
    assert van["terms"]["notional"] == 1e7 and van["terms"]["strike"] == 1.0 and van["terms"]["initial_price"] == 5600
    req = tmp_path / "van.json"
    req.write_text(json.dumps({"template": "vanilla", "terms": van["terms"], "market": market()}), encoding="utf-8")
    cli = _cli_json(capsys, ["price", str(req), "--json"])
    assert cli["engine"] == "analytic" and cli["version"] == van["template_version"]
    assert van["value"] == pytest.approx(cli["value"], rel=1e-12)
    assert van["value"] == pytest.approx(437_195.44, abs=0.01)
    # snowball: the fair coupon, the note at par
    assert snow["pricing"]["engine"] == "pde" and snow["pricing"]["solved"]["field"] == "coupon"
    coupon = snow["fair_coupon"]
    assert coupon == pytest.approx(0.2392, abs=0.001)
    assert snow["terms"]["coupon"] == coupon and snow["terms"]["dividend_coupon"] == coupon
    req.write_text(json.dumps({"template": "snowball", "terms": snow["terms"], "market": market()}), encoding="utf-8")
    cli = _cli_json(capsys, ["price", str(req), "--engine", "pde", "--json"])
    assert cli["value"] == pytest.approx(1e7, rel=1e-9)          # priced at its fair coupon: par
    req.write_text(json.dumps({"template": "snowball", "terms": {**snow["pricing"]["terms_priced"], "coupon": 0.1},
                               "market": market()}), encoding="utf-8")
    cli = _cli_json(capsys, ["solve", str(req), "--for", "coupon", "--engine", "pde", "--json"])
    assert cli["value"] == pytest.approx(coupon, abs=1e-9)
    assert "年化票息 23.9" in snow["reply_preview"] and "期权费 4.37%（437,195 元）" in van["reply_preview"]


def test_the_reply_mentions_the_client_and_follows_the_configured_template(qstore, cfg):
    service.configure(dataclasses.replace(cfg, reply_template="@{client} {underlying_name}{structure_name}{tenor}："
                                                                "{quote}，{validity_min}分钟内有效（{quote_id}）"))
    q = _quote_for(qstore, VANILLA, cfg)
    assert service.reply_text(qstore, q["quote_id"]) == (f"@client01 中证500香草期权3个月：期权费 4.37%（437,195 元），"
                                                         f"5分钟内有效（{q['quote_id']}）")


def test_four_eyes_above_the_threshold_the_maker_is_not_the_checker(qstore, cfg):
    q = _quote_for(qstore, BIG_VANILLA, cfg)
    assert q["notional"] == 5e7 and q["needs_second_approval"]
    qid = q["quote_id"]
    first = service.approve(qstore, qid, "zhang.wei")
    assert first["state"] == "pending_approval" and first["maker"] == "zhang.wei" and first["needs_second_approval"]
    with pytest.raises(QuoteError, match=r"second approver different from zhang.wei is needed"):
        service.approve(qstore, qid, "zhang.wei")
    done = service.approve(qstore, qid, "li.na")
    assert done["state"] == "approved" and done["maker"] == "zhang.wei" and done["checkers"] == ["li.na"]
    assert [o.key for o in _outbound(qstore)] == [f"reply:{qid}"]
    # below the threshold one approval sends it
    small = _quote_for(qstore, VANILLA, cfg)
    assert not small["needs_second_approval"]
    assert service.approve(qstore, small["quote_id"], "zhang.wei")["state"] == "approved"
    with pytest.raises(QuoteError, match=r"is approved; it cannot be approved from there"):
        service.approve(qstore, small["quote_id"], "li.na")


def test_an_edited_quote_has_its_editor_as_maker(qstore, cfg):
    q = _quote_for(qstore, BIG_VANILLA, cfg)
    new = service.edit_quote(qstore, q["quote_id"], "strike", 1.05, "wang.fang")
    assert new["maker"] == "wang.fang" and new["supersedes"] == q["quote_id"] and new["terms"]["strike"] == 1.05
    assert service.get_quote(qstore, q["quote_id"])["state"] == "superseded"
    with pytest.raises(QuoteError, match="different from wang.fang"):
        service.approve(qstore, new["quote_id"], "wang.fang")
    assert service.approve(qstore, new["quote_id"], "chen.jie")["state"] == "approved"


def test_an_expired_quote_cannot_be_approved(qstore, cfg):
    service.configure(dataclasses.replace(cfg, validity_s=1))
    q = _quote_for(qstore, VANILLA, cfg)
    time.sleep(1.2)
    with pytest.raises(QuoteError, match=r"expired at .*an expired quote cannot be approved"):
        service.approve(qstore, q["quote_id"], "zhang.wei")
    assert expiry.expire_due(qstore) == [q["quote_id"]]
    assert service.get_quote(qstore, q["quote_id"])["state"] == "expired"
    with pytest.raises(QuoteError, match="is expired"):
        service.approve(qstore, q["quote_id"], "zhang.wei")
    assert _outbound(qstore) == []


def test_reject_and_cancel_need_a_reason_and_end_the_quote(qstore, cfg):
    q = _quote_for(qstore, VANILLA, cfg)
    with pytest.raises(QuoteError, match=r"reason: say why"):
        service.reject(qstore, q["quote_id"], "zhang.wei", " ")
    assert service.reject(qstore, q["quote_id"], "zhang.wei", "vol too low")["state"] == "rejected"
    with pytest.raises(QuoteError, match=r"is rejected; it cannot be approved any more"):
        service.approve(qstore, q["quote_id"], "li.na")
    sent = _quote_for(qstore, VANILLA, cfg)
    service.approve(qstore, sent["quote_id"], "zhang.wei")
    assert service.cancel(qstore, sent["quote_id"], "li.na", "spot moved 2%")["state"] == "cancelled"
    with pytest.raises(QuoteError, match=r"is cancelled; it cannot be accepted \(booked\) any more"):
        service.accept(qstore, sent["quote_id"], "li.na")
    with pytest.raises(QuoteError, match=r"no quote 'Q999999-1'"):
        service.get_quote(qstore, "Q999999-1")


def test_an_accepted_quote_is_booked_with_the_pinned_template_version(qstore, cfg):
    from otclab.store.book import load_book

    q = _quote_for(qstore, SNOWBALL, cfg)
    with pytest.raises(QuoteError, match="is pending_approval; it cannot be accepted"):
        service.accept(qstore, q["quote_id"], "zhang.wei")
    service.approve(qstore, q["quote_id"], "zhang.wei")
    tid = service.accept(qstore, q["quote_id"], "zhang.wei")
    full = service.get_quote(qstore, q["quote_id"])
    assert full["state"] == "booked" and tid == f"Q-{q['quote_id']}"
    with qstore.connect() as c:
        (t,) = load_book(c, trade_ids=[tid])
    rec = t.record
    assert (rec.template, rec.template_version, rec.direction) == ("snowball", full["template_version"], "sell")
    assert rec.counterparty.id == "CP001" and rec.premium == 1e7 and rec.terms.coupon == full["fair_coupon"]
    with pytest.raises(QuoteError, match="is booked"):
        service.accept(qstore, q["quote_id"], "zhang.wei")


def test_every_transition_is_in_the_evidence_log_once_even_after_a_crash(qstore, cfg):
    q = _quote_for(qstore, VANILLA, cfg)
    service.approve(qstore, q["quote_id"], "zhang.wei")
    with qstore.connect() as c:
        events = c.execute(select(T.quote_events).order_by(T.quote_events.c.id)).all()
    got = evidence.entries(qstore, cfg.evidence_log)
    assert [e["event_id"] for e in got] == [e.id for e in events]
    assert [(e["to_state"], e["by"]) for e in got] == [("received", "bot"), ("parsed", "bot"), ("priced", "bot"),
                                                       ("pending_approval", "bot"), ("approved", "zhang.wei")]
    # a crash after appending and before recording: the entries are found, not appended again
    service.reject(qstore, _quote_for(qstore, VANILLA, cfg)["quote_id"], "li.na", "test")
    with qstore.begin() as c:
        last = c.execute(select(func.max(T.quote_evidence.c.log_index))).scalar()
        c.execute(T.quote_evidence.delete().where(T.quote_evidence.c.log_index > last - 3))
    size = evidence.open_log(evidence.log_url(qstore, cfg.evidence_log)).size()
    assert evidence.catch_up(qstore, cfg.evidence_log) == 0
    assert evidence.open_log(evidence.log_url(qstore, cfg.evidence_log)).size() == size
    ids = [e["event_id"] for e in evidence.entries(qstore, cfg.evidence_log)]
    with qstore.connect() as c:
        assert ids == [r.id for r in c.execute(select(T.quote_events.c.id).order_by(T.quote_events.c.id))]
        assert c.execute(select(func.count()).select_from(T.quote_evidence)).scalar() == len(ids)


def test_a_correction_is_stored_repriced_and_becomes_a_training_example(qstore, cfg):
    q = _quote_for(qstore, SNOWBALL, cfg)
    new = service.edit_quote(qstore, q["quote_id"], "ki_barrier", 0.75, "zhang.wei")
    assert new["quote_id"] == q["quote_id"] + ".r1" and new["state"] == "pending_approval"
    assert new["fields"]["ki_barrier"] == 0.75 and new["fair_coupon"] < q["fair_coupon"]   # a safer note pays less
    newer = service.edit_quote(qstore, new["quote_id"], "tenor_months", 6, "li.na")
    assert newer["tenor"] == 6 and newer["supersedes"] == new["quote_id"]
    assert examples(qstore) == [{"text": SNOWBALL, "fields": {"ki_barrier": 0.75, "tenor_months": 6.0},
                                 "parsed": {"ki_barrier": 0.8, "tenor_months": 12}, "quote_id": new["quote_id"],
                                 "corrected_by": "li.na"}]
    with pytest.raises(QuoteError, match=r"spans: is not an editable field"):
        service.edit_quote(qstore, newer["quote_id"], "spans", 1, "li.na")
    with pytest.raises(QuoteError, match=r"option_type: must be one of call, put; got 'up'"):
        service.edit_quote(qstore, newer["quote_id"], "option_type", "up", "li.na")
    with pytest.raises(QuoteError, match=r"ko_barrier"):
        service.edit_quote(qstore, newer["quote_id"], "ko_barrier", 0.5, "li.na")   # below the knock-in
    with pytest.raises(QuoteError, match="is superseded"):
        service.edit_quote(qstore, q["quote_id"], "ki_barrier", 0.7, "li.na")
    assert len(examples(qstore)) == 1


def test_workers_racing_on_one_inbox_process_each_message_once(qstore, cfg):
    texts = [VANILLA, SNOWBALL, "你好", BIG_VANILLA] * 3
    for t in texts:
        service.receive(qstore, inbound(t))
    # racing claims, not a dead worker's: a lease no loaded machine outlasts (takeover is tested below)
    cfg = dataclasses.replace(cfg, claim_lease_s=600.0)
    counts = []
    threads = [threading.Thread(target=lambda: counts.append(process.process_pending(qstore, cfg))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == len(texts)
    msgs = _messages(qstore)
    assert {m.status for m in msgs.values()} == {"done"} and {m.attempts for m in msgs.values()} == {1}
    with qstore.connect() as c:
        per = dict(c.execute(select(T.quotes.c.message_id, func.count()).group_by(T.quotes.c.message_id)).all())
    assert sorted(per) == [m.id for m in msgs.values() if m.text != "你好"] and set(per.values()) == {1}
    assert len(_outbound(qstore)) == 3


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_lease(qstore, cfg):
    service.receive(qstore, inbound(VANILLA))
    msg, token = process.claim(qstore, cfg.claim_lease_s)          # a worker that then dies
    assert process.process_pending(qstore, cfg) == 0
    time.sleep(cfg.claim_lease_s + 0.2)
    assert process.process_pending(qstore, cfg) == 1
    with pytest.raises(process.ClaimLost):                          # the dead worker's late result is refused
        process.finish(qstore, msg, token, process.work(qstore, msg, cfg), cfg)
    assert len(service.list_quotes(qstore)) == 1


def test_the_migration_creates_the_tables_the_code_declares(store):
    with store.connect() as c:
        insp = inspect(c)
        for t in (T.rfq_messages, T.counterparty_contacts, T.quotes, T.quote_events, T.quote_evidence,
                  T.outbound_messages, T.rfq_corrections):
            assert {col["name"] for col in insp.get_columns(t.name)} == set(t.columns.keys()), t.name


def test_the_market_comes_from_the_store_a_file_or_a_feed_folder(qstore, cfg, tmp_path):
    import os

    from otclab.workflows.quotes.pricer import load_market

    mk = market()
    mk["spots"]["000905.SH"] = 6000.0
    f = tmp_path / "m.json"
    f.write_text(json.dumps(mk), encoding="utf-8")
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "market-1.json").write_text(json.dumps({"as_of": "2025-12-30T10:00:00+08:00", **mk}), encoding="utf-8")
    old = time.time() - 60
    os.utime(feed / "market-1.json", (old, old))
    with qstore.connect() as c:
        assert load_market(c, "store")[0]["spots"]["000905.SH"] == 5600.0
        assert load_market(c, str(f))[0]["spots"]["000905.SH"] == 6000.0
        data, source = load_market(c, str(feed))
        assert data["spots"]["000905.SH"] == 6000.0 and source.endswith("market-1.json")
    service.configure(dataclasses.replace(cfg, market=str(f)))
    q = _quote_for(qstore, VANILLA, cfg)
    assert service.get_quote(qstore, q["quote_id"])["terms"]["initial_price"] == 6000.0


def test_a_request_the_desk_cannot_price_is_a_failed_quote_on_the_blotter_not_a_reply(qstore, cfg):
    service.receive(qstore, inbound("茅台 看涨 平值 3个月 期权费多少"))   # 600519.SH: not in the desk's market
    assert service.process_pending(qstore) == 1
    (q,) = service.list_quotes(qstore)
    assert q["state"] == "failed" and _outbound(qstore) == []
    assert q["error"].startswith("request.underlying: no spot for 600519.SH in the market; the desk quotes 000016.SH")
    assert [e["to_state"] for e in service.get_quote(qstore, q["quote_id"])["history"]] == ["received", "parsed",
                                                                                           "failed"]
    with pytest.raises(QuoteError, match="has no price"):
        service.reply_text(qstore, q["quote_id"])
    fixed = service.edit_quote(qstore, q["quote_id"], "underlying", "000905.SH", "zhang.wei")   # a trader rescues it
    assert fixed["state"] == "pending_approval" and fixed["value"] == pytest.approx(437_195.44, abs=0.01)
    assert service.get_quote(qstore, q["quote_id"])["state"] == "superseded"
