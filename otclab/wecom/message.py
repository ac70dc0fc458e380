"""The fields of a decrypted WeCom message, whatever the surface sent it.

Shapes understood (operations notes §1.5):

- intelligent robot (智能机器人, JSON): ``msgid, aibotid, chatid, chattype, from.userid, response_url,
  msgtype, text.content``; ``mixed`` messages carry ``mixed.msg_item`` (text items are joined);
  ``event`` / ``stream`` / ``image`` ... keep their msgtype and an empty text;
- group-robot callback (群机器人回调, JSON or XML): the same plus ``webhook_url`` / ``WebhookUrl``,
  ``From/UserId``, ``Text/Content``, ``ChatId``, ``ChatType``;
- self-built app (自建应用, XML; the JSON sample uses the same capitalised keys): ``FromUserName``
  (the sender's userid), ``MsgType``, ``Content``, ``MsgId``, ``Event``.

A message without a msgid (app events) gets ``"sha1:" + sha1(plaintext)`` so that WeCom's retries of
it, which carry the same plaintext, still de-duplicate.
"""
from __future__ import annotations

import hashlib
import json
import re

from .envelope import parse_xml
from .errors import WeComError

# WeCom puts a space, a no-break space or U+2005 (four-per-em space) after an @mention.
_SPACES = " \t\u00a0\u2005\u3000"
_LEADING_MENTION = re.compile(r"^[" + _SPACES + r"]*@[^" + _SPACES + r"\n]+(?:[" + _SPACES + r"]+|$)")


def strip_mention(text: str, bot_name: str | None = None) -> str:
    """``text`` without its leading @mention: ``"@RobotA hello"`` -> ``"hello"``.

    With ``bot_name`` only ``@bot_name`` is stripped (a name may contain spaces); without it, the
    first ``@word`` when the text starts with one. Mentions later in the text are kept."""
    if bot_name:
        s = text.lstrip(_SPACES)
        tag = "@" + bot_name
        if s.startswith(tag) and (len(s) == len(tag) or s[len(tag)] in _SPACES + "\n"):
            return s[len(tag):].lstrip(_SPACES)
        return text.strip(_SPACES)
    return _LEADING_MENTION.sub("", text, count=1).strip(_SPACES)


def _s(v) -> str | None:
    if v is None:
        return None
    return str(v).strip()


def _fields_json(doc: dict) -> dict:
    low = {k.lower(): v for k, v in doc.items()}
    msgtype = _s(low.get("msgtype")) or ""
    frm = low.get("from") if isinstance(low.get("from"), dict) else {}
    sender = _s(frm.get("userid")) or _s(low.get("fromusername")) or ""
    text = ""
    t = low.get("text")
    if isinstance(t, dict):
        text = str(t.get("content") or "")
    elif "content" in low:
        text = str(low.get("content") or "")
    elif msgtype == "mixed" and isinstance(low.get("mixed"), dict):
        items = low["mixed"].get("msg_item") or []
        text = " ".join(str((it.get("text") or {}).get("content") or "") for it in items
                        if isinstance(it, dict) and it.get("msgtype") == "text").strip()
    return {
        "msgid": _s(low.get("msgid")),
        "msgtype": msgtype,
        "sender": sender,
        "text": text,
        "chat_id": _s(low.get("chatid")) or None,
        "chat_type": _s(low.get("chattype")) or None,
        "response_url": _s(low.get("response_url")) or None,
        "webhook_url": _s(low.get("webhook_url")) or None,
    }


def _fields_xml(root) -> dict:
    def get(*path: str) -> str | None:
        el = root
        for p in path:
            el = el.find(p)
            if el is None:
                return None
        return (el.text or "").strip()

    content = get("Text", "Content")
    if content is None:
        content = get("Content")
    msgtype = get("MsgType") or ""
    return {
        "msgid": get("MsgId"),
        "msgtype": msgtype,
        "sender": get("From", "UserId") or get("FromUserName") or "",
        "text": content or "",
        "chat_id": get("ChatId") or None,
        "chat_type": get("ChatType") or ("single" if get("FromUserName") else None),
        "response_url": get("ResponseUrl") or None,
        "webhook_url": get("WebhookUrl") or None,
    }


def parse_message(plaintext: bytes, bot_name: str | None = None) -> dict:
    """The fields of a decrypted message: ``plaintext`` (str), ``msgid``, ``msgtype``, ``sender``,
    ``raw_text`` (content as sent), ``text`` (leading @mention stripped), ``chat_id``, ``chat_type``,
    ``response_url``, ``webhook_url``. Raises ``WeComError('malformed_message')`` when the
    plaintext is not UTF-8 or not a JSON object / XML document."""
    try:
        s = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise WeComError("malformed_message", "decrypted message is not UTF-8") from None
    body = s.lstrip("\ufeff").strip()
    try:
        if body.startswith("{"):
            doc = json.loads(body)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            f = _fields_json(doc)
        elif body.startswith("<"):
            f = _fields_xml(parse_xml(body.encode("utf-8"), "decrypted message"))
        else:
            raise ValueError("neither JSON nor XML")
    except WeComError as e:
        raise WeComError("malformed_message", str(e).split(": ", 1)[-1]) from None
    except ValueError as e:
        raise WeComError("malformed_message", f"decrypted message does not parse ({e})") from None
    if not f["msgid"]:
        f["msgid"] = "sha1:" + hashlib.sha1(plaintext).hexdigest()
    f["raw_text"] = f["text"]
    f["text"] = strip_mention(f["text"], bot_name)
    f["plaintext"] = s
    return f
