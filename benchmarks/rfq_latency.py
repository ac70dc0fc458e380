"""Per-message parse latency of the RFQ parser on CPU (p50 / p99 / mean, microseconds).

    .venv/bin/python benchmarks/rfq_latency.py [--repeat 5]

Messages: the issue's examples and the hand-written set (tests/rfq/data). Rows: the rules-only
pipeline (baseline) and the full pipeline (rules + NER, beam confidences when the NER adds
something), measured in the same run after a warm-up; load time is reported separately.
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


if __name__ == "__main__":
    main()
