"""The one error a WeCom callback can raise: ``WeComError``, with the kind of refusal.

``kind`` is a short stable word (persisted with a refused request, used to choose the HTTP status);
``code`` is the matching error code of Tencent's official WXBizMsgCrypt library (-40001 bad signature,
-40005 wrong receive id, ...), so a log line can be compared with WeCom's own documentation.
"""
from __future__ import annotations

from ..core.errors import OtcError

# kind -> (official WXBizMsgCrypt code, HTTP status the callback answers)
KINDS: dict[str, tuple[int, int]] = {
    "bad_signature": (-40001, 403),
    "malformed_body": (-40002, 400),
    "bad_key": (-40004, 500),
    "wrong_receive_id": (-40005, 403),
    "undecryptable": (-40007, 400),
    "bad_padding": (-40007, 400),
    "bad_length": (-40008, 400),
    "bad_base64": (-40010, 400),
    "malformed_message": (-40002, 400),
    "missing_query": (-40001, 400),
    "malformed_timestamp": (-40001, 400),
    "stale_timestamp": (-40001, 403),
    "oversized": (-40008, 413),
}


class WeComError(OtcError):
    """A WeCom request or configuration the adapter refuses.

    ``str(err)`` is one line, ``"<kind>: <what is wrong and what is allowed>"``; ``kind`` is a key
    of ``KINDS``; ``code`` the official library's error code; ``status`` the HTTP status answered.
    """

    def __init__(self, kind: str, message: str, field: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown WeComError kind {kind!r}")
        self.kind = kind
        self.code, self.status = KINDS[kind]
        super().__init__(f"{kind}: {message}")
        self.field = field
