"""Rebuild the RFQ NER shipped in otclab/rfq/data/ner from synthetic data and a seed.

    .venv/bin/python pipelines/rfq_train.py --seed 0 --n 4000 --epochs 12 --out otclab/rfq/data/ner

Same seed, same spaCy version: same model. Runs on CPU in a few minutes (2 cores).
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread: reproducible sums

from otclab.rfq.training import evaluate_ner, train_ner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=4000, help="synthetic messages")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--out", default="otclab/rfq/data/ner")
    ap.add_argument("--eval-only", action="store_true", help="only score the model at --out on fresh synthetic data")
    args = ap.parse_args()
    if not args.eval_only:
        t0 = time.perf_counter()
        train_ner(args.out, seed=args.seed, n=args.n, epochs=args.epochs)
        print(f"saved {args.out} in {time.perf_counter() - t0:.0f}s")
    s = evaluate_ner(args.out, seed=args.seed + 1000)
    print(f"NER alone on 500 fresh synthetic messages (seed {args.seed + 1000}): "
          f"P {s['ents_p']:.3f} R {s['ents_r']:.3f} F1 {s['ents_f']:.3f}")
    for label, v in sorted(s["per_type"].items()):
        print(f"  {label:<16} P {v['p']:.3f} R {v['r']:.3f} F1 {v['f']:.3f}")


if __name__ == "__main__":
    main()
