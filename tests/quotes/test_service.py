"""The service in one process: W's callback under uvicorn on the quote store, the workers running.
What WeCom posts is persisted (refusals with their reason), quoted, and replied to."""
from __future__ import annotations

import dataclasses
import socket
import time

import httpx
from sqlalchemy import select

from otclab.store import tables as T
from otclab.wecom.crypto import WeComCrypto
from otclab.workflows.quotes import service
from otclab.workflows.quotes.service import QuoteService

from quotes_support import AES_KEY, TOKEN
from wecom_server import (WeComServer, post_callback, robot_text_message, sign_and_encrypt_robot,
                          verification_query)


def _port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _wait(pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_posted_messages_are_persisted_quoted_and_refusals_kept(qstore, cfg):
    crypto = WeComCrypto(TOKEN, AES_KEY, "")
    with WeComServer() as wx:
        c = dataclasses.replace(cfg, webhook_url=wx.webhook_url("desk"), pricing_processes=0, workers=2)
        port = _port()
        with QuoteService(qstore, c, port=port) as svc:
            url = svc.url
            echo = verification_query(crypto, "1616140317555161061")
            r = httpx.get(url, params=echo, timeout=10)
            assert (r.status_code, r.text) == (200, "1616140317555161061")
            msg = robot_text_message("@报价机器人 500 看涨 平值 3个月 名义1000万 期权费多少",
                                     response_url=wx.new_response_url("wrkSFfCgAAtest"), msgid="CAIQ1")
            q, body = sign_and_encrypt_robot(crypto, msg)
            assert post_callback(url, q, body).status_code == 200
            assert post_callback(url, q, body).status_code == 200             # WeCom's retry
            at = body.index(b'"encrypt"') + 20                                 # one character of the ciphertext
            tampered = body[:at] + (b"A" if body[at:at + 1] != b"A" else b"B") + body[at + 1:]
            assert post_callback(url, q, tampered).status_code >= 400
            q2, body2 = sign_and_encrypt_robot(crypto, robot_text_message("你好", msgid="CAIQ2"),
                                               timestamp=int(time.time()) - 3600)
            assert post_callback(url, q2, body2).status_code >= 400          # stale timestamp
            quotes = _wait(lambda: service.list_quotes(qstore))
            (qq,) = quotes
            assert qq["state"] == "pending_approval" and qq["message_text"] == "500 看涨 平值 3个月 名义1000万 期权费多少"
            service.approve(qstore, qq["quote_id"], "zhang.wei")
            _wait(lambda: service.get_quote(qstore, qq["quote_id"])["state"] == "sent")
            (m,) = wx.messages
            assert m["kind"] == "response_url" and m["text"].endswith(service.reply_text(qstore, qq["quote_id"]))
    with qstore.connect() as conn:
        rows = conn.execute(select(T.rfq_messages).order_by(T.rfq_messages.c.id)).all()
    assert [(r.msgid, r.status) for r in rows if r.status != "refused"] == [("CAIQ1", "done")]
    refused = [r for r in rows if r.status == "refused"]
    assert [r.error.split(":")[0] for r in refused] == ["bad_signature", "stale_timestamp"]
    assert refused[0].raw_body == tampered and refused[1].raw_body == body2
