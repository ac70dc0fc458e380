"""Batch job: process the confirmations inbox once (schedule it, e.g. every minute).

Usage: python pipelines/confirm_inbox.py ROOT [--book trades.json] [--settle 2]

ROOT holds ``inbox/`` (scanner and e-mail drop), ``processed/``, ``quarantine/`` and
``log.jsonl``. The book is a JSON list of trades in the trade record's form
(``TradeRecord.to_dict()``, as ``otclab trades show ID --json`` prints them under "trade"), or
an object trade id -> trade. The logic lives in ``otclab.confirm.inbox``; this script only
parses arguments. Safe to kill at any time and to rerun: each file is processed once (by content hash).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    from otclab.confirm.inbox import InboxPaths, run_inbox
    from otclab.core.errors import OtcError

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--book", type=Path, default=None, help="booked trades (trade record JSON): a list, or id -> trade")
    ap.add_argument("--settle", type=float, default=2.0, help="skip files younger than this (s)")
    args = ap.parse_args(argv)
    try:
        book = json.loads(args.book.read_text(encoding="utf-8")) if args.book else None
        run_inbox(InboxPaths.under(args.root), book, settle_seconds=args.settle,
                  on_entry=lambda e: print(f"{e['status']:12s} {e['file']}", flush=True))
    except (OtcError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
