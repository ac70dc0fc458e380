"""WXBizMsgCrypt against the published vectors, byte for byte, and its refusals."""
from __future__ import annotations

import base64
import json
import struct
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from otclab.wecom.crypto import WeComCrypto
from otclab.wecom.envelope import build_xml_envelope, parse_envelope
from otclab.wecom.errors import WeComError


def app_crypto(v, receive_id=None):
    a = v["official_xml_app"]
    return WeComCrypto(a["token"], a["encoding_aes_key"], a["receive_id"] if receive_id is None else receive_id)


def raw_plain(c: WeComCrypto, encrypt: str) -> bytes:
    """The padded frame inside ``encrypt`` (independent of WeComCrypto.decrypt)."""
    d = Cipher(algorithms.AES(c.key), modes.CBC(c.key[:16])).decryptor()
    return d.update(base64.b64decode(encrypt)) + d.finalize()


# -- A. official XML app vector ------------------------------------------------------------------
def test_official_key_derivation(vectors):
    c = app_crypto(vectors)
    assert c.key.hex() == vectors["official_xml_app"]["aes_key_hex"]
    assert c.iv == c.key[:16]


def test_official_url_verification(vectors):
    c, u = app_crypto(vectors), vectors["official_xml_app"]["url_verification"]
    assert c.signature(u["timestamp"], u["nonce"], u["echostr"]) == u["msg_signature"]
    assert c.verify_url(u["msg_signature"], u["timestamp"], u["nonce"], u["echostr"]) == u["plaintext"].encode()
    # the URL-encoded form decodes to the same echostr
    assert unquote(u["echostr_url_encoded"]) == u["echostr"]
    frame = raw_plain(c, u["echostr"])
    assert frame[16:20] == struct.pack(">I", 19) and frame[-1] == 7


def test_official_message_signature_and_decrypt(vectors):
    a = vectors["official_xml_app"]
    c, m = app_crypto(vectors), a["message"]
    assert c.signature(m["timestamp"], m["nonce"], m["encrypt"]) == m["msg_signature"]
    plain = c.decrypt(m["encrypt"])
    assert len(plain) == 284
    root = ET.fromstring(plain)
    for tag, value in m["plaintext_contains"].items():
        assert root.findtext(tag) == value
    assert raw_plain(c, m["encrypt"])[-1] == m["pad_byte"] == 30  # pads to 32, not 16
    # the same through the XML envelope, as WeCom POSTs it
    body = build_xml_envelope(m["encrypt"], to_user=a["receive_id"], agent_id="218")
    assert c.decrypt_message(m["msg_signature"], m["timestamp"], m["nonce"], body) == plain


def test_official_message_reencrypts_byte_for_byte(vectors):
    """Encrypting the decrypted message with the vector's own 16 random bytes gives the vector."""
    c, m = app_crypto(vectors), vectors["official_xml_app"]["message"]
    random16 = raw_plain(c, m["encrypt"])[:16]
    assert c.encrypt(c.decrypt(m["encrypt"]), random16) == m["encrypt"]
    u = vectors["official_xml_app"]["url_verification"]
    assert c.encrypt(u["plaintext"].encode(), raw_plain(c, u["echostr"])[:16]) == u["echostr"]


# -- B. official JSON vector ----------------------------------------------------------------------
def test_official_json_message(vectors):
    b, c = vectors["official_json_app"], app_crypto(vectors)
    body = json.dumps(b["body"]).encode()
    assert c.signature(b["timestamp"], b["nonce"], b["body"]["encrypt"]) == b["msg_signature"]
    plain = c.decrypt_message(b["msg_signature"], b["timestamp"], b["nonce"], body)
    assert plain == b["plaintext"].encode() and len(plain) == 164
    assert raw_plain(c, b["body"]["encrypt"])[-1] == 22
    assert c.encrypt(plain, raw_plain(c, b["body"]["encrypt"])[:16]) == b["body"]["encrypt"]
    fmt, enc, fields = parse_envelope(body)
    assert (fmt, enc, fields) == ("json", b["body"]["encrypt"], {"tousername": "wx5823bf96d3bd56c7", "agentid": "218"})


# -- C. wechatpy encrypt vector ---------------------------------------------------------------------
def test_wechatpy_encrypt_and_reply(vectors):
    w = vectors["wechatpy_encrypt"]
    c = WeComCrypto(w["token"], w["encoding_aes_key"], w["receive_id"])
    enc = c.encrypt(w["plaintext"].encode(), w["random"].encode())
    assert enc == w["encrypt"]
    assert c.signature(w["timestamp"], w["nonce"], enc) == w["msg_signature"]
    xml = c.encrypt_reply(w["plaintext"].encode(), w["timestamp"], w["nonce"], fmt="xml",
                          nonce_random16=w["random"].encode())
    root = ET.fromstring(xml)
    assert root.findtext("Encrypt") == w["encrypt"]
    assert root.findtext("MsgSignature") == w["msg_signature"]
    assert (root.findtext("TimeStamp"), root.findtext("Nonce")) == (w["timestamp"], w["nonce"])
    js = json.loads(c.encrypt_reply(w["plaintext"].encode(), w["timestamp"], w["nonce"],
                                    nonce_random16=w["random"].encode()))
    assert js == {"encrypt": w["encrypt"], "msgsignature": w["msg_signature"], "timestamp": w["timestamp"],
                  "nonce": w["nonce"]}
    # and it reads back
    assert c.decrypt_message(w["msg_signature"], w["timestamp"], w["nonce"], xml) == w["plaintext"].encode()


# -- D. receive id "" (robots) --------------------------------------------------------------------------
def test_robot_receive_id_empty_round_trip_and_refuses_app_vector(vectors):
    a = vectors["official_xml_app"]
    robot = app_crypto(vectors, receive_id="")
    msg = '{"msgid":"m1","msgtype":"text","text":{"content":"@bot 询价"}}'.encode()
    enc = robot.encrypt(msg, b"0123456789abcdef")
    frame = raw_plain(robot, enc)
    assert frame[:16] == b"0123456789abcdef" and frame[16:20] == struct.pack(">I", len(msg))
    assert frame[20:20 + len(msg)] == msg and frame[20 + len(msg):-frame[-1]] == b""  # nothing after msg
    assert robot.decrypt(enc) == msg
    with pytest.raises(WeComError) as e:
        robot.decrypt(a["message"]["encrypt"])
    assert e.value.kind == "wrong_receive_id" and e.value.code == -40005
    assert "wx5823bf96d3bd56c7" in str(e.value)


def test_wrong_corpid_refused(vectors):
    c = app_crypto(vectors, receive_id="wwsomeothercorp")
    with pytest.raises(WeComError, match="^wrong_receive_id: "):
        c.decrypt(vectors["official_xml_app"]["message"]["encrypt"])


# -- refusals -------------------------------------------------------------------------------------------
def test_tampered_encrypt_fails_signature(vectors):
    c, m = app_crypto(vectors), vectors["official_xml_app"]["message"]
    enc = m["encrypt"]
    tampered = enc[:10] + ("A" if enc[10] != "A" else "B") + enc[11:]
    body = build_xml_envelope(tampered)
    with pytest.raises(WeComError) as e:
        c.decrypt_message(m["msg_signature"], m["timestamp"], m["nonce"], body)
    assert e.value.kind == "bad_signature" and e.value.code == -40001


def test_wechatpy_echo_vector_and_changed_nonce(vectors):
    """wechatpy's echo vector (operations notes §1.7 C): the right nonce verifies, one less does not."""
    w = vectors["wechatpy_encrypt"]
    c = WeComCrypto(w["token"], w["encoding_aes_key"], w["receive_id"])
    echostr = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
    sig = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    assert c.verify_url(sig, "1411443780", "437374425", echostr) == b"5927782489442352469"
    with pytest.raises(WeComError, match="bad_signature"):
        c.verify_url(sig, "1411443780", "437374424", echostr)


def test_changed_nonce_or_signature_refused(vectors):
    u, c = vectors["official_xml_app"]["url_verification"], app_crypto(vectors)
    with pytest.raises(WeComError, match="bad_signature"):
        c.verify_url(u["msg_signature"], u["timestamp"], str(int(u["nonce"]) - 1), u["echostr"])
    with pytest.raises(WeComError, match="bad_signature"):
        c.verify_url(u["msg_signature"].upper()[:-1] + "0", u["timestamp"], u["nonce"], u["echostr"])


def test_pad_of_32_round_trips(vectors):
    """A frame already a multiple of 32 bytes gets a whole block of padding (byte 32)."""
    c = app_crypto(vectors)
    n = 64 - 20 - len(c.receive_id)        # 16 + 4 + n + 18 = 64
    msg = b"x" * n
    enc = c.encrypt(msg)
    frame = raw_plain(c, enc)
    assert len(frame) == 96 and frame[-32:] == bytes([32]) * 32
    assert c.decrypt(enc) == msg


def _encrypt_raw(c: WeComCrypto, frame: bytes) -> str:
    e = Cipher(algorithms.AES(c.key), modes.CBC(c.key[:16])).encryptor()
    return base64.b64encode(e.update(frame) + e.finalize()).decode()


@pytest.mark.parametrize("pad", [0, 33, 200])
def test_pad_byte_out_of_range_refused(vectors, pad):
    c = app_crypto(vectors)
    frame = b"r" * 16 + struct.pack(">I", 3) + b"abc" + c.receive_id.encode()
    frame += b"\x00" * (-len(frame) % 32 or 32)
    frame = frame[:-1] + bytes([pad])
    with pytest.raises(WeComError) as e:
        c.decrypt(_encrypt_raw(c, frame))
    assert e.value.kind == "bad_padding" and f"pad byte is {pad}, allowed 1..32" in str(e.value)


def test_inconsistent_padding_and_length_refused(vectors):
    c = app_crypto(vectors)
    body = b"r" * 16 + struct.pack(">I", 3) + b"abc" + c.receive_id.encode()   # 41 bytes -> pad 23
    bad = body + b"\x01" * 22 + bytes([23])
    with pytest.raises(WeComError, match="bad_padding: the last 23 bytes are not all 23"):
        c.decrypt(_encrypt_raw(c, bad))
    long = b"r" * 16 + struct.pack(">I", 1000) + b"abc" + c.receive_id.encode()
    long += bytes([23]) * 23
    with pytest.raises(WeComError, match="bad_length: length field says 1000"):
        c.decrypt(_encrypt_raw(c, long))
    with pytest.raises(WeComError, match="bad_base64"):
        c.decrypt("not base64 at all!")
    with pytest.raises(WeComError, match="undecryptable: ciphertext is 17 bytes"):
        c.decrypt(base64.b64encode(b"x" * 17).decode())


@pytest.mark.parametrize("key, msg", [
    ("short", "exactly 43 characters"),
    ("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2*", "not base64"),
])
def test_bad_encoding_aes_key(key, msg):
    with pytest.raises(WeComError, match=msg) as e:
        WeComCrypto("tok", key, "")
    assert e.value.field == "encoding_aes_key"


@pytest.mark.parametrize("body, msg", [
    (b"", "neither an XML"),
    (b"<xml><ToUserName>x</ToUserName></xml>", "no <Encrypt>"),
    (b"<xml><Encrypt>abc", "not well-formed"),
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>', "DOCTYPE"),
    (b'{"encrypt": 5}', "no string field"),
    (b'{"encrypt": ', "does not parse"),
    (b"[1, 2]", "neither an XML"),
])
def test_malformed_envelopes(body, msg):
    with pytest.raises(WeComError, match=msg) as e:
        parse_envelope(body)
    assert e.value.kind == "malformed_body"


# -- property ---------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(msg=st.binary(max_size=3000), receive_id=st.text(max_size=40),
       random16=st.binary(min_size=16, max_size=16))
def test_encrypt_decrypt_round_trip(msg, receive_id, random16):
    c = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", receive_id)
    enc = c.encrypt(msg, random16)
    frame = raw_plain(c, enc)
    assert len(frame) % 32 == 0 and 1 <= frame[-1] <= 32
    assert c.decrypt(enc) == msg
    sig = c.signature("1409659813", "1372623149", enc)
    assert c.decrypt_message(sig, "1409659813", "1372623149", json.dumps({"encrypt": enc}).encode()) == msg
    other = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", receive_id + "x")
    with pytest.raises(WeComError, match="wrong_receive_id"):
        other.decrypt(enc)
