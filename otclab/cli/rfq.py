"""``otclab rfq``: parse Chinese chat quote requests, check the pool file, retrain from corrections."""
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
    underlyings: Optional[List[Path]] = typer.Option(None, "--underlyings", help="Extra underlyings file, TOML or JSON (repeatable)."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Do not run the trained NER."),
    pool: Optional[Path] = typer.Option(None, "--pool", help="Pool file (underlyings and jargon) instead of "
                                        "OTCLAB_RFQ_POOL or the shipped one."),
    model: Optional[Path] = typer.Option(None, "--model", help="NER model directory instead of OTCLAB_RFQ_MODEL "
                                         "or the shipped one (e.g. one written by 'rfq train')."),
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
    requests = parse(text, underlyings=tuple(underlyings or ()), use_model=not rules_only, limit=limit,
                     pool=pool, model=str(model) if model else None)
    if as_json:
        print(json.dumps([r.to_dict(with_meta=meta) for r in requests], ensure_ascii=False))
        return
    if not requests:
        print("no quote request found")
    for i, r in enumerate(requests, 1):
        print(f"{i}. " + "  ".join(f"{k}={v}" for k, v in r.to_dict().items()))


@app.command("pool")
def pool_cmd(
    pool: Optional[Path] = typer.Option(None, "--pool", help="Pool file to check (default: OTCLAB_RFQ_POOL or the "
                                        "shipped one)."),
    underlyings: Optional[List[Path]] = typer.Option(None, "--underlyings", help="Extra underlyings file (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Read the underlying pool and jargon file and print what it holds (a bad entry: one error
    naming its line and field, exit 2)."""
    from ..rfq.pool import load_pool, summary

    s = summary(load_pool(pool, tuple(underlyings or ())))
    if as_json:
        print(json.dumps(s, ensure_ascii=False))
        return
    print(f"pool {s['file']}: {s['underlyings']} underlyings ({s['names']} names, {s['nicknames']} nicknames, "
          f"{s['pinyin']} pinyin, {s['futures']} futures codes, {s['bare']} bare numbers)")
    print(f"structures: {', '.join(s['structures'])}; option types: {', '.join(s['option_types'])}; "
          f"tenor words: {', '.join(f'{w}={m:g}m' for w, m in s['tenor_words'].items())}")


def _default_train_set() -> Optional[Path]:
    """The repository's labelled training messages (tests/rfq/data/learning_train.jsonl), when
    otclab runs from a checkout."""
    p = Path(__file__).resolve().parents[2] / "tests" / "rfq" / "data" / "learning_train.jsonl"
    return p if p.is_file() else None


@app.command("train")
def train_cmd(
    out: Path = typer.Option(..., "--out", help="Model directory to write (use it with OTCLAB_RFQ_MODEL=DIR)."),
    store: Optional[str] = typer.Option(None, "--store", help="Database URL of the quote store: its traders' "
                                        "corrections (rfq_corrections) are trained on."),
    corrections: Optional[List[Path]] = typer.Option(None, "--corrections", help="JSONL file of corrections "
                                                     "{text, fields, parsed} (repeatable)."),
    train_set: Optional[Path] = typer.Option(None, "--train-set", help="Labelled messages {text, requests} "
                                             "(default: tests/rfq/data/learning_train.jsonl of the checkout)."),
    no_train_set: bool = typer.Option(False, "--no-train-set", help="Train on the corrections only."),
    base_model: Optional[Path] = typer.Option(None, "--base-model", help="Model to start from (default: "
                                              "OTCLAB_RFQ_MODEL or the shipped one)."),
    pool: Optional[Path] = typer.Option(None, "--pool", help="Pool file (default: OTCLAB_RFQ_POOL or the shipped one)."),
    epochs: int = typer.Option(6, "--epochs", min=1, max=50, help="Passes over the examples."),
    repeat: int = typer.Option(4, "--repeat", min=1, max=50, help="Copies of each corrected message per pass."),
    synthetic: int = typer.Option(300, "--synthetic", min=0, max=5000, help="Fresh synthetic messages mixed in "
                                  "per pass, so the model keeps what it knew."),
    seed: int = typer.Option(0, "--seed", help="Seed: same inputs and seed, same model."),
    force: bool = typer.Option(False, "--force", help="Replace a non-empty --out directory."),
) -> None:
    """Retrain the parser's NER with traders' corrections and the labelled training set; writes
    a model directory and prints what it trained on."""
    from ..core.errors import InputError
    from ..rfq.learning import labelled_to_corrections, read_jsonl, retrain

    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not force)):
        raise InputError(f"{out} exists and is not an empty folder; pass --force to replace it", field="--out")
    rows: list[dict] = []
    sources = []
    if store:
        from ..store.db import open_store
        from ..workflows.quotes.corrections import examples

        got = examples(open_store(store))
        rows += got
        sources.append(f"store {store}: {len(got)} corrected requests")
    for f in corrections or []:
        got = read_jsonl(f, "corrections")
        rows += got
        sources.append(f"{f}: {len(got)} corrected requests")
    ts = None if no_train_set else (train_set or _default_train_set())
    if ts is not None:
        labelled = read_jsonl(ts, "training set")
        got = labelled_to_corrections(labelled)
        rows += got
        sources.append(f"{ts}: {len(labelled)} labelled messages ({len(got)} requests)")
    if not rows:
        raise InputError("nothing to train on: no corrections (--store, --corrections) and no training set",
                         field="corrections")
    for line in sources:
        print(f"training on {line}")
    r = retrain(out, rows, base_model=base_model, pool=pool, seed=seed, epochs=epochs, repeat=repeat,
                synthetic=synthetic)
    print(f"{r.messages} messages: {r.placed} corrected values placed on a span, {r.kept} already right, "
          f"{len(r.skipped)} could not be placed (skipped)")
    for text, field, value in r.skipped[:20]:
        print(f"  skipped {field}={value!r}: no span of {text[:60]!r} reads as that value "
              f"(an underlying the pool does not know: add it to the pool file)")
    if len(r.skipped) > 20:
        print(f"  ... and {len(r.skipped) - 20} more")
    print(f"plus {r.synthetic} synthetic messages per pass; {r.epochs} epochs, seed {r.seed}; "
          f"loss {r.losses[0]:.1f} -> {r.losses[-1]:.1f}")
    print(f"wrote {r.out_dir}; use it with OTCLAB_RFQ_MODEL={r.out_dir} (or otclab rfq parse --model {r.out_dir})")
