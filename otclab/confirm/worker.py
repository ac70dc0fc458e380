"""Reading confirmations in a child process, under deadlines and a memory ceiling.

A confirmation comes from outside, and the libraries that read it (docling-parse, pdfium,
onnxruntime) run native code that cannot be interrupted from Python. So ``Extractor`` hands each
file to a child process (``python -m otclab.confirm.worker``) and watches it: the child reports
each stage (the text layer, the OCR of page i of n, the layout matching) and the parent kills it
when an OCR'd page runs past ``ocr_page_seconds``, the file past ``file_seconds`` or the child's
memory past ``max_memory_mb`` (see ``limits.py``). The caller gets a ``LimitError`` naming the
limit and the next file gets a fresh child, so one file cannot hold up the ones behind it; a
child that crashes on a file (a signal, a native abort) is an ``ExtractorFailed`` for that file.

Protocol, one JSON object per line. To the child, on its stdin: ``{"path", "force_ocr",
"limits"}``. From the child, on its original stdout (anything a library prints goes to its
stderr): ``{"ev": "ready"}`` once, then per file ``{"ev": "stage", "stage", "page", "pages"}``
and one of ``{"ev": "result", "extraction"}``, ``{"ev": "error", "message", "field", "limit"}``
(an ``OtcError``: a corrupt, encrypted or too long file) or ``{"ev": "failed", "message"}``.
"""
from __future__ import annotations

import json
import math
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..core.errors import InputError
from .limits import LimitError, Limits

STARTUP_SECONDS = 120.0  # importing docling and onnxruntime in the child; not a property of any file
POLL_SECONDS = 0.1  # how often the child's memory is looked at


class ExtractorFailed(InputError):
    """The child process died or raised on a file (the file is set aside, the next one is read)."""


def _rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB (Linux /proc), None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def _die_with_parent() -> None:  # in the child, before exec: SIGKILL when the parent dies (Linux)
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Extractor:
    """Reads confirmation files, each in a child process under ``limits`` (default
    ``Limits.from_env()``). Use as a context manager, or call ``close()``; one child serves
    file after file until a file has to be stopped."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits.from_env()
        self._proc: subprocess.Popen | None = None
        self._buf = b""
        self._stderr = None

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ the child

    def _start(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen([sys.executable, "-m", "otclab.confirm.worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=env, close_fds=True,
                                      preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        self._buf = b""
        ev = self._next_event(time.monotonic() + STARTUP_SECONDS)
        if ev is None or ev.get("ev") != "ready":
            tail = self._stderr_tail()
            self._stop()
            raise RuntimeError(f"the confirmation reader did not start: {tail or ev}")
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for s in (self._proc.stdin, self._proc.stdout):
                try:
                    s.close()
                except OSError:
                    pass
        self._proc = None
        self._buf = b""

    def close(self) -> None:
        """Stop the child process (a later ``extract`` starts a new one)."""
        self._stop()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _stderr_tail(self, n: int = 400) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - n))
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            return " ".join(lines[-1].split())[:300] if lines else ""
        except (OSError, ValueError):
            return ""

    def _next_event(self, until: float, on_poll=None) -> dict | None:
        """The child's next event, or None when ``until`` (monotonic) passes or the child's output
        ends. ``on_poll()`` runs every POLL_SECONDS while waiting (the memory check)."""
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            now = time.monotonic()
            if now >= until:
                return None
            ready, _, _ = select.select([fd], [], [], min(POLL_SECONDS, until - now))
            if on_poll is not None:
                on_poll()
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return {"ev": "eof"}
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line.decode("utf-8"))
        except ValueError:
            return {"ev": "failed", "message": f"unreadable reply {line[:80]!r}"}

    # ------------------------------------------------------------------ one file

    def extract(self, path: str | Path, force_ocr: bool = False):
        """The ``Extraction`` of one file, read in the child; ``InputError`` for a bad file,
        ``LimitError`` past a limit (the child is then killed), ``ExtractorFailed`` when the
        child dies or fails on it."""
        from .extract import Extraction, check_file

        path = Path(path)
        name = path.name
        lim = self.limits
        check_file(path, lim)  # not a regular file, too large, not a PDF: no child needed
        proc = self._start()
        request = {"path": str(path.resolve()), "force_ocr": bool(force_ocr), "limits": lim.to_dict()}
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._stop()
            raise ExtractorFailed(f"{name}: the reader process stopped before reading it", field="file") from None
        t0 = time.monotonic()
        file_deadline = t0 + lim.file_seconds
        page_deadline = math.inf
        where_now = "opening it"
        over_memory = []

        def watch_memory() -> None:
            rss = _rss_mb(proc.pid)
            if rss is not None and rss > lim.max_memory_mb and not over_memory:
                over_memory.append(rss)

        while True:
            ev = self._next_event(min(file_deadline, page_deadline), on_poll=watch_memory)
            now = time.monotonic()
            if over_memory:
                self._stop()
                raise LimitError(f"{name}: reading it took more than {lim.max_memory_mb:g} MB of memory "
                                 f"({where_now}); stopped", limit="max_memory_mb")
            if ev is None:  # a deadline passed
                self._stop()
                if now >= page_deadline and page_deadline <= file_deadline:
                    raise LimitError(f"{name}: {where_now} took more than {lim.ocr_page_seconds:g} s; stopped",
                                     limit="ocr_page_seconds")
                raise LimitError(f"{name}: reading it took more than {lim.file_seconds:g} s ({where_now}); stopped",
                                 limit="file_seconds")
            kind = ev.get("ev")
            if kind == "stage":
                stage, page, pages = ev.get("stage"), ev.get("page"), ev.get("pages")
                if stage == "ocr":
                    where_now = f"OCR of page {page} of {pages}"
                    page_deadline = now + lim.ocr_page_seconds
                else:
                    where_now = {"text": "reading its text layer", "match": "matching its layout"}.get(stage, stage)
                    page_deadline = math.inf
                continue
            if kind == "result":
                return Extraction.from_json(ev["extraction"])  # keeps the layout the child matched
            if kind == "error":
                if ev.get("limit"):  # the child's message already says how to change the limit
                    raise LimitError(ev["message"], limit=ev["limit"], field=ev.get("field") or "file", located=True)
                raise InputError(ev["message"], field=ev.get("field"))
            if kind == "failed":
                raise ExtractorFailed(f"{name}: extractor failed: {ev.get('message')}", field="file")
            # the child's output ended: it died on this file
            code = proc.wait()
            tail = self._stderr_tail()
            self._stop()
            how = f"signal {-code}" if code < 0 else f"exit status {code}"
            raise ExtractorFailed(f"{name}: the reader process died ({how}) {where_now}"
                                  + (f": {tail}" if tail else ""), field="file")


def extract_isolated(path: str | Path, force_ocr: bool = False, limits: Limits | None = None):
    """One file through a fresh ``Extractor`` (for many files, keep one ``Extractor`` open)."""
    with Extractor(limits) as ex:
        return ex.extract(path, force_ocr=force_ocr)


# ---------------------------------------------------------------------- the child's side

def _serve() -> int:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the protocol

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")
        proto.flush()

    from dataclasses import asdict

    from ..core.errors import OtcError
    from .extract import extract_file
    from .layout import _native_pipeline

    _native_pipeline()  # docling's pipeline is built before "ready", not inside a file's time
    send({"ev": "ready"})
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            limits = Limits(**req["limits"])
            ex = extract_file(req["path"], force_ocr=req.get("force_ocr", False), limits=limits,
                              progress=lambda stage, page, pages: send(
                                  {"ev": "stage", "stage": stage, "page": page, "pages": pages}))
            send({"ev": "result", "extraction": asdict(ex)})
        except OtcError as exc:
            send({"ev": "error", "message": exc.message, "field": exc.field,
                  "limit": getattr(exc, "limit", None)})
        except MemoryError:
            send({"ev": "failed", "message": "out of memory"})
        except Exception as exc:  # a file that breaks the extractor: reported, the child lives on
            send({"ev": "failed", "message": " ".join(f"{type(exc).__name__}: {exc}".split())[:500]})
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
