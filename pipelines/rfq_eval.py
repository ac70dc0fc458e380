"""Evaluate the RFQ parser on labelled JSONL sets (default: every hand-written set).

    .venv/bin/python pipelines/rfq_eval.py [FILE ...] [--rules-only] [--errors] [--model DIR]
    .venv/bin/python pipelines/rfq_eval.py --learning [--retrained DIR] [--errors]

Prints field-level precision / recall / F1 (micro over fields) and exact-message accuracy per
file, then a one-line summary per file.

``--learning`` shows what training on traders' corrections does (issue 14): unless
``--retrained`` names a model, it retrains the shipped NER on tests/rfq/data/learning_train.jsonl
(``otclab.rfq.learning.retrain``, the defaults of ``otclab rfq train``), then scores the held-out
set tests/rfq/data/learning_heldout.jsonl, which training never sees, with the shipped and the
retrained model, per class of message, and the four older sets with both (to show nothing
regressed). Prints a markdown table.
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


def evaluate(path: Path, use_model: bool = True, errors: bool = False, model: str | None = None,
             by_class: dict[str, Score] | None = None) -> Score:
    """Score of the parser on the labelled messages of ``path``; with ``by_class`` also one
    Score per row's ``class``."""
    score = Score()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        got = [r.to_dict() for r in parse(row["text"], use_model=use_model, model=model)]
        if by_class is not None:
            by_class.setdefault(row.get("class", "-"), Score()).add(got, row["requests"])
        if not score.add(got, row["requests"]) and errors:
            print(f"MISS {row['text']!r}\n  got {got}\n  exp {row['requests']}")
    return score


TRAIN = DATA / "learning_train.jsonl"
HELDOUT = DATA / "learning_heldout.jsonl"


def learning(retrained: str | None, errors: bool) -> None:
    """The before/after table of training on corrections (see module doc)."""
    import tempfile
    import time

    from otclab.rfq.learning import labelled_to_corrections, read_jsonl, retrain
    from otclab.rfq.pipeline import model_path

    shipped = str(model_path())
    if retrained is None:
        retrained = tempfile.mkdtemp(prefix="rfq-retrained-")
        rows = read_jsonl(TRAIN, "training set")
        t0 = time.perf_counter()
        r = retrain(retrained, labelled_to_corrections(rows), log=lambda *_: None)
        print(f"retrained on {TRAIN.name}: {r.messages} messages, {r.placed} values placed on a new span, {r.kept} "
              f"already right, {len(r.skipped)} skipped; {r.synthetic} synthetic per pass, {r.epochs} epochs, seed "
              f"{r.seed}: {time.perf_counter() - t0:.0f} s -> {retrained}")
    train_texts = {json.loads(l)["text"] for l in TRAIN.read_text(encoding="utf-8").splitlines() if l.strip()}
    held_texts = {json.loads(l)["text"] for l in HELDOUT.read_text(encoding="utf-8").splitlines() if l.strip()}
    assert not train_texts & held_texts, "a held-out message is in the training set"
    results = {}
    for name, model in (("shipped", shipped), ("retrained", retrained)):
        classes: dict[str, Score] = {}
        if errors:
            print(f"\n--- {name} model on {HELDOUT.name}")
        total = evaluate(HELDOUT, errors=errors, model=model, by_class=classes)
        older = {p.name: evaluate(p, model=model) for p in DEFAULT}
        results[name] = (total, classes, older)
    print(f"\nHeld-out set {HELDOUT.name} ({results['shipped'][0].messages} messages, never trained on); "
          f"field-level F1 (precision / recall) and exact messages, shipped NER vs retrained on "
          f"{TRAIN.name}:\n")
    print("| class | messages | shipped F1 (P / R) | shipped exact | retrained F1 (P / R) | retrained exact |")
    print("| --- | --- | --- | --- | --- | --- |")

    def cells(s: Score) -> str:
        p, r, f = s.overall()
        return f"{f:.3f} ({p:.3f} / {r:.3f}) | {s.exact}/{s.messages}"
    for cls in sorted(results["shipped"][1]):
        a, b = results["shipped"][1][cls], results["retrained"][1][cls]
        print(f"| {cls} | {a.messages} | {cells(a)} | {cells(b)} |")
    print(f"| **all** | {results['shipped'][0].messages} | {cells(results['shipped'][0])} | "
          f"{cells(results['retrained'][0])} |")
    for name in results["shipped"][2]:
        a, b = results["shipped"][2][name], results["retrained"][2][name]
        print(f"| older set {name} | {a.messages} | {cells(a)} | {cells(b)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--rules-only", action="store_true", help="run without the trained NER")
    ap.add_argument("--errors", action="store_true", help="print messages not parsed exactly")
    ap.add_argument("--model", help="NER model directory (default: OTCLAB_RFQ_MODEL or the shipped one)")
    ap.add_argument("--learning", action="store_true", help="before/after table of training on corrections")
    ap.add_argument("--retrained", help="with --learning: a retrained model directory (default: retrain now)")
    args = ap.parse_args()
    if args.learning:
        learning(args.retrained, args.errors)
        return
    summary = []
    for path in args.files:
        s = evaluate(path, use_model=not args.rules_only, errors=args.errors, model=args.model)
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
