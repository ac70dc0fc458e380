"""WeCom's callback encryption (WXBizMsgCrypt), one core for every WeCom surface.

Conventions (Tencent's 回调加解密 document; vectors in tests/wecom/test_vectors.py):

- signature: ``sha1("".join(sorted([token, timestamp, nonce, encrypt])))``, 40 lowercase hex characters;
- key: ``base64decode(EncodingAESKey + "=")`` (43 characters -> 32 bytes), AES-256-CBC, IV = key[:16];
- plaintext: ``random(16) || len(msg) (4 bytes, big-endian) || msg || receive_id``, padded PKCS#7-style
  to a **32-byte** block (pad byte k in 1..32, k = 32 when already aligned) -- not AES's 16;
- receive id: the corpid for a self-built app (自建应用), ``""`` for the intelligent robot (智能机器人) and
  the group-robot callback (群机器人回调).

Envelopes: XML ``<xml><Encrypt><![CDATA[...]]></Encrypt>...</xml>`` or JSON ``{"encrypt": "..."}``;
``decrypt_message`` accepts either. Every failure raises ``WeComError`` with its ``kind``.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .envelope import build_reply_json, build_reply_xml, parse_envelope
from .errors import WeComError

__all__ = ["WeComCrypto", "WeComError", "BLOCK"]

BLOCK = 32  # WeCom pads to 32 bytes, whatever AES's block is


def _pad(data: bytes) -> bytes:
    k = BLOCK - len(data) % BLOCK
    return data + bytes([k]) * k


def _unpad(data: bytes) -> bytes:
    if not data:
        raise WeComError("bad_padding", "decrypted message is empty")
    k = data[-1]
    if not 1 <= k <= BLOCK:
        raise WeComError("bad_padding", f"pad byte is {k}, allowed 1..{BLOCK} (PKCS#7 to {BLOCK} bytes)")
    if len(data) < k or data[-k:] != bytes([k]) * k:
        raise WeComError("bad_padding", f"the last {k} bytes are not all {k} (PKCS#7 to {BLOCK} bytes)")
    return data[:-k]


class WeComCrypto:
    """WXBizMsgCrypt for one callback: ``token`` and ``encoding_aes_key`` as set in the WeCom admin
    console, ``receive_id`` the corpid (self-built app) or ``""`` (intelligent robot, group robot)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        if not isinstance(token, str) or not token:
            raise WeComError("bad_key", "token must be a non-empty string (the Token of the callback settings)",
                             field="token")
        if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
            n = len(encoding_aes_key) if isinstance(encoding_aes_key, str) else type(encoding_aes_key).__name__
            raise WeComError("bad_key", f"EncodingAESKey must be exactly 43 characters [A-Za-z0-9], got {n}",
                             field="encoding_aes_key")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            raise WeComError("bad_key", "EncodingAESKey is not base64 (43 characters [A-Za-z0-9])",
                             field="encoding_aes_key") from None
        if len(key) != 32:
            raise WeComError("bad_key", f"EncodingAESKey decodes to {len(key)} bytes, must be 32",
                             field="encoding_aes_key")
        if not isinstance(receive_id, str):
            raise WeComError("bad_key", "receive_id must be a string: the corpid, or '' for a robot",
                             field="receive_id")
        self.token = token
        self.receive_id = receive_id
        self.key = key
        self.iv = key[:16]

    # -- signature -------------------------------------------------------------------------
    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        """msg_signature: SHA-1 (lowercase hex) of the four strings sorted and concatenated."""
        parts = sorted([self.token, str(timestamp), str(nonce), str(encrypt)])
        return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()

    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Raise ``WeComError('bad_signature')`` unless ``msg_signature`` matches (constant time)."""
        expected = self.signature(timestamp, nonce, encrypt)
        given = (msg_signature or "").strip().lower()
        if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
            raise WeComError("bad_signature",
                             "msg_signature does not match sha1(sorted(token, timestamp, nonce, encrypt))")

    # -- AES ---------------------------------------------------------------------------------
    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.iv))

    def encrypt(self, plaintext: bytes, nonce_random16: bytes | None = None) -> str:
        """Base64 ciphertext of ``plaintext`` framed as random16 || len || msg || receive_id.

        ``nonce_random16`` fixes the 16 leading random bytes (tests, reproducible vectors); by
        default they come from ``os.urandom``."""
        rnd = os.urandom(16) if nonce_random16 is None else bytes(nonce_random16)
        if len(rnd) != 16:
            raise WeComError("bad_length", f"nonce_random16 must be 16 bytes, got {len(rnd)}")
        body = rnd + struct.pack(">I", len(plaintext)) + bytes(plaintext) + self.receive_id.encode("utf-8")
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(_pad(body)) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypt_b64: str) -> bytes:
        """The message inside ``encrypt_b64``; raises ``WeComError`` on bad base64, a length that is
        not a whole number of AES blocks, bad padding, a bad length field, or a receive id other
        than this callback's (``wrong_receive_id``, official code -40005)."""
        try:
            raw = base64.b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise WeComError("bad_base64", "Encrypt is not valid base64") from None
        if len(raw) < BLOCK or len(raw) % 16:
            raise WeComError("undecryptable",
                             f"ciphertext is {len(raw)} bytes; must be a multiple of 16 and at least {BLOCK}")
        dec = self._cipher().decryptor()
        plain = _unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise WeComError("bad_length", f"decrypted frame is {len(plain)} bytes, shorter than random(16)+len(4)")
        (n,) = struct.unpack(">I", plain[16:20])
        if 20 + n > len(plain):
            raise WeComError("bad_length", f"length field says {n} bytes but only {len(plain) - 20} follow")
        msg, rid = plain[20:20 + n], plain[20 + n:]
        if not hmac.compare_digest(rid, self.receive_id.encode("utf-8")):
            shown = rid.decode("utf-8", "replace")[:64]
            raise WeComError("wrong_receive_id",
                             f"message is for receive id {shown!r}, this callback expects {self.receive_id!r}")
        return msg

    # -- whole requests ----------------------------------------------------------------------
    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> bytes:
        """URL verification (GET): check the signature over ``echostr`` (already URL-decoded) and
        return its plaintext, which the server answers as the bare body."""
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_message(self, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> bytes:
        """The decrypted message of a POSTed callback body (XML or JSON envelope), after checking
        ``msg_signature`` in constant time over its ``Encrypt`` field."""
        _fmt, encrypt, _fields = parse_envelope(body)
        self.check_signature(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def encrypt_reply(self, plaintext: bytes, timestamp: str, nonce: str, fmt: str = "json",
                      nonce_random16: bytes | None = None) -> bytes:
        """A passive encrypted reply body: ``fmt="json"`` gives
        ``{"encrypt", "msgsignature", "timestamp", "nonce"}`` (official JSON library's keys),
        ``fmt="xml"`` the ``<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`` template."""
        encrypt = self.encrypt(plaintext, nonce_random16)
        sig = self.signature(timestamp, nonce, encrypt)
        if fmt == "json":
            return build_reply_json(encrypt, sig, str(timestamp), str(nonce))
        if fmt == "xml":
            return build_reply_xml(encrypt, sig, str(timestamp), str(nonce))
        raise WeComError("malformed_body", f"reply format {fmt!r} unknown; allowed 'json' or 'xml'", field="fmt")

