"""The confirmations inbox: a folder in; processed and quarantine folders and a JSON-lines log out.

Every file dropped into the inbox is read, hashed (SHA-256 of its bytes), extracted, reconciled
with the book when its trade id is booked (the book: ``TradeRecord``s, or their JSON form), then
moved out of the inbox:

- ``processed/<hash12>_<name>`` with ``<hash12>_<name>.json`` beside it (the extraction);
- ``quarantine/<hash12>_<name>`` with ``.reason.txt`` beside it, for a file that is not a PDF,
  is corrupt or encrypted, or made the extractor fail;
- ``processed/duplicates/<hash12>_<name>``: content seen before (same hash) is not processed
  again; the log points to the first entry.

The log (``log.jsonl``) gets one line per file: time, name, hash, size, status, reason, fields,
confidence, warnings, mismatches with the booked trade, timing.

Crash safety: the log line is written (and fsynced) *before* the file is moved, and the move is
an atomic rename; a rerun finds a logged file still in the inbox and completes its move without
processing it again. A line cut short by a crash is ignored when the log is read. Nothing in the
inbox is deleted: every file ends in exactly one of the output folders. One runner at a time
(an exclusive lock on ``.inbox.lock``).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import InputError, OtcError

LOG_NAME = "log.jsonl"


@dataclass
class InboxPaths:
    inbox: Path
    processed: Path
    quarantine: Path
    log: Path

    @classmethod
    def under(cls, root: str | Path) -> "InboxPaths":
        """The standard layout: ``root/inbox``, ``root/processed``, ``root/quarantine``, ``root/log.jsonl``."""
        r = Path(root)
        return cls(r / "inbox", r / "processed", r / "quarantine", r / LOG_NAME)

    def make(self) -> None:
        for d in (self.inbox, self.processed, self.quarantine, self.processed / "duplicates"):
            d.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_log(path: Path) -> list[dict]:
    """Entries of a JSON-lines log; a line cut short by a crash (not valid JSON) is skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_log(path: Path, entry: dict) -> None:
    """Append one line durably: a single write on an O_APPEND descriptor, then fsync. If the file
    ends in a partial line (an earlier crash), the new entry starts on a line of its own."""
    data = json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _move(src: Path, dst: Path) -> None:
    """Atomic rename (inbox and outputs must share a file system), made durable."""
    os.replace(src, dst)
    _fsync_dir(dst.parent)
    _fsync_dir(src.parent)


@contextmanager
def _locked(paths: InboxPaths):
    lock = open(paths.log.parent / ".inbox.lock", "w")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise InputError("another inbox run holds the lock", field="inbox") from exc
        yield
    finally:
        lock.close()


def _pending(paths: InboxPaths, settle_seconds: float) -> list[Path]:
    """Files waiting in the inbox, oldest first; hidden/partial names and files still being
    written (modified less than ``settle_seconds`` ago) wait for the next run."""
    now = time.time()
    out = []
    for p in paths.inbox.iterdir():
        if not p.is_file() or p.name.startswith(".") or p.name.endswith((".part", ".tmp", "~")):
            continue
        if now - p.stat().st_mtime < settle_seconds:
            continue
        out.append(p)
    return sorted(out, key=lambda p: (p.stat().st_mtime, p.name))


def book_index(book: list | dict | None) -> dict:
    """The booked trades by canonical trade id (``values.id_key``): ``TradeRecord``s, or their
    JSON form (``TradeRecord.to_dict()``) validated with ``trade.read_trade``; ``book`` is a list
    of them or a mapping trade id -> trade. A trade that fails validation is indexed as its
    ``OtcError`` (reconciling with it gives a warning naming the field); one without any trade
    id is an ``InputError``."""
    from .trade import read_trade
    from .values import id_key

    if not book:
        return {}
    if isinstance(book, dict):
        items = [(f"book.{k}", k, t) for k, t in book.items()]
    elif isinstance(book, list):
        items = [(f"book[{i}]", None, t) for i, t in enumerate(book)]
    else:
        raise InputError("must be a list of trades or a mapping trade id -> trade", field="book")
    out: dict[str, Any] = {}
    for prefix, key, raw in items:
        try:
            rec = read_trade(raw, prefix)
        except OtcError as exc:
            tid = raw.get("trade_id") if isinstance(raw, dict) else None
            if not isinstance(tid, str) or not tid.strip():
                tid = key
            if not tid:
                raise InputError(f"a booked trade without a trade id ({exc})", field=f"{prefix}.trade_id") from None
            out[id_key(str(tid))] = exc
            continue
        out[id_key(rec.trade_id)] = rec
    return out


def process_file(path: Path, index: dict) -> dict:
    """Extraction and reconciliation of one file, as the log entry's result part."""
    from .extract import extract_file
    from .reconcile import reconcile
    from .values import id_key

    t0 = time.perf_counter()
    try:
        ex = extract_file(path)
    except InputError as exc:
        return {"status": "quarantined", "reason": exc.message,
                "timing": {"seconds": round(time.perf_counter() - t0, 3)}}
    except Exception as exc:  # a file that breaks the extractor is kept aside, never lost
        return {"status": "quarantined", "reason": f"extractor failed: {type(exc).__name__}: {exc}",
                "timing": {"seconds": round(time.perf_counter() - t0, 3)}}
    entry = {"status": "processed", "fields": ex.fields, "confidence": ex.confidence,
             "warnings": ex.warnings, "mismatches": None, "booked": False}
    tid = ex.fields.get("trade_id")
    booked = index.get(id_key(tid)) if tid else None
    if isinstance(booked, OtcError):
        entry["warnings"].append(f"booked trade {tid} is invalid: {booked}")
    elif booked is not None:
        try:
            entry["mismatches"] = [m.to_json() for m in reconcile(ex.fields, booked)]
            entry["booked"] = True
        except OtcError as exc:  # e.g. a template no confirmation form exists for
            entry["warnings"].append(f"booked trade {tid} cannot be confirmed: {exc}")
    elif tid:
        entry["warnings"].append(f"no booked trade with id {tid}")
    low = [f for f, c in ex.confidence.items() if c < 0.8]
    entry["review"] = bool(entry["mismatches"]) or not entry["booked"] or bool(low) or any(
        w.startswith("not found") for w in ex.warnings)
    entry["timing"] = {"seconds": round(time.perf_counter() - t0, 3), "pages": ex.pages}
    return entry


def run_inbox(paths: InboxPaths, book: list | dict | None = None, settle_seconds: float = 0.0,
              on_entry=None) -> list[dict]:
    """Process every file waiting in the inbox once; returns the log entries written this run.
    ``book``: the booked trades to reconcile with (see ``book_index``)."""
    paths.make()
    index = book_index(book)
    written = []
    with _locked(paths):
        done = {e["sha256"]: e for e in read_log(paths.log)
                if e.get("status") in ("processed", "quarantined")}
        for src in _pending(paths, settle_seconds):
            digest = sha256_file(src)
            name = f"{digest[:12]}_{src.name}"
            prev = done.get(digest)
            if prev is not None:
                dest = Path(prev["destination"])
                if prev.get("file") == src.name and not (paths.log.parent / dest).exists():
                    # logged, then interrupted before the move: finish that move, do not redo work
                    _finish_move(paths, src, prev)
                    continue
                entry = {"ts": _now(), "file": src.name, "sha256": digest, "size": src.stat().st_size,
                         "status": "duplicate", "first_seen": prev["ts"], "first_file": prev["file"],
                         "destination": _rel(paths, paths.processed / "duplicates" / name)}
                append_log(paths.log, entry)
                _move(src, paths.processed / "duplicates" / name)
                written.append(entry)
                if on_entry:
                    on_entry(entry)
                continue
            size = src.stat().st_size
            result = process_file(src, index)
            folder = paths.processed if result["status"] == "processed" else paths.quarantine
            entry = {"ts": _now(), "file": src.name, "sha256": digest, "size": size, **result,
                     "destination": _rel(paths, folder / name)}
            append_log(paths.log, entry)  # durable record first ...
            _finish_move(paths, src, entry)  # ... then the atomic move
            done[digest] = entry
            written.append(entry)
            if on_entry:
                on_entry(entry)
    return written


def _finish_move(paths: InboxPaths, src: Path, entry: dict) -> None:
    dest = paths.log.parent / entry["destination"]
    sidecar = dest.with_name(dest.name + (".json" if entry["status"] == "processed" else ".reason.txt"))
    if entry["status"] == "processed":
        _write_atomic(sidecar, json.dumps(entry, ensure_ascii=False, indent=1, default=str))
    else:
        _write_atomic(sidecar, entry.get("reason", "") + "\n")
    _move(src, dest)


def _rel(paths: InboxPaths, p: Path) -> str:
    return os.path.relpath(p, paths.log.parent)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
