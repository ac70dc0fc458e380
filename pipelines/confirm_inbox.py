"""Batch job: process the confirmations inbox once (schedule it, e.g. every minute).

Usage: python pipelines/confirm_inbox.py ROOT [--db URL] [--mail-config mail.toml] [--documents DIR]
       [--book trades.json] [--settle 2] [--stable 60]
       [--max-pages N] [--max-mb MB] [--ocr-page-seconds S] [--file-seconds S] ...

ROOT holds ``inbox/`` (scanner and e-mail drop), ``processed/``, ``quarantine/`` and
``log.jsonl``. The book is a JSON list of trades in the trade record's form
(``TradeRecord.to_dict()``, as ``otclab trades show ID --json`` prints them under "trade"), or
an object trade id -> trade. Each file is read in a child process within the reading limits
(``otclab/confirm/limits.py``; options override the ``OTCLAB_CONFIRM_*`` variables). A file
still being written, too young, or unreadable on its first look is reported as pending and
retried on the next run. The logic lives in ``otclab.confirm.inbox``; this script only parses
arguments. Safe to kill at any time and to rerun: each file is processed once (by content hash).

With ``--db`` (default: ``OTCLAB_DB_URL`` when set) the book of record is the store: each
confirmation is matched to its booked trade, attached, confirmed or raised as a break, and the
trader's mail queued; then the due mails are sent (``otclab.mail.queue.deliver_due``; a server
that is down leaves them queued for the next run). See docs/confirm-book.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv=None) -> int:
    from otclab.confirm.inbox import InboxPaths, describe, run_against_book
    from otclab.confirm.limits import Limits
    from otclab.core.errors import OtcError

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--db", default=None, help="the store (SQLAlchemy URL; default OTCLAB_DB_URL): the book of record")
    ap.add_argument("--mail-config", type=Path, default=None,
                    help="mail settings and addresses (default OTCLAB_MAIL_CONFIG, else <data>/mail.toml)")
    ap.add_argument("--documents", type=Path, default=None,
                    help="where documents are kept (default OTCLAB_CONFIRM_DOCUMENTS, else <data>/documents)")
    ap.add_argument("--book", type=Path, default=None, help="booked trades (trade record JSON): a list, or id -> trade")
    ap.add_argument("--settle", type=float, default=2.0, help="leave files modified less than this many seconds ago")
    ap.add_argument("--stable", type=float, default=60.0,
                    help="quarantine an unreadable file once it failed twice and is unchanged for this many seconds")
    for name, kind in (("max_mb", float), ("max_pages", int), ("max_megapixels", float),
                       ("ocr_page_seconds", float), ("file_seconds", float), ("max_memory_mb", float)):
        ap.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None,
                        help=f"reading limit (default: OTCLAB_CONFIRM_{name.upper()}, else {getattr(Limits, name):g})")
    args = ap.parse_args(argv)
    try:
        limits = Limits.from_env(**{k: getattr(args, k) for k in ("max_mb", "max_pages", "max_megapixels",
                                                                  "ocr_page_seconds", "file_seconds", "max_memory_mb")})
        book = json.loads(args.book.read_text(encoding="utf-8")) if args.book else None
        run_against_book(InboxPaths.under(args.root), book, args.db or os.environ.get("OTCLAB_DB_URL"),
                         args.mail_config, args.documents, settle_seconds=args.settle, stable_seconds=args.stable,
                         limits=limits, on_entry=lambda e: print(describe(e), flush=True),
                         on_mail=lambda counts: print(f"mail: {counts or 'none due'}", flush=True))
    except (OtcError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
