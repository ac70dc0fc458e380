"""``parse``: one chat message in, a list of quote requests out."""
from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError
from .builder import build_requests
from .normalize import normalize
from .request import QuoteRequest
from .underlyings import load_underlyings

MAX_CHARS = 10_000  # longer than any chat message; bounds the work per call (~1 s at the limit)


def parse(text: str | bytes, *, underlyings: list[str | Path] | tuple = (), use_model: bool = True,
          model: str | None = None) -> list[QuoteRequest]:
    """Quote requests stated in one chat message (an empty list if it asks for none).

    ``text``: the message (str, or UTF-8 bytes). ``underlyings``: extra underlying files (JSON,
    see ``underlyings.py``). ``use_model``: False runs the rules only. ``model``: NER directory
    instead of the shipped one. Raises InputError for undecodable bytes or a message longer than
    MAX_CHARS characters.
    """
    from .pipeline import find, load_pipeline

    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"message is not UTF-8 text ({exc.reason} at byte {exc.start})", field="text") from exc
    if not isinstance(text, str):
        raise InputError(f"message must be text, got {type(text).__name__}", field="text")
    if len(text) > MAX_CHARS:
        raise InputError(f"message has {len(text)} characters; at most {MAX_CHARS} are parsed", field="text")
    norm = normalize(text)
    if not norm.text.strip():
        return []
    table = load_underlyings(tuple(underlyings))
    nlp = load_pipeline(model, use_model)
    return build_requests(norm, find(norm, table, nlp))
