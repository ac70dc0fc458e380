"""The WeCom callback as an ASGI app (Starlette): URL verification and encrypted messages.

``create_app(config, sink, on_refused)`` serves one path (``config.path``):

- ``GET ?msg_signature&timestamp&nonce&echostr`` -- URL verification: the signature is checked over
  ``echostr``, which is decrypted and answered as the bare plaintext (``text/plain``, no quotes, BOM
  or newline), as WeCom requires within 1 s;
- ``POST ?msg_signature&timestamp&nonce`` with an XML (app) or JSON (intelligent robot) envelope --
  the timestamp must be an integer within ``max_skew_s`` seconds of now, the body at most
  ``max_body_bytes``, the signature right (constant-time comparison), the ciphertext decryptable and
  for this callback's receive id. The message is parsed into an ``InboundMessage`` (text messages
  and every other msgtype and event alike: nothing is dropped) and handed to ``sink(msg) -> bool``,
  run in a worker thread *before* answering, so the message is persisted by the time WeCom hears
  200. The sink returns False for a msgid it has seen (a WeCom retry): logged ``duplicate msgid``
  and answered 200 too. The answer is 200 with an empty body in both cases: pricing and the reply
  happen asynchronously (WeCom waits 5 s, then retries up to 3 times).

A refused request is answered 4xx (403 signature / receive id / stale timestamp, 400 malformed,
413 too large), logged on logger ``otclab.wecom`` and reported to
``on_refused(reason, raw_body, query)`` so the caller can persist it; ``reason`` is the
``WeComError`` text ``"<kind>: <detail>"``. A sink that raises is logged and answered 500, so WeCom
retries; the exception is not swallowed into a 200.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .crypto import WeComCrypto
from .errors import WeComError
from .message import parse_message

log = logging.getLogger("otclab.wecom")

CHANNELS = ("robot", "app")


@dataclass(frozen=True)
class WeComConfig:
    """One callback's settings, as entered in the WeCom admin console.

    ``token`` and ``encoding_aes_key`` (43 characters) are the callback's Token and EncodingAESKey;
    ``receive_id`` is the corpid for a self-built app and ``""`` for the intelligent robot / group
    robot; ``channel`` ``"robot"`` or ``"app"`` labels the messages; ``path`` is where WeCom calls;
    ``max_skew_s`` the accepted distance (seconds) between the request's timestamp and now (None:
    not checked); ``max_body_bytes`` the largest POST body accepted; ``bot_name`` the robot's
    display name, when known, so that exactly ``@bot_name`` is stripped from the text."""

    token: str
    encoding_aes_key: str
    receive_id: str = ""
    channel: str = "robot"
    path: str = "/wecom/callback"
    max_skew_s: float | None = 300
    max_body_bytes: int = 256 * 1024
    bot_name: str | None = None

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise WeComError("bad_key", f"channel {self.channel!r} unknown; allowed {', '.join(CHANNELS)}",
                             field="channel")
        if not self.path.startswith("/"):
            raise WeComError("bad_key", f"path {self.path!r} must start with '/'", field="path")
        if self.max_body_bytes <= 0:
            raise WeComError("bad_key", "max_body_bytes must be a positive number of bytes", field="max_body_bytes")


@dataclass(frozen=True)
class InboundMessage:
    """One decrypted callback message, with the request it came in (for the audit trail).

    ``raw_body`` is the body exactly as received (still encrypted); ``query`` its msg_signature,
    timestamp and nonce; ``plaintext`` the decrypted XML/JSON; ``text`` the content with the leading
    @bot mention stripped (``""`` for events and non-text messages; ``msgtype`` says which);
    ``sender`` the WeCom userid; ``chat_id``/``chat_type`` the conversation (None for a 1:1 app
    message without them); ``response_url`` (intelligent robot: POST the reply once, within 1 h) and
    ``webhook_url`` (group-robot callback) where a reply can go; ``received_at`` aware UTC."""

    channel: str
    msgid: str
    raw_body: bytes
    query: dict
    plaintext: str
    text: str
    sender: str
    chat_id: str | None
    chat_type: str | None
    response_url: str | None
    webhook_url: str | None
    msgtype: str
    received_at: datetime


Sink = Callable[[InboundMessage], bool]
OnRefused = Callable[[str, bytes, dict], None]

_QUERY_KEYS = ("msg_signature", "timestamp", "nonce")


def _query(request: Request) -> dict:
    q = {k: request.query_params[k] for k in request.query_params.keys()}
    # Query decoding turns '+' into ' '; base64 (echostr) never holds a space, so a space was a '+'
    # that the sender did not percent-encode.
    if "echostr" in q:
        q["echostr"] = q["echostr"].replace(" ", "+")
    return q


def _check_query(q: dict, needed: tuple[str, ...], max_skew_s: float | None, now: float) -> None:
    missing = [k for k in needed if not q.get(k)]
    if missing:
        raise WeComError("missing_query", f"query parameter(s) {', '.join(missing)} missing; "
                                          f"WeCom sends {', '.join(needed)}")
    ts = q["timestamp"]
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
        raise WeComError("malformed_timestamp", f"timestamp {ts[:32]!r} is not whole seconds since 1970")
    age = now - int(ts)
    if max_skew_s is not None and abs(age) > max_skew_s:
        when = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s in the future"
        raise WeComError("stale_timestamp", f"timestamp {ts} is {when}; allowed within {max_skew_s:g} s of now")


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (``oversized``) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise WeComError("oversized", f"body is {declared} bytes; at most {limit} accepted")
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise WeComError("oversized", f"body is more than {limit} bytes; at most {limit} accepted")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(config: WeComConfig, sink: Sink, on_refused: OnRefused | None = None,
               clock: Callable[[], float] = time.time) -> Starlette:
    """The callback app for ``config``. ``sink(msg)`` persists a message and returns True if new,
    False for a msgid already seen; ``on_refused(reason, raw_body, query)`` hears every refusal
    (``raw_body`` is empty for an oversized body, which is not read past the limit). ``clock`` gives now in
    seconds since 1970 (the freshness check and ``received_at``)."""
    crypto = WeComCrypto(config.token, config.encoding_aes_key, config.receive_id)

    async def refuse(request: Request, err: WeComError, raw: bytes, q: dict) -> Response:
        client = request.client.host if request.client else "?"
        log.warning("refused %s %s from %s: %s", request.method, config.path, client, err)
        if on_refused is not None:
            await run_in_threadpool(on_refused, str(err), raw, q)
        return PlainTextResponse(err.kind, status_code=err.status)

    async def verify(request: Request) -> Response:
        q = _query(request)
        try:
            _check_query(q, _QUERY_KEYS + ("echostr",), config.max_skew_s, clock())
            plain = crypto.verify_url(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        except WeComError as err:
            return await refuse(request, err, b"", q)
        log.info("URL verification answered for %s", config.path)
        return Response(plain, status_code=200, media_type="text/plain")

    async def receive(request: Request) -> Response:
        q = _query(request)
        raw = b""
        try:
            # Body first, so that a refusal for the query still reports what was sent.
            raw = await _read_body(request, config.max_body_bytes)
            now = clock()
            _check_query(q, _QUERY_KEYS, config.max_skew_s, now)
            plain = crypto.decrypt_message(q["msg_signature"], q["timestamp"], q["nonce"], raw)
            f = parse_message(plain, config.bot_name)
        except WeComError as err:
            return await refuse(request, err, raw, q)
        msg = InboundMessage(
            channel=config.channel, msgid=f["msgid"], raw_body=raw,
            query={k: q[k] for k in _QUERY_KEYS}, plaintext=f["plaintext"], text=f["text"],
            sender=f["sender"], chat_id=f["chat_id"], chat_type=f["chat_type"],
            response_url=f["response_url"], webhook_url=f["webhook_url"], msgtype=f["msgtype"],
            received_at=datetime.fromtimestamp(now, timezone.utc))
        try:
            new = await run_in_threadpool(sink, msg)
        except Exception:
            log.exception("sink failed on msgid %s: answered 500 so that WeCom retries", msg.msgid)
            return PlainTextResponse("sink failed", status_code=500)
        if new is not False:
            log.info("received msgid %s (%s) from %s", msg.msgid, msg.msgtype, msg.sender)
        else:
            log.info("duplicate msgid %s (a WeCom retry): acknowledged, not processed again", msg.msgid)
        return Response(b"", status_code=200)

    async def endpoint(request: Request) -> Response:
        return await (verify(request) if request.method == "GET" else receive(request))

    return Starlette(routes=[Route(config.path, endpoint, methods=["GET", "POST"])])
