"""Evaluate the RFQ parser on labelled JSONL sets (default: every hand-written set).

    .venv/bin/python pipelines/rfq_eval.py [FILE ...] [--rules-only] [--errors]

Prints field-level precision / recall / F1 (micro over fields) and exact-message accuracy per
file, then a one-line summary per file.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from otclab.rfq import parse
from otclab.rfq.metrics import Score

DATA = Path(__file__).resolve().parents[1] / "tests" / "rfq" / "data"
# the hand-written sets in the order they were written (none is produced by the generator)
DEFAULT = [DATA / n for n in ("rfq_examples.jsonl", "handwritten.jsonl", "heldout.jsonl", "blind2.jsonl")]


def evaluate(path: Path, use_model: bool = True, errors: bool = False) -> Score:
    score = Score()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        got = [r.to_dict() for r in parse(row["text"], use_model=use_model)]
        if not score.add(got, row["requests"]) and errors:
            print(f"MISS {row['text']!r}\n  got {got}\n  exp {row['requests']}")
    return score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--rules-only", action="store_true", help="run without the trained NER")
    ap.add_argument("--errors", action="store_true", help="print messages not parsed exactly")
    args = ap.parse_args()
    summary = []
    for path in args.files:
        s = evaluate(path, use_model=not args.rules_only, errors=args.errors)
        print(f"\n{path.name}: {s.messages} messages, {'rules only' if args.rules_only else 'rules + NER'}")
        print(f"{'field':<16}{'tp':>5}{'fp':>5}{'fn':>5}{'prec':>8}{'recall':>8}{'f1':>8}")
        for k, tp, fp, fn, p, r, f in s.rows():
            print(f"{k:<16}{tp:>5}{fp:>5}{fn:>5}{p:>8.3f}{r:>8.3f}{f:>8.3f}")
        p, r, f = s.overall()
        print(f"{'ALL':<16}{sum(s.tp.values()):>5}{sum(s.fp.values()):>5}{sum(s.fn.values()):>5}{p:>8.3f}{r:>8.3f}{f:>8.3f}")
        print(f"exact-message accuracy {s.exact}/{s.messages} = {s.accuracy:.3f}")
        summary.append(f"{path.name:<22}{s.messages:>5}{p:>8.3f}{r:>8.3f}{f:>8.3f}{s.exact:>7}/{s.messages:<4}")
    if len(summary) > 1:
        print(f"\n{'set':<22}{'msgs':>5}{'prec':>8}{'recall':>8}{'f1':>8}{'exact':>12}")
        print("\n".join(summary))


if __name__ == "__main__":
    main()
