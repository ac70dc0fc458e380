"""WeCom (企业微信) adapter: the callback's encryption (``crypto``), the callback ASGI app
(``callback``), the decrypted message's fields (``message``) and the replies (``outbound``).

See docs/wecom.md for the configuration and the limits."""
from .callback import InboundMessage, WeComConfig, create_app
from .crypto import WeComCrypto
from .errors import WeComError
from .outbound import OutboundTarget, RateLimiter, SendResult, backoff, send

__all__ = ["InboundMessage", "WeComConfig", "create_app", "WeComCrypto", "WeComError", "OutboundTarget",
           "RateLimiter", "SendResult", "backoff", "send"]
