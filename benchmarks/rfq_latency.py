"""Per-message parse latency of the RFQ parser on CPU (p50 / p99 / mean, microseconds).

    .venv/bin/python benchmarks/rfq_latency.py [--repeat 5]

Messages: the issue's examples and the hand-written set (tests/rfq/data). Rows: the rules-only
pipeline (baseline) and the full pipeline (rules + NER, beam confidences when the NER adds
something), measured in the same run after a warm-up; load time is reported separately.

Then messages at the length limit (MAX_CHARS - 1 characters), best of ``--repeat-long`` runs:
ordinary text (CJK characters asking for nothing: the baseline) against hostile shapes that made
the parser quadratic before issue 12 (9,999 digits took about 60 s), each also as a ratio to the
baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "rfq" / "data"


def messages() -> list[str]:
    out = []
    for name in ("rfq_examples.jsonl", "handwritten.jsonl"):
        out += [json.loads(l)["text"] for l in (DATA / name).read_text(encoding="utf-8").splitlines() if l.strip()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--repeat-long", type=int, default=3, help="runs per message at the length limit (best kept)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    from otclab.rfq import parse

    parse("中证500 雪球 103 75 1年 票息多少")  # loads spaCy and the model
    load_s = time.perf_counter() - t0
    texts = messages()
    print(f"{len(texts)} messages x {args.repeat} repeats, CPU: {platform.processor() or platform.machine()}, "
          f"load {load_s:.2f} s")
    print(f"{'pipeline':<16}{'p50 us':>10}{'p99 us':>10}{'mean us':>10}{'max us':>10}{'msg/s':>10}")
    for name, use_model in (("rules only", False), ("rules + NER", True)):
        for t in texts:  # warm-up
            parse(t, use_model=use_model)
        lat = []
        for _ in range(args.repeat):
            for t in texts:
                s = time.perf_counter()
                parse(t, use_model=use_model)
                lat.append(time.perf_counter() - s)
        a = np.array(lat) * 1e6
        print(f"{name:<16}{np.percentile(a, 50):>10.0f}{np.percentile(a, 99):>10.0f}{a.mean():>10.0f}"
              f"{a.max():>10.0f}{1e6 / a.mean():>10.0f}")
    long_messages(args.repeat_long)


def long_messages(repeat: int) -> None:
    from otclab.core.errors import InputError
    from otclab.rfq import MAX_CHARS, parse

    n = MAX_CHARS - 1
    shapes = {
        "ordinary (baseline)": "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(n)),
        "request repeated": ("中证500 雪球 敲出103 敲入75 1年 票息多少 " * n)[:n],
        "digits": "1" * n,
        "number list 1/1/..": ("1/" * n)[:n],
        "Chinese numerals": "一" * n,
        "lines '500 1年'": ("500 1年\n" * n)[:n],
        "clauses '500 1年,'": ("500 1年," * n)[:n],
        "U+FDFA (NFKC x18)": "\ufdfa" * n,
    }

    def best(text: str, use_model: bool) -> tuple[float, str]:
        t, what = float("inf"), ""
        for _ in range(repeat):
            s = time.perf_counter()
            try:
                what = f"{len(parse(text, use_model=use_model))} requests"
            except InputError as exc:
                what = "InputError: " + exc.message[:40]
            t = min(t, time.perf_counter() - s)
        return t, what

    print(f"\nmessages of {n:,} characters (best of {repeat}); ratio = time / ordinary text, same pipeline")
    print(f"{'message':<22}{'rules s':>9}{'ratio':>7}{'+NER s':>9}{'ratio':>7}  outcome")
    base = {}
    for name, text in shapes.items():
        r, _ = best(text, False)
        m, what = best(text, True)
        base.setdefault("r", r), base.setdefault("m", m)
        print(f"{name:<22}{r:>9.3f}{r / base['r']:>7.2f}{m:>9.3f}{m / base['m']:>7.2f}  {what}")


if __name__ == "__main__":
    main()
