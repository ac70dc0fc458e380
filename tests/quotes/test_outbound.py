"""Replies reach a local server that checks them as WeCom's reply API does (tests/wecom_server.py):
through the persisted queue, after injected failures and rate limits, never dropped, once each."""
from __future__ import annotations

import dataclasses
import time

from sqlalchemy import select

from otclab.store import tables as T
from otclab.wecom.outbound import RateLimiter
from otclab.workflows.quotes import outbound_worker as ow
from otclab.workflows.quotes import service

from quotes_support import inbound
from wecom_server import WeComServer

VANILLA = "500 看涨 平值 3个月 名义1000万 期权费多少"


def _rows(st):
    with st.connect() as c:
        return c.execute(select(T.outbound_messages).order_by(T.outbound_messages.c.id)).all()


def _approved(st, n: int, **msg):
    ids = []
    for _ in range(n):
        service.receive(st, inbound(VANILLA, **msg))
    service.process_pending(st)
    for q in service.list_quotes(st, ["pending_approval"]):
        service.approve(st, q["quote_id"], "zhang.wei")
        ids.append(q["quote_id"])
    return ids


def _drain(st, cfg, limiter, until: float = 20.0) -> None:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        ow.deliver_due(st, cfg, limiter)
        if all(r.status in ("sent", "failed") for r in _rows(st)):
            return
        time.sleep(0.1)


def test_an_approved_quote_reaches_the_chat_after_failures_once_and_the_quote_is_sent(qstore, cfg):
    with WeComServer() as wx:
        (qid,) = _approved(qstore, 1, response_url=wx.new_response_url("wrkSFfCgAAtest"))
        wx.fail_next(2)                                    # system busy, twice
        cfg2 = dataclasses.replace(cfg, outbound_max_backoff_s=1)
        limiter = RateLimiter()
        assert ow.deliver_due(qstore, cfg2, limiter) == {"retry": 1}
        time.sleep(1.1)
        assert ow.deliver_due(qstore, cfg2, limiter) == {"retry": 1}
        time.sleep(1.1)
        assert ow.deliver_due(qstore, cfg2, limiter) == {"sent": 1}
        (m,) = wx.messages
        assert m["kind"] == "response_url" and m["text"] == f"<@client01> {service.reply_text(qstore, qid)}"
        (row,) = _rows(qstore)
        assert (row.status, row.attempts, row.via) == ("sent", 3, "response_url")
        q = service.get_quote(qstore, qid)
        assert q["state"] == "sent"
        assert [e["to_state"] for e in q["history"]][-2:] == ["approved", "sent"]
        assert ow.deliver_due(qstore, cfg2, limiter) == {}          # nothing sent twice


def test_rate_limits_delay_replies_and_never_drop_one(qstore, cfg):
    clock = [0.0]
    with WeComServer(clock=lambda: clock[0]) as wx:
        cfg2 = dataclasses.replace(cfg, webhook_url=wx.webhook_url("desk"), outbound_max_backoff_s=1)
        service.configure(cfg2)
        ids = _approved(qstore, 25, chat_id=None)                   # 25 replies to one group robot
        # after a restart the process's limiter is empty: WeCom's own limit answers 45009 past 20
        fresh = RateLimiter(webhook_per_min=1000, conversation_per_min=1000)
        assert ow.deliver_due(qstore, cfg2, fresh) == {"sent": 20, "retry": 5}
        assert {r.errcode for r in _rows(qstore) if r.status == "pending"} == {45009}
        clock[0] += 61                                              # a minute later at WeCom
        time.sleep(1.1)
        _drain(qstore, cfg2, fresh)
        assert [r.status for r in _rows(qstore)] == ["sent"] * 25
        assert sorted(m["text"] for m in wx.messages) == sorted(service.reply_text(qstore, q) for q in ids)
        assert all(m["mentioned"] == ["client01"] for m in wx.messages)
        assert {service.get_quote(qstore, q)["state"] for q in ids} == {"sent"}


def test_the_process_limiter_holds_back_without_counting_an_attempt(qstore, cfg):
    with WeComServer() as wx:
        cfg2 = dataclasses.replace(cfg, webhook_url=wx.webhook_url("desk"))
        service.configure(cfg2)
        _approved(qstore, 22, chat_id=None)
        limiter = RateLimiter()                                     # 20 a minute per robot
        assert ow.deliver_due(qstore, cfg2, limiter) == {"sent": 20, "waiting": 2}
        waiting = [r for r in _rows(qstore) if r.status == "pending"]
        assert len(waiting) == 2 and {r.attempts for r in waiting} == {0}
        assert all(r.next_attempt_at.timestamp() > time.time() + 30 for r in waiting)
        assert len(wx.messages) == 20 and not any(r["reply"].get("errcode") for r in wx.requests)


def test_a_spent_response_url_falls_back_to_the_webhook_and_no_target_fails_visibly(qstore, cfg):
    with WeComServer() as wx:
        url = wx.new_response_url("wrkSFfCgAAtest")
        cfg2 = dataclasses.replace(cfg, webhook_url=wx.webhook_url("desk"))
        service.configure(cfg2)
        first, second = _approved(qstore, 2, response_url=url)      # two quotes of one response_url each
        limiter = RateLimiter()
        ow.deliver_due(qstore, cfg2, limiter)
        assert sorted((r.via, r.status) for r in _rows(qstore)) == [("response_url", "sent"), ("webhook", "sent")]
        assert sorted(m["kind"] for m in wx.messages) == ["response_url", "webhook"]
        # a spent URL the queue did not know about: refused by WeCom, then the webhook
        wx.fail_next(1, errcode=40035, errmsg="response_url invalid or already used")
        (third,) = _approved(qstore, 1, response_url=wx.new_response_url())
        assert ow.deliver_due(qstore, cfg2, limiter) == {"retry": 1, "sent": 1}
        assert _rows(qstore)[-1].via == "webhook" and service.get_quote(qstore, third)["state"] == "sent"
        # nowhere to send: failed, the quote too, both shown
        service.configure(dataclasses.replace(cfg, webhook_url=None))
        (fourth,) = _approved(qstore, 1)
        assert ow.deliver_due(qstore, dataclasses.replace(cfg, webhook_url=None), limiter) == {"failed": 1}
        row = _rows(qstore)[-1]
        assert row.status == "failed" and "no response_url and no webhook_url" in row.last_error
        assert service.get_quote(qstore, fourth)["state"] == "failed"


def test_the_reply_of_a_quote_cancelled_after_approval_is_withdrawn_not_sent(qstore, cfg):
    with WeComServer() as wx:
        cfg2 = dataclasses.replace(cfg, webhook_url=wx.webhook_url("desk"))
        service.configure(cfg2)
        (qid,) = _approved(qstore, 1)
        service.cancel(qstore, qid, "li.na", "spot moved")
        assert ow.deliver_due(qstore, cfg2, RateLimiter()) == {"withdrawn": 1}
        (row,) = _rows(qstore)
        assert row.status == "withdrawn" and "the quote is cancelled" in row.last_error and wx.messages == []
