"""The callback app under a real uvicorn server on localhost, driven over HTTP as WeCom drives it,
with the inbox a real SQLite file."""
from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone

import httpx
import pytest
from wecom_server import (app_text_xml, post_callback, robot_text_message, serve_app, sign_and_encrypt_app,
                          sign_and_encrypt_robot, verification_query)

from otclab.wecom.callback import WeComConfig, create_app
from otclab.wecom.crypto import WeComCrypto
from otclab.wecom.envelope import build_xml_envelope

KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
TOKEN = "QDG6eK"
CORPID = "wx5823bf96d3bd56c7"
PATH = "/wecom/callback"


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="otclab.wecom")
    return caplog


def wecom_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "otclab.wecom"]


@pytest.fixture
def robot(inbox):
    """(base_url, crypto, inbox) of a robot callback (receive id "") served by uvicorn."""
    app = create_app(WeComConfig(TOKEN, KEY), inbox.sink, inbox.on_refused)
    with serve_app(app) as base:
        yield base + PATH, WeComCrypto(TOKEN, KEY, ""), inbox


# -- URL verification --------------------------------------------------------------------------------
def test_url_verification_official_vector_over_http(vectors, inbox, log):
    """The official GET, its echostr percent-encoded in the URL as WeCom sends it, answered with the
    bare plaintext."""
    a = vectors["official_xml_app"]
    u = a["url_verification"]
    cfg = WeComConfig(a["token"], a["encoding_aes_key"], a["receive_id"], channel="app")
    app = create_app(cfg, inbox.sink, inbox.on_refused, clock=lambda: int(u["timestamp"]) + 1)
    with serve_app(app) as base:
        url = (f"{base}{PATH}?msg_signature={u['msg_signature']}&timestamp={u['timestamp']}"
               f"&nonce={u['nonce']}&echostr={u['echostr_url_encoded']}")
        r = httpx.get(url)
        assert r.status_code == 200
        assert r.content == b"1616140317555161061"        # no quotes, BOM or newline
        assert r.headers["content-type"].startswith("text/plain")
        # an unencoded '+' in echostr (decoded to ' ' by the query parser) still verifies
        raw_url = (f"{base}{PATH}?msg_signature={u['msg_signature']}&timestamp={u['timestamp']}"
                   f"&nonce={u['nonce']}&echostr={u['echostr'].replace('/', '%2F').replace('=', '%3D')}")
        assert httpx.get(raw_url).content == b"1616140317555161061"
        bad = httpx.get(url.replace(f"nonce={u['nonce']}", "nonce=263014781"))
        assert bad.status_code == 403 and bad.text == "bad_signature"
    assert inbox.messages() == []
    [ref] = inbox.refused()
    assert ref["reason"].startswith("bad_signature: ") and json.loads(ref["query"])["nonce"] == "263014781"
    assert any(m.startswith("refused GET") and "bad_signature" in m for m in wecom_logs(log))


def test_url_verification_robot_now(robot):
    url, crypto, _ = robot
    r = httpx.get(url, params=verification_query(crypto, "8417162391"))
    assert (r.status_code, r.content) == (200, b"8417162391")


# -- messages reach the sink ---------------------------------------------------------------------------
def test_robot_json_message_reaches_sink(robot, log):
    url, crypto, inbox = robot
    msg = robot_text_message("@报价机器人 000905 雪球 1年 敲出103 敲入75", userid="zhangsan", chatid="wrkSFfCgAAchat1",
                             response_url="https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=R1",
                             msgid="CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=")
    query, body = sign_and_encrypt_robot(crypto, msg)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    r = post_callback(url, query, body)
    assert (r.status_code, r.content) == (200, b"")
    [row] = inbox.messages()
    assert row["msgid"] == "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="
    assert row["channel"] == "robot" and row["msgtype"] == "text"
    assert row["text"] == "000905 雪球 1年 敲出103 敲入75"
    assert row["sender"] == "zhangsan" and row["chat_id"] == "wrkSFfCgAAchat1" and row["chat_type"] == "group"
    assert row["response_url"] == msg["response_url"] and row["webhook_url"] is None
    assert row["raw_body"] == body and json.loads(row["plaintext"]) == msg
    assert json.loads(row["query"]) == query
    got = datetime.fromisoformat(row["received_at"])
    assert got.tzinfo is not None and got.utcoffset().total_seconds() == 0 and got >= before
    assert inbox.refused() == []
    assert any("received msgid CAIQ16HMjQYY" in m for m in wecom_logs(log))


def test_app_xml_message_reaches_sink(inbox):
    crypto = WeComCrypto(TOKEN, KEY, CORPID)
    app = create_app(WeComConfig(TOKEN, KEY, CORPID, channel="app"), inbox.sink, inbox.on_refused)
    with serve_app(app) as base:
        xml = app_text_xml("看涨 510300 3个月 平值 名义1000万", from_user="lisi", corpid=CORPID,
                           msgid="6900000000000000001")
        query, body = sign_and_encrypt_app(crypto, xml, agent_id="1000002")
        assert body.startswith(b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt>")
        r = post_callback(base + PATH, query, body)
    assert (r.status_code, r.content) == (200, b"")
    [row] = inbox.messages()
    assert (row["channel"], row["msgid"], row["msgtype"], row["sender"]) == ("app", "6900000000000000001", "text", "lisi")
    assert row["text"] == "看涨 510300 3个月 平值 名义1000万"
    assert (row["chat_id"], row["chat_type"], row["response_url"]) == (None, "single", None)
    assert row["plaintext"] == xml and row["raw_body"] == body


@pytest.mark.parametrize("which", ["xml", "json"])
def test_official_vectors_through_the_app(vectors, inbox, which):
    """Tencent's own POSTs (XML and JSON app samples) accepted at their own time."""
    a = vectors["official_xml_app"]
    if which == "xml":
        m = a["message"]
        body = build_xml_envelope(m["encrypt"], to_user=a["receive_id"], agent_id="218")
    else:
        m = vectors["official_json_app"]
        body = json.dumps(m["body"]).encode()
    cfg = WeComConfig(a["token"], a["encoding_aes_key"], a["receive_id"], channel="app")
    app = create_app(cfg, inbox.sink, inbox.on_refused, clock=lambda: int(m["timestamp"]) + 2)
    with serve_app(app) as base:
        r = post_callback(base + PATH, {k: m[k] for k in ("msg_signature", "timestamp", "nonce")}, body)
    assert r.status_code == 200
    [row] = inbox.messages()
    assert (row["msgid"], row["sender"], row["text"], row["msgtype"]) == ("4561255354251345929", "mycreate", "hello", "text")
    assert row["received_at"] == datetime.fromtimestamp(int(m["timestamp"]) + 2, timezone.utc).isoformat()


def test_events_and_other_msgtypes_are_persisted(robot):
    url, crypto, inbox = robot
    event = {"msgid": "EV1", "create_time": int(time.time()), "aibotid": "AIBOTID",
             "from": {"corpid": "wpcorp", "userid": "wangwu"}, "msgtype": "event",
             "event": {"eventtype": "enter_chat"}}
    image = {"msgid": "IMG1", "aibotid": "AIBOTID", "chattype": "single", "from": {"userid": "wangwu"},
             "msgtype": "image", "image": {"url": "https://example.invalid/x"}}
    mixed = {"msgid": "MIX1", "chatid": "c9", "chattype": "group", "from": {"userid": "wangwu"}, "msgtype": "mixed",
             "mixed": {"msg_item": [{"msgtype": "text", "text": {"content": "@报价机器人 这张图里的"}},
                                    {"msgtype": "image", "image": {"url": "https://example.invalid/y"}},
                                    {"msgtype": "text", "text": {"content": "也按这个结构"}}]}}
    for m in (event, image, mixed):
        assert post_callback(url, *sign_and_encrypt_robot(crypto, m)).status_code == 200
    rows = {r["msgid"]: r for r in inbox.messages()}
    assert (rows["EV1"]["msgtype"], rows["EV1"]["text"], rows["EV1"]["sender"]) == ("event", "", "wangwu")
    assert json.loads(rows["EV1"]["plaintext"])["event"] == {"eventtype": "enter_chat"}
    assert (rows["IMG1"]["msgtype"], rows["IMG1"]["chat_type"]) == ("image", "single")
    assert rows["MIX1"]["text"] == "这张图里的 也按这个结构"


def test_app_event_without_msgid_gets_a_stable_id(inbox):
    crypto = WeComCrypto(TOKEN, KEY, CORPID)
    app = create_app(WeComConfig(TOKEN, KEY, CORPID, channel="app"), inbox.sink, inbox.on_refused)
    xml = ("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
           "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           "<Event><![CDATA[enter_agent]]></Event><AgentID>1</AgentID></xml>")
    with serve_app(app) as base:
        r1 = post_callback(base + PATH, *sign_and_encrypt_app(crypto, xml))
        r2 = post_callback(base + PATH, *sign_and_encrypt_app(crypto, xml))   # WeCom's retry
    assert r1.status_code == r2.status_code == 200
    [row] = inbox.messages()
    assert row["msgid"].startswith("sha1:") and len(row["msgid"]) == 45 and row["msgtype"] == "event"


# -- refusals ------------------------------------------------------------------------------------------
def refused_case(name, crypto, url):
    msg = robot_text_message("@bot 询价 000300 1年", msgid=f"M-{name}")
    query, body = sign_and_encrypt_robot(crypto, msg)
    if name == "tampered_body":
        doc = json.loads(body)
        enc = doc["encrypt"]
        doc["encrypt"] = enc[:20] + ("B" if enc[20] != "B" else "C") + enc[21:]
        body = json.dumps(doc).encode()
    elif name == "wrong_receive_id":
        app_side = WeComCrypto(TOKEN, KEY, "wwsomecorpid")
        query, body = sign_and_encrypt_robot(app_side, msg)
    elif name == "stale_timestamp":
        query, body = sign_and_encrypt_robot(crypto, msg, timestamp=int(time.time()) - 301)
    elif name == "malformed_timestamp":
        query, body = sign_and_encrypt_robot(crypto, msg, timestamp="1700000000.5")
    elif name == "bad_signature":
        query = {**query, "msg_signature": "0" * 40}
    elif name == "missing_query":
        query = {k: v for k, v in query.items() if k != "nonce"}
    elif name == "malformed_body":
        body = b'{"encrypt": '
    elif name == "undecryptable":
        enc = "QUJD" * 11  # valid base64, not a whole number of AES blocks
        query = {**query, "msg_signature": crypto.signature(query["timestamp"], query["nonce"], enc)}
        body = json.dumps({"encrypt": enc}).encode()
    elif name == "malformed_message":
        enc = crypto.encrypt(b"this is not json")
        query = {**query, "msg_signature": crypto.signature(query["timestamp"], query["nonce"], enc)}
        body = json.dumps({"encrypt": enc}).encode()
    return query, body


@pytest.mark.parametrize("name, status, kind", [
    ("tampered_body", 403, "bad_signature"),
    ("wrong_receive_id", 403, "wrong_receive_id"),
    ("stale_timestamp", 403, "stale_timestamp"),
    ("malformed_timestamp", 400, "malformed_timestamp"),
    ("bad_signature", 403, "bad_signature"),
    ("missing_query", 400, "missing_query"),
    ("malformed_body", 400, "malformed_body"),
    ("undecryptable", 400, "undecryptable"),
    ("malformed_message", 400, "malformed_message"),
])
def test_refused_requests(robot, log, name, status, kind):
    url, crypto, inbox = robot
    query, body = refused_case(name, crypto, url)
    r = post_callback(url, query, body)
    assert r.status_code == status and r.text == kind
    assert inbox.messages() == []
    [ref] = inbox.refused()
    assert ref["reason"].startswith(kind + ": ")
    assert ref["raw_body"] == body and json.loads(ref["query"]) == query
    [line] = [m for m in wecom_logs(log) if m.startswith("refused POST")]
    assert kind in line and "127.0.0.1" in line


def test_stale_timestamp_message_says_how_far(robot):
    url, crypto, inbox = robot
    query, body = sign_and_encrypt_robot(crypto, robot_text_message("x"), timestamp=int(time.time()) + 3600)
    assert post_callback(url, query, body).status_code == 403
    reason = inbox.refused()[0]["reason"]
    assert "s in the future; allowed within 300 s of now" in reason
    m = re.search(r"is (\d+) s in the future", reason)
    assert 3590 <= int(m.group(1)) <= 3600


def test_oversized_body_refused(inbox, log):
    crypto = WeComCrypto(TOKEN, KEY, "")
    app = create_app(WeComConfig(TOKEN, KEY, max_body_bytes=4096), inbox.sink, inbox.on_refused)
    with serve_app(app) as base:
        query, body = sign_and_encrypt_robot(crypto, robot_text_message("询价" * 2000))
        assert len(body) > 4096
        r = post_callback(base + PATH, query, body)
        small = post_callback(base + PATH, *sign_and_encrypt_robot(crypto, robot_text_message("询价")))
    assert (r.status_code, r.text) == (413, "oversized")
    assert small.status_code == 200 and len(inbox.messages()) == 1
    [ref] = inbox.refused()
    assert ref["reason"].startswith("oversized: ") and ref["raw_body"] == b""


# -- retries and failures -------------------------------------------------------------------------------
def test_replayed_msgid_is_acknowledged_and_logged_duplicate(robot, log):
    url, crypto, inbox = robot
    msg = robot_text_message("@报价机器人 500 雪球 2年", msgid="DUP-1")
    first = post_callback(url, *sign_and_encrypt_robot(crypto, msg))
    # WeCom's retry: the same message, encrypted again (new random, nonce, timestamp)
    again = post_callback(url, *sign_and_encrypt_robot(crypto, msg))
    assert (first.status_code, again.status_code) == (200, 200) and again.content == b""
    assert [r["msgid"] for r in inbox.messages()] == ["DUP-1"]
    assert inbox.refused() == []
    logs = wecom_logs(log)
    assert sum("duplicate msgid DUP-1" in m for m in logs) == 1
    assert sum("received msgid DUP-1" in m for m in logs) == 1


def test_sink_failure_answers_500_so_wecom_retries(robot, log):
    url, crypto, inbox = robot
    msg = robot_text_message("@报价机器人 1000 看涨 3个月", msgid="FAIL-1")
    inbox.fail = True
    r = post_callback(url, *sign_and_encrypt_robot(crypto, msg))
    assert r.status_code == 500
    assert inbox.messages() == [] and inbox.refused() == []
    err = [rec for rec in log.records if rec.name == "otclab.wecom" and rec.levelno == logging.ERROR]
    assert err and "FAIL-1" in err[0].getMessage() and "inbox unavailable" in str(err[0].exc_info[1])
    inbox.fail = False
    assert post_callback(url, *sign_and_encrypt_robot(crypto, msg)).status_code == 200   # the retry lands
    assert [r["msgid"] for r in inbox.messages()] == ["FAIL-1"]


def test_other_methods_not_allowed(robot):
    url, _, inbox = robot
    assert httpx.put(url, content=b"x").status_code == 405
    assert inbox.messages() == [] and inbox.refused() == []


def test_bot_name_with_space_is_stripped(inbox):
    crypto = WeComCrypto(TOKEN, KEY, "")
    app = create_app(WeComConfig(TOKEN, KEY, bot_name="OTC 报价"), inbox.sink, inbox.on_refused)
    with serve_app(app) as base:
        r = post_callback(base + PATH, *sign_and_encrypt_robot(crypto, robot_text_message("@OTC 报价\u2005中证500 雪球")))
    assert r.status_code == 200
    assert inbox.messages()[0]["text"] == "中证500 雪球"


def test_concurrent_deliveries_and_retries_land_once_each(robot):
    """40 messages, each delivered twice at once (WeCom's retry racing the first try), from 16
    threads: every msgid is in the inbox exactly once and every request was answered 200."""
    from concurrent.futures import ThreadPoolExecutor

    url, crypto, inbox = robot
    msgs = [robot_text_message(f"@报价机器人 000905 雪球 {i}个月", msgid=f"C-{i}") for i in range(40)]
    posts = [sign_and_encrypt_robot(crypto, m) for m in msgs for _ in range(2)]
    with httpx.Client() as client, ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda qb: post_callback(url, qb[0], qb[1], client).status_code, posts))
    assert codes == [200] * 80
    assert sorted(r["msgid"] for r in inbox.messages()) == sorted(f"C-{i}" for i in range(40))
    assert inbox.refused() == []
