"""Replies to WeCom: one HTTP POST per message, classified so that a queue knows what to retry.

Two targets (operations notes §1.5-1.6):

- ``response_url`` (intelligent robot): the URL that came with the client's message, valid 1 hour
  and usable once; body ``{"msgtype": "markdown", "markdown": {"content": ...}}``, the people to
  notify mentioned inside the content as ``<@userid>``;
- ``webhook`` (group robot, ``.../cgi-bin/webhook/send?key=KEY``): body ``{"msgtype": "text",
  "text": {"content": ..., "mentioned_list": [userid, ...]}}``.

Content is at most ``MAX_CONTENT_BYTES`` (2048) bytes of UTF-8: a longer text is cut on a character
boundary and ends with ``TRUNCATION_MARKER``. WeCom answers ``{"errcode": 0, "errmsg": "ok"}``;
``RETRYABLE_ERRCODES`` (rate limits, system busy), HTTP 429/5xx and network errors are worth trying
again after ``backoff(attempt)``, every other errcode (93000 invalid webhook URL, a spent
response_url, content refused) is final. Nothing here persists: the quote workflow keeps the
outbound queue and calls ``send`` for each attempt.

``RateLimiter`` keeps WeCom's limits in one process: 20 messages a minute per group robot (webhook
key) and 30 a minute per conversation (reply and push together).
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

MAX_CONTENT_BYTES = 2048
TRUNCATION_MARKER = "…（已截断）"
TIMEOUT_S = 5.0

# errcodes that mean "not now": 45009 API frequency limit, 45033 too many concurrent calls,
# -1 system busy.
RETRYABLE_ERRCODES = frozenset({45009, 45033, -1})
TARGET_KINDS = ("response_url", "webhook")

WEBHOOK_PER_MIN = 20
CONVERSATION_PER_MIN = 30


@dataclass(frozen=True)
class OutboundTarget:
    """Where a reply goes: ``kind`` ``"response_url"`` or ``"webhook"``, its ``url``, and the
    conversation's ``chat_id`` (for the per-conversation rate limit), when known."""

    kind: str
    url: str
    chat_id: str | None = None

    def __post_init__(self):
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"OutboundTarget.kind {self.kind!r} unknown; allowed {', '.join(TARGET_KINDS)}")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"OutboundTarget.url must be an http(s) URL, got {self.url[:40]!r}")

    @property
    def rate_keys(self) -> list[str]:
        """The ``RateLimiter`` keys a message to this target counts against:
        ``webhook:<key>`` for a group robot, ``chat:<chat_id>`` for the conversation."""
        keys = []
        if self.kind == "webhook":
            key = parse_qs(urlsplit(self.url).query).get("key", [""])[0]
            keys.append(f"webhook:{key or self.url}")
        if self.chat_id:
            keys.append(f"chat:{self.chat_id}")
        return keys


@dataclass(frozen=True)
class SendResult:
    """The outcome of one POST: ``ok`` delivered; otherwise ``retryable`` says whether a later
    attempt may succeed; ``errcode`` WeCom's code when it answered one; ``error`` a one-line reason."""

    ok: bool
    retryable: bool
    errcode: int | None = None
    error: str | None = None


def truncate_utf8(text: str, limit: int = MAX_CONTENT_BYTES, marker: str = TRUNCATION_MARKER) -> str:
    """``text`` if its UTF-8 encoding fits in ``limit`` bytes; else its longest prefix that fits
    together with ``marker``, cut on a character boundary (never half a Chinese character)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    if room <= 0:
        return marker.encode("utf-8")[:limit].decode("utf-8", "ignore")
    return data[:room].decode("utf-8", "ignore") + marker


def build_body(target: OutboundTarget, text: str, mentioned: list[str]) -> dict:
    """The JSON body for ``target``; content at most ``MAX_CONTENT_BYTES`` bytes, mentions included
    (webhook: ``mentioned_list``; response_url: ``<@userid>`` before the markdown text)."""
    mentioned = [str(m) for m in (mentioned or []) if str(m)]
    if target.kind == "webhook":
        text_part: dict = {"content": truncate_utf8(text)}
        if mentioned:
            text_part["mentioned_list"] = mentioned
        return {"msgtype": "text", "text": text_part}
    prefix = "".join(f"<@{m}> " for m in mentioned)
    room = MAX_CONTENT_BYTES - len(prefix.encode("utf-8"))
    if room < 64:  # a mention list that eats the message: keep the message, not the mentions
        prefix, room = "", MAX_CONTENT_BYTES
    return {"msgtype": "markdown", "markdown": {"content": prefix + truncate_utf8(text, room)}}


def classify(status: int, payload) -> SendResult:
    """``SendResult`` of an HTTP answer: ``status`` and the parsed JSON ``payload`` (None if the
    body was not JSON)."""
    if status == 429 or status >= 500:
        return SendResult(False, True, None, f"HTTP {status}")
    if status >= 400:
        return SendResult(False, False, None, f"HTTP {status}")
    if not isinstance(payload, dict) or "errcode" not in payload:
        return SendResult(False, False, None, f"HTTP {status} with a reply that is not WeCom JSON")
    try:
        code = int(payload["errcode"])
    except (TypeError, ValueError):
        return SendResult(False, False, None, f"errcode {payload['errcode']!r} is not a number")
    if code == 0:
        return SendResult(True, False, 0, None)
    return SendResult(False, code in RETRYABLE_ERRCODES, code, f"errcode {code}: {payload.get('errmsg', '')}")


_shared: httpx.Client | None = None
_shared_lock = threading.Lock()


def _client() -> httpx.Client:
    """One pooled client for the process (thread-safe; keeps connections to WeCom open), made on
    first use: building a client loads the TLS trust store, tens of milliseconds each time."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = httpx.Client(timeout=TIMEOUT_S)
        return _shared


def send(target: OutboundTarget, text: str, mentioned: list[str], timeout: float = TIMEOUT_S,
         client: httpx.Client | None = None) -> SendResult:
    """POST ``text`` (mentioning the userids in ``mentioned``) to ``target`` once, with a
    ``timeout`` in seconds (through ``client``, or a pooled one of the process); never raises for a network or WeCom error, returns its ``SendResult``
    (network errors and timeouts are retryable: WeCom may not have received the message)."""
    body = json.dumps(build_body(target, text, mentioned), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    try:
        r = (client or _client()).post(target.url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as e:
        return SendResult(False, True, None, f"{type(e).__name__}: {e}")
    try:
        payload = r.json()
    except ValueError:
        payload = None
    return classify(r.status_code, payload)


def backoff(attempt: int, base_s: float = 2.0, cap_s: float = 300.0) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after ``attempt`` failures (1, 2, ...):
    ``base_s * 2**(attempt - 1)`` capped at ``cap_s`` -- 2, 4, 8, ... 256, 300, 300 s; 0 for
    ``attempt <= 0``. Deterministic, so a persisted queue computes the same due time after a
    restart."""
    if attempt <= 0:
        return 0.0
    return float(min(cap_s, base_s * 2 ** min(attempt - 1, 62)))


class RateLimiter:
    """Sliding one-minute windows per key, in this process.

    Keys ``webhook:...`` allow ``webhook_per_min`` (20) sends per ``window_s`` (60 s), keys
    ``chat:...`` ``conversation_per_min`` (30); any other key the stricter of the two.
    ``wait_time(key)`` is how long (seconds) until one more send fits; ``record(key)`` counts a
    send. Thread-safe. After a restart the windows start empty: the first sends may hit WeCom's own
    limit, which answers 45009 (retryable)."""

    def __init__(self, webhook_per_min: int = WEBHOOK_PER_MIN, conversation_per_min: int = CONVERSATION_PER_MIN,
                 window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.webhook_per_min = int(webhook_per_min)
        self.conversation_per_min = int(conversation_per_min)
        self.window_s = float(window_s)
        self.clock = clock
        self._sent: dict[str, deque] = {}
        self._lock = threading.Lock()

    def limit(self, key: str) -> int:
        """Sends allowed per window for ``key``."""
        if key.startswith("webhook:"):
            return self.webhook_per_min
        if key.startswith("chat:"):
            return self.conversation_per_min
        return min(self.webhook_per_min, self.conversation_per_min)

    def _window(self, key: str, now: float) -> deque:
        q = self._sent.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def wait_time(self, key: str) -> float:
        """Seconds until a send to ``key`` fits its limit (0.0: now)."""
        with self._lock:
            now = self.clock()
            q = self._window(key, now)
            n = self.limit(key)
            if len(q) < n:
                return 0.0
            return max(0.0, q[len(q) - n] + self.window_s - now)

    def record(self, key: str) -> None:
        """Count one send to ``key`` now."""
        with self._lock:
            now = self.clock()
            self._window(key, now).append(now)

    def wait_time_for(self, target: OutboundTarget) -> float:
        """The longest ``wait_time`` over ``target.rate_keys``."""
        return max([self.wait_time(k) for k in target.rate_keys], default=0.0)

    def record_for(self, target: OutboundTarget) -> None:
        """``record`` every key of ``target.rate_keys``."""
        for k in target.rate_keys:
            self.record(k)
