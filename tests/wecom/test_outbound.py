"""Replies against the local WeCom reply-API server; the rate limiter and the backoff."""
from __future__ import annotations

import socket

import pytest
from wecom_server import WeComServer

from otclab.wecom.outbound import (MAX_CONTENT_BYTES, TRUNCATION_MARKER, OutboundTarget, RateLimiter, SendResult,
                                   backoff, build_body, send, truncate_utf8)

REPLY = "【报价】000905.SH 雪球 12个月 敲出103% 敲入75%：年化票息 14.20%，有效至 10:35"


@pytest.fixture
def wecom():
    with WeComServer() as s:
        yield s


def test_webhook_ok_with_mentioned_list(wecom):
    t = OutboundTarget("webhook", wecom.webhook_url("k1"), chat_id="c1")
    assert send(t, REPLY, ["zhangsan"]) == SendResult(True, False, 0, None)
    [m] = wecom.messages
    assert m["kind"] == "webhook" and m["key"] == "k1"
    assert m["body"] == {"msgtype": "text", "text": {"content": REPLY, "mentioned_list": ["zhangsan"]}}
    assert wecom.texts() == [REPLY]


def test_response_url_markdown_mentions_and_single_use(wecom):
    url = wecom.new_response_url(chat_id="c2")
    t = OutboundTarget("response_url", url, chat_id="c2")
    assert send(t, REPLY, ["zhangsan", "lisi"]).ok
    [m] = wecom.messages
    assert m["body"]["msgtype"] == "markdown"
    assert m["text"] == "<@zhangsan> <@lisi> " + REPLY and m["chat_id"] == "c2"
    again = send(t, "第二次", ["zhangsan"])
    assert (again.ok, again.retryable, again.errcode) == (False, False, 40035)
    assert "already used" in again.error and len(wecom.messages) == 1


def test_rate_limited_is_retryable(wecom):
    t = OutboundTarget("webhook", wecom.webhook_url("busy"))
    results = [send(t, f"消息 {i}", []) for i in range(21)]
    assert all(r.ok for r in results[:20])
    assert results[20] == SendResult(False, True, 45009, "errcode 45009: api freq out of limit")
    assert len(wecom.messages) == 20
    # another robot key has its own window
    assert send(OutboundTarget("webhook", wecom.webhook_url("other")), "x", []).ok


def test_conversation_limit_30_per_minute(wecom):
    res = [send(OutboundTarget("response_url", wecom.new_response_url(chat_id="g1"), "g1"), f"{i}", [])
           for i in range(31)]
    assert [r.ok for r in res] == [True] * 30 + [False]
    assert (res[30].errcode, res[30].retryable) == (45009, True)


def test_invalid_webhook_is_final(wecom):
    wecom.invalid_keys.add("revoked")
    r = send(OutboundTarget("webhook", wecom.webhook_url("revoked")), REPLY, [])
    assert (r.ok, r.retryable, r.errcode) == (False, False, 93000)
    assert wecom.messages == []


def test_server_busy_and_http_errors(wecom):
    t = OutboundTarget("webhook", wecom.webhook_url())
    wecom.fail_next(1)                                   # errcode -1 system busy
    wecom.fail_next(1, errcode=None, status=502)
    wecom.fail_next(1, errcode=None, status=404)
    assert send(t, "a", []) == SendResult(False, True, -1, "errcode -1: system busy")
    assert send(t, "a", []) == SendResult(False, True, None, "HTTP 502")
    assert send(t, "a", []) == SendResult(False, False, None, "HTTP 404")
    assert send(t, "a", []).ok and wecom.texts() == ["a"]


def test_server_down_is_retryable():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                            # nothing listens there now
    r = send(OutboundTarget("webhook", f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=k"), REPLY, [], timeout=2)
    assert (r.ok, r.retryable, r.errcode) == (False, True, None) and r.error.startswith("ConnectError")


def test_timeout_is_retryable():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)                                        # accepts, never answers
    try:
        r = send(OutboundTarget("webhook", f"http://127.0.0.1:{srv.getsockname()[1]}/x?key=k"), "x", [], timeout=0.3)
    finally:
        srv.close()
    assert (r.ok, r.retryable) == (False, True) and "Timeout" in r.error


def test_oversized_text_is_truncated_on_a_character_boundary(wecom):
    long = "报价" * 2000                                  # 12000 bytes
    assert send(OutboundTarget("webhook", wecom.webhook_url()), long, ["u1"]).ok
    url = wecom.new_response_url("c3")
    assert send(OutboundTarget("response_url", url, "c3"), "a" + long, ["u1"]).ok
    hook, resp = wecom.texts()
    for text in (hook, resp):
        assert len(text.encode("utf-8")) <= MAX_CONTENT_BYTES and text.endswith(TRUNCATION_MARKER)
    assert hook.startswith("报价报价") and resp.startswith("<@u1> a报价")
    # the server refuses what is too long, so truncation is what made these pass
    import httpx
    r = httpx.post(wecom.webhook_url(), json={"msgtype": "text", "text": {"content": long}})
    assert r.json()["errcode"] == 45002


def test_truncate_utf8():
    assert truncate_utf8("短消息") == "短消息"
    s = truncate_utf8("x" + "中" * 700, 2048)             # 1 + 2100 bytes
    b = s.encode("utf-8")
    assert len(b) <= 2048 and s.endswith(TRUNCATION_MARKER)
    body = s[: -len(TRUNCATION_MARKER)]
    assert body == "x" + "中" * len(body[1:]) and len(b) > 2048 - 3 - len(TRUNCATION_MARKER.encode())
    assert truncate_utf8("a" * 2048) == "a" * 2048


def test_server_checks_shape(wecom):
    import httpx
    u = wecom.webhook_url()
    assert httpx.post(u, content=b"not json").json()["errcode"] == 40035
    assert httpx.post(u, json={"msgtype": "voice", "voice": {}}).json()["errcode"] == 40008
    assert httpx.post(u, json={"msgtype": "text", "text": {"content": ""}}).json()["errcode"] == 44004
    assert httpx.post(u, json={"msgtype": "text", "text": {"content": "x", "mentioned_list": "u1"}}).json()["errcode"] == 40035
    assert httpx.post(u, json={"msgtype": "text", "text": {"content": "x", "mentioned_list": [1]}}).json()["errcode"] == 40035
    assert wecom.messages == [] and len(wecom.requests) == 5


def test_build_body_mentions():
    t = OutboundTarget("webhook", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", chat_id="c")
    assert build_body(t, "hi", []) == {"msgtype": "text", "text": {"content": "hi"}}
    assert t.rate_keys == ["webhook:K", "chat:c"]
    r = OutboundTarget("response_url", "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=X")
    assert build_body(r, "hi", ["a"]) == {"msgtype": "markdown", "markdown": {"content": "<@a> hi"}}
    assert r.rate_keys == []
    with pytest.raises(ValueError, match="kind 'email' unknown"):
        OutboundTarget("email", "https://x")


# -- RateLimiter and backoff -------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_rate_limiter_sliding_window():
    clock = Clock()
    rl = RateLimiter(clock=clock)
    for i in range(20):
        assert rl.wait_time("webhook:K") == 0.0
        rl.record("webhook:K")
        clock.t += 1.0                                   # sends at 1000, 1001, ... 1019
    assert clock.t == 1020.0
    assert rl.wait_time("webhook:K") == pytest.approx(40.0)   # the send at 1000 leaves the window at 1060
    assert rl.wait_time("webhook:other") == 0.0
    clock.t = 1060.0
    assert rl.wait_time("webhook:K") == 0.0
    rl.record("webhook:K")
    assert rl.wait_time("webhook:K") == pytest.approx(1.0)    # next: the send at 1001 expires at 1061
    for _ in range(29):
        rl.record("chat:c")
    assert rl.wait_time("chat:c") == 0.0
    rl.record("chat:c")
    assert rl.wait_time("chat:c") == pytest.approx(60.0)
    assert (rl.limit("webhook:x"), rl.limit("chat:x"), rl.limit("anything")) == (20, 30, 20)


def test_rate_limiter_for_target():
    clock = Clock()
    rl = RateLimiter(webhook_per_min=2, conversation_per_min=3, clock=clock)
    t = OutboundTarget("webhook", "http://h/cgi-bin/webhook/send?key=K", chat_id="c")
    rl.record_for(t)
    rl.record_for(t)
    assert rl.wait_time_for(t) == pytest.approx(60.0)          # the robot's limit binds
    other_robot_same_chat = OutboundTarget("webhook", "http://h/cgi-bin/webhook/send?key=K2", chat_id="c")
    assert rl.wait_time_for(other_robot_same_chat) == 0.0
    rl.record_for(other_robot_same_chat)
    assert rl.wait_time_for(other_robot_same_chat) == pytest.approx(60.0)   # now the chat's 3/min binds


def test_backoff():
    assert [backoff(a) for a in range(0, 11)] == [0.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]
    assert backoff(10_000) == 300.0
    assert backoff(3, base_s=1.0, cap_s=5.0) == 4.0 and backoff(4, base_s=1.0, cap_s=5.0) == 5.0
