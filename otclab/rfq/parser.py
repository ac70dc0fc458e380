"""``parse``: one chat message in, a list of quote requests out."""
from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import InputError
from .builder import build_requests
from .normalize import TooLong, normalize
from .request import QuoteRequest
from .underlyings import load_underlyings

MAX_CHARS = 10_000  # longer than any chat message; bounds the work per call (see docs/rfq.md)
MAX_CHARS_ENV = "OTCLAB_RFQ_MAX_CHARS"
MAX_CHARS_CEILING = 100_000  # what OTCLAB_RFQ_MAX_CHARS may raise the limit to


def max_chars() -> int:
    """The characters-per-message limit: ``$OTCLAB_RFQ_MAX_CHARS`` if set (1 to 100,000), else
    ``MAX_CHARS``; ``InputError`` naming the variable for anything else."""
    raw = os.environ.get(MAX_CHARS_ENV, "").strip()
    if not raw:
        return MAX_CHARS
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_CHARS_CEILING:
        raise InputError(f"must be a whole number of characters from 1 to {MAX_CHARS_CEILING:,}, got {raw!r}",
                         field=MAX_CHARS_ENV)
    return n


def parse(text: str | bytes, *, underlyings: list[str | Path] | tuple = (), use_model: bool = True,
          model: str | None = None, limit: int | None = None, pool: str | Path | None = None) -> list[QuoteRequest]:
    """Quote requests stated in one chat message (an empty list if it asks for none).

    ``text``: the message (str, or UTF-8 bytes). ``underlyings``: extra underlying files (TOML or
    JSON, see ``pool.py``). ``pool``: the pool file (underlyings and jargon) instead of
    $OTCLAB_RFQ_POOL or the shipped ``data/pool.toml``. ``use_model``: False runs the rules only. ``model``: NER directory
    instead of the shipped one. ``limit``: characters per message (default ``max_chars()``:
    MAX_CHARS or $OTCLAB_RFQ_MAX_CHARS). Raises InputError (field ``text``) for undecodable bytes
    or a message longer than the limit, as sent or once normalised (NFKC can turn one character
    into up to 18); the parser's work grows linearly with the length up to there.
    """
    from .pipeline import find, load_pipeline

    limit = max_chars() if limit is None else limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"must be a whole number of characters of at least 1, got {limit!r}", field="limit")
    if isinstance(text, (bytes, bytearray)):
        if len(text) > 4 * limit + 3:  # more bytes than `limit` UTF-8 characters (and a BOM) can take
            raise InputError(f"message has more than {limit} characters ({len(text):,} bytes); "
                             f"at most {limit} are parsed ({MAX_CHARS_ENV})", field="text")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"message is not UTF-8 text ({exc.reason} at byte {exc.start})", field="text") from exc
    if not isinstance(text, str):
        raise InputError(f"message must be text, got {type(text).__name__}", field="text")
    if len(text) > limit:
        raise InputError(f"message has {len(text):,} characters; at most {limit} are parsed ({MAX_CHARS_ENV})",
                         field="text")
    try:
        norm = normalize(text, max_chars=limit)
    except TooLong:
        raise InputError(f"message has more than {limit} characters once normalised (NFKC expands some "
                         f"characters, e.g. ligatures); at most {limit} are parsed ({MAX_CHARS_ENV})",
                         field="text") from None
    if not norm.text.strip():
        return []
    table = load_underlyings(tuple(underlyings), pool)
    nlp = load_pipeline(model, use_model)
    return build_requests(norm, find(norm, table, nlp), table.jargon)
