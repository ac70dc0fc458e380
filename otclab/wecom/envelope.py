"""The envelopes around WeCom's ``Encrypt`` value: what a callback POSTs and what a passive reply is.

Received: XML ``<xml><ToUserName/><Encrypt/><AgentID/></xml>`` (self-built app; the group robot sends
only ``<Encrypt>``) or JSON ``{"encrypt": ...}`` (intelligent robot; the JSON app sample adds
``tousername`` and ``agentid``). Reply: JSON ``{"encrypt", "msgsignature", "timestamp", "nonce"}`` or
the XML template with ``Encrypt``, ``MsgSignature``, ``TimeStamp``, ``Nonce``.

XML is parsed with the standard library after a first expat pass that refuses any document type
or entity declaration: WeCom never sends one, and stopping at the declaration shuts out
entity-expansion attacks before anything is expanded.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from xml.parsers import expat

from .errors import WeComError

class _Declared(Exception):
    pass


def _declared(*_args):
    raise _Declared


def parse_xml(data: bytes, what: str = "body") -> ET.Element:
    """The root element of an XML document WeCom sent; ``WeComError('malformed_body')`` if it is
    not well-formed or declares a DTD/entities (a first expat pass stops at the declaration, before
    anything is expanded; text that merely contains "<!DOCTYPE" inside CDATA is fine)."""
    p = expat.ParserCreate()
    p.StartDoctypeDeclHandler = _declared
    p.EntityDeclHandler = _declared
    try:
        p.Parse(data, True)
    except _Declared:
        raise WeComError("malformed_body", f"{what} declares a DOCTYPE/ENTITY, which WeCom never sends") from None
    except expat.ExpatError as e:
        raise WeComError("malformed_body", f"{what} is not well-formed XML ({e})") from None
    return ET.fromstring(data)


def parse_envelope(body: bytes) -> tuple[str, str, dict]:
    """``(fmt, encrypt, fields)`` of a callback POST body: fmt ``"xml"`` or ``"json"``, the
    ``Encrypt`` string (whitespace around it dropped), and the envelope's other fields."""
    if not isinstance(body, (bytes, bytearray)):
        raise WeComError("malformed_body", "body must be bytes")
    text = bytes(body).lstrip(b"\xef\xbb\xbf").strip()
    if text.startswith(b"<"):
        root = parse_xml(text, "envelope")
        fields = {child.tag: (child.text or "").strip() for child in root}
        encrypt = fields.pop("Encrypt", "")
        if not encrypt:
            raise WeComError("malformed_body", "XML envelope has no <Encrypt> element")
        return "xml", encrypt, fields
    if text.startswith(b"{"):
        try:
            doc = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise WeComError("malformed_body", f"JSON envelope does not parse ({e})") from None
        if not isinstance(doc, dict):
            raise WeComError("malformed_body", "JSON envelope must be an object with 'encrypt'")
        encrypt = doc.get("encrypt", doc.get("Encrypt"))
        if not isinstance(encrypt, str) or not encrypt.strip():
            raise WeComError("malformed_body", "JSON envelope has no string field 'encrypt'")
        fields = {k: v for k, v in doc.items() if k not in ("encrypt", "Encrypt")}
        return "json", encrypt.strip(), fields
    raise WeComError("malformed_body", "body is neither an XML (<xml>...) nor a JSON ({...}) envelope")


def build_json_envelope(encrypt: str, **fields) -> bytes:
    """A JSON callback body ``{"encrypt": ...}`` (plus e.g. ``tousername``/``agentid`` for the app)."""
    return json.dumps({**fields, "encrypt": encrypt}, ensure_ascii=False).encode("utf-8")


def build_xml_envelope(encrypt: str, to_user: str | None = None, agent_id: str | None = None) -> bytes:
    """An XML callback body as WeCom POSTs it: ToUserName, Encrypt, AgentID (the first and last
    omitted when None, as the group-robot callback does)."""
    parts = ["<xml>"]
    if to_user is not None:
        parts.append(f"<ToUserName><![CDATA[{to_user}]]></ToUserName>")
    parts.append(f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>")
    if agent_id is not None:
        parts.append(f"<AgentID><![CDATA[{agent_id}]]></AgentID>")
    parts.append("</xml>")
    return "".join(parts).encode("utf-8")


def build_reply_json(encrypt: str, signature: str, timestamp: str, nonce: str) -> bytes:
    """The official JSON library's passive reply (key ``msgsignature``, no underscore)."""
    return json.dumps({"encrypt": encrypt, "msgsignature": signature, "timestamp": timestamp,
                       "nonce": nonce}).encode("utf-8")


def build_reply_xml(encrypt: str, signature: str, timestamp: str, nonce: str) -> bytes:
    """The XML passive reply template (Encrypt, MsgSignature, TimeStamp, Nonce)."""
    return ("<xml>\n"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n"
            f"<Nonce><![CDATA[{nonce}]]></Nonce>\n"
            "</xml>").encode("utf-8")
