"""Fields of decrypted messages from each WeCom surface, and the @mention stripping."""
from __future__ import annotations

import json

import pytest

from otclab.wecom.errors import WeComError
from otclab.wecom.message import parse_message, strip_mention


@pytest.mark.parametrize("text, bot, want", [
    ("@RobotA hello robot", None, "hello robot"),
    ("@报价机器人\u2005中证500 雪球 1年", None, "中证500 雪球 1年"),
    ("  @报价机器人\u3000看涨105 看跌95", None, "看涨105 看跌95"),
    ("@报价机器人", None, ""),
    ("中证500 @张三 看下", None, "中证500 @张三 看下"),     # a mention later in the text stays
    ("@报价机器人 @张三 看下", None, "@张三 看下"),          # only the leading one goes
    ("@OTC 报价 000300 1年", "OTC 报价", "000300 1年"),
    ("@OTC报价机器人 000300", "OTC", "@OTC报价机器人 000300"),  # not the bot's name
    ("无提及的询价", None, "无提及的询价"),
])
def test_strip_mention(text, bot, want):
    assert strip_mention(text, bot) == want


def test_intelligent_robot_json():
    doc = {"msgid": "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=", "aibotid": "AIBOTID", "chatid": "CHATID", "chattype": "group",
           "from": {"userid": "USERID"}, "response_url": "RESPONSEURL", "msgtype": "text",
           "text": {"content": "@RobotA hello robot"}, "quote": {"msgtype": "text", "text": {"content": "引用"}}}
    f = parse_message(json.dumps(doc, ensure_ascii=False).encode())
    assert {k: f[k] for k in ("msgid", "msgtype", "sender", "text", "raw_text", "chat_id", "chat_type",
                              "response_url", "webhook_url")} == {
        "msgid": "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=", "msgtype": "text", "sender": "USERID", "text": "hello robot",
        "raw_text": "@RobotA hello robot", "chat_id": "CHATID", "chat_type": "group", "response_url": "RESPONSEURL",
        "webhook_url": None}


def test_group_robot_xml_and_json():
    xml = ("<xml><WebhookUrl><![CDATA[https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K]]></WebhookUrl>"
           "<ChatId><![CDATA[wrkSFfCgAA]]></ChatId><ChatType>group</ChatType>"
           "<From><UserId><![CDATA[zhangsan]]></UserId><Name><![CDATA[张三]]></Name></From>"
           "<MsgType>text</MsgType><Text><Content><![CDATA[@RobotA 询价]]></Content></Text>"
           "<MsgId>abcdef</MsgId></xml>").encode()
    f = parse_message(xml)
    assert (f["msgid"], f["sender"], f["text"], f["chat_id"], f["chat_type"]) == ("abcdef", "zhangsan", "询价", "wrkSFfCgAA", "group")
    assert f["webhook_url"] == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
    js = {"webhook_url": "https://w", "msgid": "m2", "chatid": "c", "chattype": "single",
          "from": {"userid": "u", "name": "n"}, "msgtype": "text", "text": {"content": "@RobotA 你好"}}
    g = parse_message(json.dumps(js).encode())
    assert (g["webhook_url"], g["sender"], g["text"]) == ("https://w", "u", "你好")


def test_markup_inside_cdata_is_text_but_a_dtd_is_refused():
    ok = parse_message(b"<xml><MsgType>text</MsgType><FromUserName>u</FromUserName>"
                       b"<Content><![CDATA[@bot <!DOCTYPE html> &amp; <b>]]></Content><MsgId>7</MsgId></xml>")
    assert ok["text"] == "<!DOCTYPE html> &amp; <b>"
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b"<xml><Content>&b;</Content></xml>")
    with pytest.raises(WeComError, match="malformed_message: decrypted message declares a DOCTYPE"):
        parse_message(bomb)


def test_json_app_sample_keys():
    plain = ('{"ToUserName":"wx5823bf96d3bd56c7","FromUserName":"mycreate","CreateTime": 1409659813,'
             '"MsgType":"text","Content":"hello","MsgId":4561255354251345929,"AgentID": 218}').encode()
    f = parse_message(plain)
    assert (f["msgid"], f["sender"], f["text"], f["msgtype"]) == ("4561255354251345929", "mycreate", "hello", "text")


@pytest.mark.parametrize("plain, msg", [
    (b"\xff\xfe", "not UTF-8"),
    (b"hello", "neither JSON nor XML"),
    (b"[1]", "neither JSON nor XML"),
    (b"{\"a\": ", "does not parse"),
    (b"<xml><a>", "not well-formed"),
])
def test_malformed(plain, msg):
    with pytest.raises(WeComError, match=msg) as e:
        parse_message(plain)
    assert e.value.kind == "malformed_message"
