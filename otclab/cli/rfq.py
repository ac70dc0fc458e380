"""``otclab rfq``: parse Chinese chat quote requests into structured requests."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

NAME = "rfq"
app = typer.Typer(help="RFQ chat parser: chat messages to structured quote requests.", no_args_is_help=True)


@app.callback()
def _rfq() -> None:
    """RFQ chat parser: chat messages to structured quote requests."""


@app.command("parse")
def parse_cmd(
    text: str = typer.Argument(..., help="The chat message, or '-' to read it from stdin (UTF-8)."),
    as_json: bool = typer.Option(False, "--json", help="Print the requests as a JSON list on stdout."),
    meta: bool = typer.Option(False, "--meta", help="With --json: add spans and confidence per field."),
    underlyings: Optional[List[Path]] = typer.Option(None, "--underlyings", help="Extra underlyings JSON file (repeatable)."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Do not run the trained NER."),
) -> None:
    """Parse one message; prints one line per request (or JSON with --json)."""
    from ..core.errors import InputError
    from ..rfq import parse
    from ..rfq.parser import max_chars

    limit = max_chars()
    if text == "-":
        # read no more than a message at the limit can take (4 bytes per UTF-8 character, and a
        # BOM): an endless stdin (/dev/zero, a runaway pipe) is refused, not read into memory
        raw = sys.stdin.buffer.read(4 * limit + 4)
        if len(raw) > 4 * limit + 3:
            raise InputError(f"stdin holds more than {limit} characters; at most {limit} are parsed "
                             f"(OTCLAB_RFQ_MAX_CHARS)", field="text")
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark is not part of the message
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"stdin is not UTF-8 text ({exc.reason} at byte {exc.start})", field="text") from exc
    requests = parse(text, underlyings=tuple(underlyings or ()), use_model=not rules_only, limit=limit)
    if as_json:
        print(json.dumps([r.to_dict(with_meta=meta) for r in requests], ensure_ascii=False))
        return
    if not requests:
        print("no quote request found")
    for i, r in enumerate(requests, 1):
        print(f"{i}. " + "  ".join(f"{k}={v}" for k, v in r.to_dict().items()))
