"""Test helpers speaking WeCom's side of the protocol, on localhost.

- ``WeComServer``: a local HTTP server standing in for WeCom's reply API. It takes group-robot
  webhook POSTs (``/cgi-bin/webhook/send?key=KEY``) and intelligent-robot ``response_url`` POSTs
  (``/aibot/response/<token>``, from ``new_response_url()``), checks each as WeCom would (JSON object,
  known msgtype, content a non-empty string of at most 2048 UTF-8 bytes, ``mentioned_list`` a list of
  strings, a response_url used at most once, 20 messages a minute per webhook key and 30 per
  conversation -> errcode 45009), records the accepted ones (``.messages``, ``.texts()``) and every
  request with its answer (``.requests``), and can be told to fail the next N requests
  (``fail_next``).
- ``robot_text_message`` / ``app_text_xml``: a decrypted message as the intelligent robot / a
  self-built app sends it; ``sign_and_encrypt_robot`` / ``sign_and_encrypt_app``: the query and the
  body WeCom POSTs for it (encrypted, signed); ``verification_query``: a URL-verification GET's query;
  ``post_callback``: POST that to a callback URL.
- ``serve_app(app)``: run an ASGI app under a real uvicorn server on 127.0.0.1 in a thread;
  a context manager yielding its base URL.
"""
from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn

from otclab.wecom.crypto import WeComCrypto
from otclab.wecom.envelope import build_json_envelope, build_xml_envelope

MAX_CONTENT_BYTES = 2048
WEBHOOK_PER_MIN = 20
CONVERSATION_PER_MIN = 30

# WeCom's errcodes as documented for the webhook (errmsg texts as WeCom words them).
OK = (0, "ok")
RATE_LIMITED = (45009, "api freq out of limit")
INVALID_WEBHOOK = (93000, "invalid webhook url")
INVALID_MSGTYPE = (40008, "invalid message type")
EMPTY_CONTENT = (44004, "empty content")
CONTENT_TOO_LONG = (45002, "content size out of limit")
INVALID_PARAM = (40035, "invalid parameter")
# WeCom publishes no code for a response_url used twice or unknown; any code that is not a rate
# limit or "system busy" is final for the sender, which is what a spent response_url is.
RESPONSE_URL_SPENT = (40035, "response_url invalid or already used")


class WeComServer:
    """Context manager: a local stand-in for WeCom's reply API (see the module docstring).

    ``webhook_url(key)`` is a webhook address for key ``key`` (every key is valid unless listed
    in ``invalid_keys``); ``new_response_url(chat_id)`` issues a fresh one-use response_url for a
    conversation. Accepted messages are in ``messages`` as ``{"kind", "key", "chat_id", "body",
    "mentioned", "text"}``. ``webhook_per_min`` / ``conversation_per_min`` are WeCom's limits
    (20, 30); ``clock`` (seconds, monotonic) times their one-minute windows."""

    def __init__(self, clock=time.monotonic, webhook_per_min: int = WEBHOOK_PER_MIN,
                 conversation_per_min: int = CONVERSATION_PER_MIN):
        self.webhook_per_min = webhook_per_min
        self.conversation_per_min = conversation_per_min
        self.messages: list[dict] = []
        self.requests: list[dict] = []
        self.invalid_keys: set[str] = set()
        self.clock = clock
        self._responses: dict[str, dict] = {}   # token -> {"chat_id", "used"}
        self._windows: dict[str, deque] = {}
        self._fail: list[tuple[int, int | None, str]] = []  # (http status, errcode, errmsg)
        self._cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # keep-alive, as WeCom's API servers do
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0) or 0)
                raw = self.rfile.read(n)
                status, reply = outer._handle(self.path, raw)
                data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- addresses -------------------------------------------------------------------------
    def webhook_url(self, key: str = "test-key") -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    def new_response_url(self, chat_id: str | None = None) -> str:
        token = secrets.token_hex(8)
        with self._cond:
            self._responses[token] = {"chat_id": chat_id, "used": False}
        return f"{self.base_url}/aibot/response/{token}"

    # -- control ---------------------------------------------------------------------------
    def fail_next(self, n: int, errcode: int | None = -1, errmsg: str = "system busy", status: int = 200) -> None:
        """Answer the next ``n`` requests with ``status`` and ``{"errcode": errcode}`` (or, with
        ``errcode=None``, an HTTP error without a WeCom body) without accepting them."""
        with self._cond:
            self._fail.extend([(status, errcode, errmsg)] * n)

    def texts(self) -> list[str]:
        """The content of every accepted message, in order."""
        with self._cond:
            return [m["text"] for m in self.messages]

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        """Block until ``n`` messages were accepted (or ``timeout`` seconds); the messages."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.messages)

    # -- protocol --------------------------------------------------------------------------
    def _limited(self, key: str, per_min: int) -> bool:
        now = self.clock()
        q = self._windows.setdefault(key, deque())
        while q and q[0] <= now - 60.0:
            q.popleft()
        if len(q) >= per_min:
            return True
        q.append(now)
        return False

    def _handle(self, path: str, raw: bytes) -> tuple[int, dict]:
        with self._cond:
            status, reply, record = self._check(path, raw)
            self.requests.append({"path": path, "raw": raw, "status": status, "reply": reply})
            if record is not None:
                self.messages.append(record)
            self._cond.notify_all()
            return status, reply

    def _check(self, path: str, raw: bytes):
        def err(code_msg, status=200):
            return status, {"errcode": code_msg[0], "errmsg": code_msg[1]}, None

        if self._fail:
            status, code, msg = self._fail.pop(0)
            return status, ({"errcode": code, "errmsg": msg} if code is not None else {}), None
        u = urlsplit(path)
        if u.path == "/cgi-bin/webhook/send":
            kind = "webhook"
            key = parse_qs(u.query).get("key", [""])[0]
            if not key or key in self.invalid_keys:
                return err(INVALID_WEBHOOK)
            chat_id = None
        elif u.path.startswith("/aibot/response/"):
            kind = "response_url"
            key = u.path.rsplit("/", 1)[-1]
            entry = self._responses.get(key)
            if entry is None or entry["used"]:
                return err(RESPONSE_URL_SPENT)
            chat_id = entry["chat_id"]
        else:
            return 404, {"errcode": 404, "errmsg": "not found"}, None
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return err(INVALID_PARAM)
        if not isinstance(body, dict):
            return err(INVALID_PARAM)
        msgtype = body.get("msgtype")
        allowed = ("text", "markdown") if kind == "webhook" else ("markdown", "text")
        if msgtype not in allowed or not isinstance(body.get(msgtype), dict):
            return err(INVALID_MSGTYPE)
        part = body[msgtype]
        content = part.get("content")
        if not isinstance(content, str) or not content:
            return err(EMPTY_CONTENT)
        if len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
            return err(CONTENT_TOO_LONG)
        mentioned = part.get("mentioned_list", [])
        if "mentioned_list" in part and (msgtype != "text" or not isinstance(mentioned, list)
                                         or not all(isinstance(m, str) and m for m in mentioned)):
            return err(INVALID_PARAM)
        if kind == "webhook" and self._limited(f"webhook:{key}", self.webhook_per_min):
            return err(RATE_LIMITED)
        if chat_id and self._limited(f"chat:{chat_id}", self.conversation_per_min):
            return err(RATE_LIMITED)
        if kind == "response_url":
            self._responses[key]["used"] = True
        return 200, {"errcode": 0, "errmsg": "ok"}, {
            "kind": kind, "key": key, "chat_id": chat_id, "body": body, "mentioned": list(mentioned),
            "text": content}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# -- what WeCom POSTs to a callback -------------------------------------------------------------
def robot_text_message(text: str, userid: str = "client01", chatid: str | None = "wrkSFfCgAAtest",
                       response_url: str | None = None, msgid: str | None = None, aibotid: str = "AIBOTID",
                       chattype: str | None = None) -> dict:
    """A decrypted intelligent-robot text message (doc 100719 shape); ``text`` as the client typed
    it, e.g. ``"@报价机器人 000905 雪球 1年 敲出103"``."""
    msg = {"msgid": msgid or uuid.uuid4().hex, "aibotid": aibotid}
    if chatid:
        msg["chatid"] = chatid
    msg["chattype"] = chattype or ("group" if chatid else "single")
    msg["from"] = {"userid": userid}
    if response_url:
        msg["response_url"] = response_url
    msg["msgtype"] = "text"
    msg["text"] = {"content": text}
    return msg


def app_text_xml(content: str, from_user: str = "client01", corpid: str = "wwtestcorp",
                 msgid: str | None = None, agent_id: str = "1000002", create_time: int | None = None) -> str:
    """A decrypted self-built-app text message (the official sample's XML shape)."""
    msgid = msgid or str(int(time.time() * 1e6))
    t = int(time.time()) if create_time is None else create_time
    return (f"<xml><ToUserName><![CDATA[{corpid}]]></ToUserName>\n"
            f"<FromUserName><![CDATA[{from_user}]]></FromUserName>\n"
            f"<CreateTime>{t}</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
            f"<Content><![CDATA[{content}]]></Content>\n<MsgId>{msgid}</MsgId>\n"
            f"<AgentID>{agent_id}</AgentID>\n</xml>")


def _query(crypto: WeComCrypto, encrypt: str, timestamp, nonce) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(nonce if nonce is not None else secrets.randbelow(10 ** 10))
    return {"msg_signature": crypto.signature(ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}


def sign_and_encrypt_robot(crypto: WeComCrypto, message: dict, timestamp=None, nonce=None,
                           random16: bytes | None = None) -> tuple[dict, bytes]:
    """``(query, body)`` of the intelligent robot's POST for ``message``: the body
    ``{"encrypt": ...}``, the query msg_signature/timestamp/nonce (timestamp now by default)."""
    plain = json.dumps(message, ensure_ascii=False).encode("utf-8")
    encrypt = crypto.encrypt(plain, random16)
    return _query(crypto, encrypt, timestamp, nonce), build_json_envelope(encrypt)


def sign_and_encrypt_app(crypto: WeComCrypto, xml: str, agent_id: str = "1000002", timestamp=None, nonce=None,
                         random16: bytes | None = None) -> tuple[dict, bytes]:
    """``(query, body)`` of a self-built app's POST for the message ``xml``: the XML envelope
    with ToUserName (the receive id), Encrypt and AgentID."""
    encrypt = crypto.encrypt(xml.encode("utf-8"), random16)
    body = build_xml_envelope(encrypt, to_user=crypto.receive_id, agent_id=agent_id)
    return _query(crypto, encrypt, timestamp, nonce), body


def verification_query(crypto: WeComCrypto, echo_plain: str = "1616140317555161061", timestamp=None,
                       nonce=None) -> dict:
    """The query of WeCom's URL-verification GET whose echostr decrypts to ``echo_plain``."""
    echostr = crypto.encrypt(echo_plain.encode("utf-8"))
    return {**_query(crypto, echostr, timestamp, nonce), "echostr": echostr}


def post_callback(url: str, query: dict, body: bytes, client: httpx.Client | None = None) -> httpx.Response:
    """POST ``body`` to the callback ``url`` with ``query``, as WeCom does (query percent-encoded)."""
    ctype = "text/xml" if body.lstrip().startswith(b"<") else "application/json"
    headers = {"Content-Type": ctype, "User-Agent": "Mozilla/4.0"}
    if client is not None:
        return client.post(url, params=query, content=body, headers=headers)
    return httpx.post(url, params=query, content=body, headers=headers, timeout=10.0)


# -- a real server for an ASGI app ----------------------------------------------------------------
@contextlib.contextmanager
def serve_app(app, startup_timeout: float = 10.0):
    """Run ``app`` under uvicorn on 127.0.0.1 (a free port) in a daemon thread; yield its base URL
    (``http://127.0.0.1:PORT``); stop the server on exit. Logging is left to the test's config."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
