"""Held-out confirmation accuracy (issue 17): before and after, text PDFs and scans.

Usage: python benchmarks/confirm_heldout.py [--n 36] [--seed 900001] [--dir DIR]
                                           [--before-commit bd128d4] [--show-errors]

Builds the held-out corpus (``otclab.confirm.heldout``: three counterparties' own layouts and
label wordings, half of the documents degraded scans) and reads every file three ways:

- ``before``: the extractor as it was at ``--before-commit`` (checked out with ``git archive``
  into a temporary folder and run there in a child process), no layouts;
- ``generic``: today's extractor without layouts (the generic improvements alone);
- ``after``: today's extractor with the shipped annotated layouts (one sample each).

Per route and reading it prints field accuracy (right / fields the truth states), wrong fields
(a stated field read wrong, or a field read that the document does not state), of those the
ones accepted without a break (confidence at or above ``layouts.threshold``), and right fields
sent to a person anyway (below threshold). Targets (issue 17): after, >= 0.99 on text PDFs,
>= 0.97 on scans, and 0 wrong fields accepted.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys
from pathlib import Path
from otclab.confirm.extract import extract_file
folder = Path(sys.argv[1])
out = {}
for name in json.loads((folder / "truth.json").read_text()):
    ex = extract_file(folder / name)
    out[name] = {"fields": ex.fields, "confidence": ex.confidence, "layout": None,
                 "route": sorted({p["route"] for p in ex.pages})}
print(json.dumps(out, ensure_ascii=False))
"""


def read_with_commit(folder: Path, commit: str) -> dict:
    """Every file of ``folder`` read by the extractor of ``commit`` (a child process importing
    otclab from that commit's tree)."""
    with tempfile.TemporaryDirectory(prefix="otclab_before_") as tree:
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "otclab"], check=True,
                              capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=arch, check=True)
        env = {**os.environ, "PYTHONPATH": tree}
        res = subprocess.run([sys.executable, "-c", _CHILD, str(folder)], env=env, cwd=tree,
                             capture_output=True, text=True, check=True)
        return json.loads(res.stdout)


def read_now(folder: Path, names, layouts) -> dict:
    from otclab.confirm.extract import extract_file

    out = {}
    for name in names:
        ex = extract_file(folder / name, layouts=layouts)
        out[name] = {"fields": ex.fields, "confidence": ex.confidence, "layout": ex.layout}
    return out


def tally(truth: dict, got: dict, show: str | None = None) -> dict:
    """{route: [right, stated, wrong, wrong accepted, right sent to a person]} over all fields."""
    from otclab.confirm import layouts as L
    from otclab.confirm.accuracy import same_value
    from otclab.confirm.extract import FIELDS

    lays = {x.id: x for x in L.load_all([L.SHIPPED_DIR])}
    rows: dict = {}
    for name, entry in truth.items():
        g = got[name]
        lay = lays.get(g.get("layout") or "")
        r = rows.setdefault(entry["route"], [0, 0, 0, 0, 0])
        for f in FIELDS:
            t, v = entry["fields"].get(f), g["fields"].get(f)
            if t is None and v is None:
                continue
            ok = same_value(f, t, v)
            accepted = v is not None and g["confidence"].get(f, 0.0) >= L.threshold(f, lay)
            if t is not None:
                r[1] += 1
                r[0] += ok
            if not ok:
                r[2] += 1
                r[3] += accepted
                if show and (accepted or show == "all"):
                    print(f"  [{show}] {name}: {f}: truth={t!r} got={v!r} conf={g['confidence'].get(f)}"
                          f"{' ACCEPTED' if accepted else ''}", file=sys.stderr)
            elif v is not None and not accepted:
                r[4] += 1
    return rows


def main(argv=None) -> int:
    from otclab.confirm import layouts as L
    from otclab.confirm.heldout import EVAL_SEEDS, build_heldout

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=36)
    ap.add_argument("--seed", type=int, default=EVAL_SEEDS[0])
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--before-commit", default="bd128d4",
                    help="the commit whose extractor is 'before' (default: the one this work started from)")
    ap.add_argument("--severity", choices=["office", "hard"], default="office")
    ap.add_argument("--show-errors", action="store_true", help="list every wrong field on stderr")
    args = ap.parse_args(argv)

    folder = args.dir or Path(tempfile.mkdtemp(prefix="confirm_heldout_"))
    if not (folder / "truth.json").exists():
        build_heldout(folder, args.n, seed=args.seed, severity=args.severity)
    truth = json.loads((folder / "truth.json").read_text())
    readings = {
        "before": read_with_commit(folder, args.before_commit),
        "generic": read_now(folder, truth, layouts=[]),
        "after": read_now(folder, truth, layouts=L.load_all([L.SHIPPED_DIR])),
    }
    n_text = sum(1 for e in truth.values() if e["route"] == "text")
    print(f"held-out corpus: {len(truth)} documents ({n_text} text PDFs, {len(truth) - n_text} scans) in {folder}, "
          f"seed {args.seed}, scan defects {args.severity}; before = extractor at {args.before_commit}")
    print(f"{'route':7s}{'reading':9s}{'accuracy':>10s}{'fields':>8s}{'wrong':>7s}{'wrong accepted':>16s}"
          f"{'right to a person':>19s}")
    ok = True
    target = {"text": 0.99, "ocr": 0.97}
    for route in ("text", "ocr"):
        for label, got in readings.items():
            rows = tally(truth, got, show=label if args.show_errors else None)
            if route not in rows:
                continue
            right, n, wrong, acc_wrong, to_person = rows[route]
            acc = right / n if n else float("nan")
            print(f"{route:7s}{label:9s}{acc:>10.3f}{n:>8d}{wrong:>7d}{acc_wrong:>16d}{to_person:>19d}")
            if label == "after":
                ok &= acc >= target[route] and acc_wrong == 0
    used = {g["layout"] for g in readings["after"].values()}
    print(f"layouts used (after): {sorted(x for x in used if x)}; documents read without one: "
          f"{sum(1 for g in readings['after'].values() if not g['layout'])}")
    print("targets met (after: text >= 0.99, scans >= 0.97, no wrong field accepted)" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
