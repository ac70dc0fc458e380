"""The confirmations inbox: a folder in; processed and quarantine folders and a JSON-lines log out.

Every file dropped into the inbox is read, hashed (SHA-256 of its bytes), extracted in a child
process within the reading limits (``limits.py``, ``worker.Extractor``), reconciled with the book
when its trade id is booked (the book: ``TradeRecord``s, or their JSON form), then moved out of
the inbox:

- ``processed/<hash12>_<name>`` with ``<hash12>_<name>.json`` beside it (the extraction);
- ``quarantine/<hash12>_<name>`` with ``.reason.txt`` beside it, for a file that is not a PDF,
  is corrupt or encrypted, is past a limit (bytes, pages, OCR seconds, memory) or made the
  extractor fail, and has stayed so on two runs (see *pending*);
- ``processed/duplicates/<hash12>_<name>``: content processed before (same hash) is not processed
  again; the log points to the first entry.

A file can also stay where it is, reported as ``pending`` (on the command line and in the log):

- it was modified less than ``settle_seconds`` ago, or changed while it was read;
- it has a temporary name (hidden, ``.part``, ``.tmp``, ``~``): its writer has not finished;
- it is a PDF without its ``%%EOF`` end marker, modified less than ``stable_seconds`` ago;
- it could not be read (any of the quarantine reasons) on this look. A scanner that pauses while
  writing leaves a truncated PDF that fails, so a failure is never final at first sight: the file
  is retried on every run while it changes, and quarantined only when the same bytes failed on an
  earlier run and have not changed for ``stable_seconds``. Moving a quarantined file back into
  the inbox (after raising a limit, say) has it read again.

Entries that are not regular files (folders, links, FIFOs, devices) are never opened; each is
reported as ``skipped`` and left in place.

The log (``log.jsonl``) gets one line per outcome: time, name, hash, size, status, reason, fields,
confidence, warnings, mismatches with the booked trade, timing. A pending file is logged when its
state changes, not on every run.

Crash safety: the log line is written (and fsynced) *before* the file is moved, and the move is
an atomic rename; a rerun finds a logged file still in the inbox and completes its move without
processing it again. A line cut short by a crash (even inside a multi-byte character) is ignored
when the log is read, and the next line starts on a line of its own. Nothing in the inbox is
deleted: every file ends in exactly one of the output folders, or is still waiting and reported.
One runner at a time (an exclusive lock on ``.inbox.lock``).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import math
import os
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import InputError, OtcError
from .limits import Limits

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
    """Entries of a JSON-lines log. A line that is not a whole JSON object is skipped: the last
    line cut short by a crash, a power loss or a full disk, even inside a multi-byte character
    (``append_log`` starts the next entry on a line of its own)."""
    if not path.exists():
        return []
    out = []
    with open(path, "rb") as f:
        for raw in f:
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(entry, dict):
                out.append(entry)
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


_TEMP_SUFFIXES = (".part", ".tmp", "~", ".crdownload", ".partial")


def _scan(paths: InboxPaths) -> tuple[list[tuple[Path, os.stat_result]], list[tuple[Path, str]]]:
    """Regular files in the inbox with their ``lstat``, oldest first; and the other entries (not
    followed, never opened) with what they are."""
    files, others = [], []
    for p in paths.inbox.iterdir():
        try:
            st = p.lstat()
        except FileNotFoundError:  # gone since the listing
            continue
        if stat.S_ISREG(st.st_mode):
            files.append((p, st))
        else:
            kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a link" if stat.S_ISLNK(st.st_mode)
                    else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or socket")
            others.append((p, kind))
    files.sort(key=lambda x: (x[1].st_mtime, x[0].name))
    return files, sorted(others)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_size, b.st_mtime_ns)


MAX_WAIT_SECONDS = 86_400.0  # settle and stable times beyond a day would leave files waiting for days


def _seconds_setting(value, name: str, option: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_WAIT_SECONDS:
        raise InputError(f"must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}, got {value!r} ({option})",
                         field=name)
    return float(value)


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


def process_file(path: Path, index: dict, extractor=None) -> dict:
    """Extraction (in ``extractor``, a ``worker.Extractor``; a fresh one when None) and
    reconciliation of one file, as the log entry's result part: status ``processed``, or
    ``failed`` with the reason (and the ``limit`` when one was passed)."""
    from .reconcile import reconcile
    from .values import id_key
    from .worker import extract_isolated

    t0 = time.perf_counter()
    try:
        ex = extractor.extract(path) if extractor is not None else extract_isolated(path)
    except InputError as exc:  # unreadable, past a limit, or the extractor failed on it
        out = {"status": "failed", "reason": exc.message,
               "timing": {"seconds": round(time.perf_counter() - t0, 3)}}
        if getattr(exc, "limit", None):
            out["limit"] = exc.limit
        return out
    entry = {"status": "processed", "fields": ex.fields, "confidence": ex.confidence, "layout": ex.layout,
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
    from .layouts import below_threshold

    low = below_threshold(ex)  # each field's threshold (the layout's own, else the defaults)
    entry["review"] = bool(entry["mismatches"]) or not entry["booked"] or bool(low) or any(
        w.startswith("not found") for w in ex.warnings)
    entry["timing"] = {"seconds": round(time.perf_counter() - t0, 3), "pages": ex.pages}
    return entry


class _LazyExtractor:
    """One ``worker.Extractor`` for the run, started only when a file needs reading."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._ex = None

    def extract(self, path, force_ocr: bool = False):
        if self._ex is None:
            from .worker import Extractor

            self._ex = Extractor(self.limits)
        return self._ex.extract(path, force_ocr=force_ocr)

    def close(self) -> None:
        if self._ex is not None:
            self._ex.close()


def run_inbox(paths: InboxPaths, book: list | dict | None = None, settle_seconds: float = 0.0,
              on_entry=None, stable_seconds: float = 60.0, limits: Limits | None = None,
              store=None, mail=None, documents: Path | None = None) -> list[dict]:
    """Process every file waiting in the inbox once; returns this run's entries (one per file:
    processed, quarantined, duplicate, pending or skipped; see the module doc), each also passed
    to ``on_entry`` as it happens. ``book``: the booked trades to reconcile with (see
    ``book_index``). ``settle_seconds``: files modified more recently wait for the next run.
    ``stable_seconds``: how long an unreadable file must stay unchanged, having failed on an
    earlier run, before it is quarantined. ``limits``: reading limits (default
    ``Limits.from_env()``).

    With ``store`` (an ``otclab.store.db.Store``) the book of record is the store, not ``book``:
    each file is recorded there (``attach.receive``: its bytes kept under ``documents``, default
    ``attach.documents_dir()``) before it is read, then matched, reconciled, attached and
    confirmed or raised as a break, its mail queued (``book_confirm.confirm_document``, with
    ``mail``, an ``otclab.mail.config.MailConfig``); the entry's ``book`` holds that summary. A
    file whose document the store already processed (a crash before the log line) is not read
    again."""
    settle = _seconds_setting(settle_seconds, "settle_seconds", "--settle")
    stable = _seconds_setting(stable_seconds, "stable_seconds", "--stable")
    limits = limits or Limits.from_env()
    paths.make()
    index = book_index(book)
    written: list[dict] = []
    root = paths.log.parent
    extractor = _LazyExtractor(limits)

    def report(entry: dict, log: bool = True) -> None:
        if log:
            append_log(paths.log, entry)
        written.append(entry)
        if on_entry:
            on_entry(entry)

    with _locked(paths):
        done: dict[str, dict] = {}  # hash -> latest processed or quarantined entry
        first_processed: dict[str, dict] = {}  # hash -> first processed entry (for duplicates)
        failed: dict[str, dict] = {}  # hash -> a failed look not yet followed by a quarantine
        last_pending: dict[str, tuple] = {}  # file -> state of its last logged pending entry
        for e in read_log(paths.log):
            digest, status = e.get("sha256"), e.get("status")
            if status in ("processed", "quarantined") and isinstance(digest, str) and e.get("destination"):
                done[digest] = e
                failed.pop(digest, None)
                if status == "processed":
                    first_processed.setdefault(digest, e)
            elif status in ("pending", "skipped"):
                if status == "pending" and e.get("failed") and isinstance(digest, str):
                    failed[digest] = e
                last_pending[str(e.get("file"))] = (status, e.get("why"), e.get("size"), e.get("mtime_ns"))

        def waiting(src: Path, st: os.stat_result | None, why: str, reason: str, **extra) -> None:
            entry = {"ts": _now(), "file": src.name, "status": "pending", "why": why, "reason": reason,
                     "size": st.st_size if st else None, "mtime_ns": st.st_mtime_ns if st else None,
                     "destination": None, **extra}
            state = ("pending", why, entry["size"], entry["mtime_ns"])
            report(entry, log=last_pending.get(src.name) != state)
            last_pending[src.name] = state

        files, others = _scan(paths)
        for src, kind in others:
            entry = {"ts": _now(), "file": src.name, "status": "skipped", "why": "not_a_file",
                     "reason": f"{kind}, not a regular file: never opened, left in place", "destination": None}
            state = ("skipped", "not_a_file", None, None)
            report(entry, log=last_pending.get(src.name) != state)
            last_pending[src.name] = state
        try:
            for src, st in files:
                name = src.name
                if name.startswith(".") or name.endswith(_TEMP_SUFFIXES):
                    waiting(src, st, "temporary_name", "a temporary name (hidden, .part, .tmp, ~): waiting for "
                            "its writer to rename it")
                    continue
                age = time.time() - st.st_mtime
                if age < settle:
                    waiting(src, st, "young", f"modified {max(age, 0):.1f} s ago; read once unchanged for "
                            f"{settle:g} s (settle)")
                    continue
                try:
                    digest = sha256_file(src)
                    st_read = src.lstat()
                except FileNotFoundError:
                    continue  # taken away while we looked
                except OSError as exc:  # e.g. no permission: say so, try again next run
                    waiting(src, st, "unreadable", f"cannot be read ({exc.strerror}); retried on the next run")
                    continue
                if not _same_file(st, st_read):
                    waiting(src, st_read, "changing", "changed while it was read; read on a later run")
                    continue
                name12 = f"{digest[:12]}_{name}"
                prev = done.get(digest)
                if prev is not None and prev.get("file") == name and not (root / prev["destination"]).exists() \
                        and prev.get("ctime_ns") in (None, st.st_ctime_ns):
                    # logged, then interrupted before the move: finish that move, do not redo work
                    # (a file moved back in by hand later has another ctime and is looked at afresh)
                    _finish_move(paths, src, prev)
                    continue
                first = first_processed.get(digest)
                if first is not None:
                    entry = {"ts": _now(), "file": name, "sha256": digest, "size": st.st_size,
                             "status": "duplicate", "first_seen": first["ts"], "first_file": first["file"],
                             "destination": _rel(paths, paths.processed / "duplicates" / name12)}
                    report(entry)
                    _move(src, paths.processed / "duplicates" / name12)
                    continue
                before = failed.get(digest)
                if before is not None:
                    if age >= stable:  # the same bytes failed before and have not changed since
                        entry = {"ts": _now(), "file": name, "sha256": digest, "size": st.st_size,
                                 "ctime_ns": st.st_ctime_ns, "status": "quarantined", "reason": before["error"], "looks": 2,
                                 "first_failed": before["ts"], **({"limit": before["limit"]} if before.get("limit") else {}),
                                 "destination": _rel(paths, paths.quarantine / name12)}
                        report(entry)  # durable record first ...
                        _finish_move(paths, src, entry)  # ... then the atomic move
                        done[digest] = entry
                        failed.pop(digest, None)
                    else:
                        waiting(src, st, "failed", f"{before['error']}; quarantined once unchanged for {stable:g} s "
                                f"(stable)", sha256=digest, failed=True, error=before["error"],
                                **({"limit": before["limit"]} if before.get("limit") else {}))
                    continue
                if age < stable and not _looks_complete(src):
                    waiting(src, st, "incomplete", f"a PDF without its %%EOF end marker, modified {age:.0f} s ago: "
                            f"still being written? Read once it ends or is unchanged for {stable:g} s (stable)")
                    continue
                doc = None
                if store is not None:  # persisted in the store before it is read
                    from .attach import receive

                    doc = receive(store, src.read_bytes(), name, "inbox", documents)
                if doc is not None and doc["status"] == "processed":
                    # the store has it (a crash after its commit, before the log line): not read again
                    ex = doc["extraction"] or {}
                    result = {"status": "processed", "fields": ex.get("fields"), "confidence": ex.get("confidence"),
                              "layout": ex.get("layout"), "warnings": ex.get("warnings", []), "mismatches": None,
                              "booked": doc["trade_id"] is not None, "review": doc["outcome"] != "confirmed"}
                else:
                    result = process_file(src, index if store is None else {}, extractor)
                try:
                    st_after = src.lstat()
                except FileNotFoundError:
                    continue
                if not _same_file(st, st_after):
                    waiting(src, st_after, "changing", "changed while it was read; read on a later run")
                    continue
                if result["status"] == "failed":
                    # never final at first sight: a scanner pausing mid-file gives a truncated PDF
                    pend = {"sha256": digest, "failed": True, "error": result["reason"],
                            **({"limit": result["limit"]} if result.get("limit") else {})}
                    waiting(src, st, "failed", f"{result['reason']}; retried, and quarantined once it has failed "
                            f"again unchanged for {stable:g} s (stable)", **pend)
                    failed[digest] = {"ts": _now(), **pend}
                    continue
                if doc is not None:
                    result = _against_book(store, doc, result, mail)
                entry = {"ts": _now(), "file": name, "sha256": digest, "size": st.st_size,
                         "ctime_ns": st.st_ctime_ns, **result, "destination": _rel(paths, paths.processed / name12)}
                report(entry)  # durable record first ...
                _finish_move(paths, src, entry)  # ... then the atomic move
                done[digest] = entry
                first_processed.setdefault(digest, entry)
        finally:
            extractor.close()
    return written


def run_against_book(paths: InboxPaths, book=None, db_url: str | None = None, mail_config=None,
                     documents: Path | None = None, on_mail=None, **kw) -> list[dict]:
    """One inbox run as the pipeline and ``otclab confirm inbox`` do it: against the store at
    ``db_url`` when given (then the due mails are sent, ``on_mail`` gets the counts), else against
    the JSON ``book``. ``kw``: ``run_inbox``'s settle, stable, limits and on_entry."""
    if not db_url:
        return run_inbox(paths, book, **kw)
    from ..mail.config import load_config
    from ..mail.queue import deliver_due
    from ..store.db import open_store
    from .attach import documents_dir

    store = open_store(db_url)
    cfg = load_config(mail_config)
    root = Path(documents or documents_dir())
    entries = run_inbox(paths, store=store, mail=cfg, documents=root, **kw)
    counts = deliver_due(store, cfg, root)
    if on_mail:
        on_mail(counts)
    return entries


def _against_book(store, doc: dict, result: dict, mail) -> dict:
    """The inbox entry of a file read, with the store's outcome: matched, attached, confirmed or
    a break (``book_confirm.confirm_document``, idempotent per document)."""
    from .book_confirm import confirm_document

    ex = {"fields": result["fields"], "confidence": result["confidence"], "layout": result.get("layout"),
          "warnings": result.get("warnings") or []}
    summary = confirm_document(store, doc["id"], ex, mail)
    items = summary.get("items") or []
    return {**result, "book": summary, "booked": summary.get("trade_id") is not None,
            "mismatches": [i for i in items if i["kind"] != "low_confidence"] if summary.get("trade_id") else None,
            "review": summary.get("outcome") != "confirmed"}


def _looks_complete(src: Path) -> bool:
    """False for a file with a PDF header but no %%EOF at its end (anything else: True, and the
    extractor says what is wrong with it)."""
    from .extract import looks_complete

    try:
        with open(src, "rb") as f:
            if b"%PDF-" not in f.read(1024):
                return True
        return looks_complete(src)
    except (OSError, InputError):
        return True


def describe(entry: dict) -> str:
    """One line for a log entry, as the command line prints it."""
    e = entry
    if e["status"] == "processed" and e.get("book"):
        b = e["book"]
        extra = (f"confirmed {b.get('trade_id')}" if b.get("outcome") == "confirmed"
                 else f"break {b.get('break_id')} ({b.get('kind')}): {b.get('summary')}" if b.get("break_id")
                 else f"{b.get('outcome')} {b.get('trade_id') or ''} (recorded before a restart)")
    elif e["status"] == "processed":
        extra = f"{len(e['mismatches'])} mismatch(es)" if e.get("mismatches") is not None else "not booked"
    elif e["status"] == "duplicate":
        extra = f"same content as {e.get('first_file')} ({e.get('first_seen')})"
    else:
        extra = e.get("reason") or ""
    return f"{e['status']:12s} {e['file']}  {extra}".rstrip()


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
