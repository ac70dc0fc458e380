"""Rebuild the RFQ NER shipped in otclab/rfq/data/ner from synthetic data and a seed.

    .venv/bin/python pipelines/rfq_train.py --seed 0 --n 4000 --epochs 12 --out otclab/rfq/data/ner

Same seed, same spaCy version: same model. Runs on CPU in a few minutes (2 cores).

    .venv/bin/python pipelines/rfq_train.py --corrections FILE.jsonl [--train-set FILE] --out DIR

fine-tunes the shipped model on traders' corrections (and labelled messages) instead: the same as
``otclab rfq train`` (``otclab.rfq.learning.retrain``), about half a minute.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread: reproducible sums

from otclab.rfq.learning import labelled_to_corrections, read_jsonl, retrain
from otclab.rfq.training import evaluate_ner, train_ner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=4000, help="synthetic messages")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--out", default="otclab/rfq/data/ner")
    ap.add_argument("--eval-only", action="store_true", help="only score the model at --out on fresh synthetic data")
    ap.add_argument("--corrections", action="append", default=[], help="fine-tune on this corrections JSONL (repeatable)")
    ap.add_argument("--train-set", help="with --corrections: also these labelled messages {text, requests}")
    args = ap.parse_args()
    if args.corrections or args.train_set:
        rows = [c for f in args.corrections for c in read_jsonl(f, "corrections")]
        if args.train_set:
            rows += labelled_to_corrections(read_jsonl(args.train_set, "training set"))
        r = retrain(args.out, rows, seed=args.seed)
        print(f"{r.messages} messages, {r.placed} values placed, {r.kept} already right, {len(r.skipped)} skipped; "
              f"saved {r.out_dir}")
        return
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
