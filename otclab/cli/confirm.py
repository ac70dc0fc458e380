"""``otclab confirm``: print, read back and reconcile trade confirmations; run the inbox.

Heavy libraries (docling, RapidOCR, reportlab) are imported inside the commands so that
``otclab --help`` stays fast.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional

import typer

from ..core.errors import InputError

NAME = "confirm"
app = typer.Typer(help="Trade confirmations (交易确认书): generate, extract, reconcile, inbox.",
                  no_args_is_help=True, add_completion=False)


def _load_json(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"file not found: {path}", field=what) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})", field=what) from exc


TRADE_HELP = ("Booked trade JSON in the trade record's form: trade_id, template, terms, direction, "
              "counterparty {id, name, uscc?}, trade_date (what `otclab trades show ID --json` prints).")


def _load_trade(path: Path):
    from ..confirm.trade import read_trade

    return read_trade(_load_json(path, "trade"))


@app.command()
def generate(
    trade: Path = typer.Argument(..., help=TRADE_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="PDF to write."),
    layout: str = typer.Option("table2", help="table2 | table4 | clauses | mixed"),
    scan: bool = typer.Option(False, help="Also degrade it into an image-only scan (for testing the OCR route)."),
    seed: int = typer.Option(0, help="Seed of the scan defects."),
) -> None:
    """Print the Chinese confirmation PDF of a booked trade."""
    import random

    from ..confirm.degrade import ScanDefects, scan_pdf
    from ..confirm.generate import Style, render_confirmation

    if layout not in ("table2", "table4", "clauses", "mixed"):
        raise InputError(f"unknown layout {layout!r}; allowed: table2, table4, clauses, mixed", field="layout")
    render_confirmation(_load_trade(trade), out, Style(layout=layout))
    if scan:
        tmp = out.with_name(f".{out.name}.text.pdf")
        out.replace(tmp)
        scan_pdf(tmp, out, ScanDefects.random(random.Random(seed)), seed=seed)
        tmp.unlink()
    print(out)


# Limits on reading one file (otclab/confirm/limits.py); each option overrides OTCLAB_CONFIRM_<NAME>.
_LIMIT_HELP = "Default from OTCLAB_CONFIRM_{}, else {}."
MaxMb = typer.Option(None, "--max-mb", help="Largest file read, in MB. " + _LIMIT_HELP.format("MAX_MB", 50))
MaxPages = typer.Option(None, "--max-pages", help="Most pages read per file. " + _LIMIT_HELP.format("MAX_PAGES", 50))
MaxMegapixels = typer.Option(None, "--max-megapixels", help="Largest rendering of a page for OCR (a larger "
                             "page is rendered at a lower dpi). " + _LIMIT_HELP.format("MAX_MEGAPIXELS", 25))
OcrPageSeconds = typer.Option(None, "--ocr-page-seconds", help="Longest OCR of one page before the file is "
                              "stopped. " + _LIMIT_HELP.format("OCR_PAGE_SECONDS", 60))
FileSeconds = typer.Option(None, "--file-seconds", help="Longest reading of one file. "
                           + _LIMIT_HELP.format("FILE_SECONDS", 300))
MaxMemoryMb = typer.Option(None, "--max-memory-mb", help="Most memory the reader may use per file. "
                           + _LIMIT_HELP.format("MAX_MEMORY_MB", 4096))


def _limits(**given):
    from ..confirm.limits import Limits

    return Limits.from_env(**given)


@app.command()
def extract(
    files: List[Path] = typer.Argument(..., help="Confirmation PDFs (text layer or scans)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list on stdout."),
    details: bool = typer.Option(False, help="Add per-page routes and timings."),
    ocr: bool = typer.Option(False, help="OCR every page even where a text layer exists."),
    max_mb: Optional[float] = MaxMb, max_pages: Optional[int] = MaxPages,
    max_megapixels: Optional[float] = MaxMegapixels, ocr_page_seconds: Optional[float] = OcrPageSeconds,
    file_seconds: Optional[float] = FileSeconds, max_memory_mb: Optional[float] = MaxMemoryMb,
) -> None:
    """Extract the trade elements of confirmations: one object per file. Each file is read in a
    child process within the limits; the first file that is unreadable or past a limit stops the
    command with one line naming it (exit 2)."""
    from ..confirm.worker import Extractor

    limits = _limits(max_mb=max_mb, max_pages=max_pages, max_megapixels=max_megapixels,
                     ocr_page_seconds=ocr_page_seconds, file_seconds=file_seconds, max_memory_mb=max_memory_mb)
    with Extractor(limits) as ex:
        out = [ex.extract(f, force_ocr=ocr).to_json(details=details) for f in files]
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return
    for d in out:
        print(f"== {d['source']}")
        for k, v in d["fields"].items():
            if v is not None:
                print(f"  {k:14s} {v}  ({d['confidence'].get(k, 0):.2f})")
        for w in d["warnings"]:
            print(f"  ! {w}")


@app.command()
def reconcile(
    file: Path = typer.Argument(..., help="Confirmation PDF."),
    trade: Path = typer.Option(..., "--trade", help=TRADE_HELP),
    as_json: bool = typer.Option(False, "--json"),
    max_mb: Optional[float] = MaxMb, max_pages: Optional[int] = MaxPages,
    max_megapixels: Optional[float] = MaxMegapixels, ocr_page_seconds: Optional[float] = OcrPageSeconds,
    file_seconds: Optional[float] = FileSeconds, max_memory_mb: Optional[float] = MaxMemoryMb,
) -> None:
    """Compare a confirmation with the booked trade; exit 1 when anything differs."""
    from ..confirm.reconcile import reconcile as rec
    from ..confirm.worker import extract_isolated

    limits = _limits(max_mb=max_mb, max_pages=max_pages, max_megapixels=max_megapixels,
                     ocr_page_seconds=ocr_page_seconds, file_seconds=file_seconds, max_memory_mb=max_memory_mb)
    booked = _load_trade(trade)
    ex = extract_isolated(file, limits=limits)
    mism = rec(ex.fields, booked)
    if as_json:
        print(json.dumps({"source": ex.source, "mismatches": [m.to_json() for m in mism],
                          "warnings": ex.warnings}, ensure_ascii=False, indent=1, default=str))
    else:
        print(f"{ex.source}: {'matches the booking' if not mism else f'{len(mism)} mismatch(es)'}")
        for m in mism:
            print(f"  {m}")
    if mism:
        raise SystemExit(1)  # differences found: not a usage error, but not a clean match


@app.command()
def inbox(
    root: Path = typer.Argument(..., help="Folder holding inbox/, processed/, quarantine/ and log.jsonl."),
    book: Optional[Path] = typer.Option(None, help="Booked trades in the trade record's JSON form: a list, "
                                        "or an object trade id -> trade."),
    settle: float = typer.Option(2.0, help="Leave files modified less than this many seconds ago for the next "
                                 "run (reported as pending)."),
    stable: float = typer.Option(60.0, help="Quarantine an unreadable file only once it has failed on two runs "
                                 "and not changed for this many seconds; until then it is pending and retried."),
    as_json: bool = typer.Option(False, "--json", help="Print this run's log entries as JSON lines."),
    db: Optional[str] = typer.Option(None, "--db", help="The store (book of record; default OTCLAB_DB_URL): match, "
                                     "attach, confirm or raise breaks, mail the trader (docs/confirm-book.md)."),
    mail_config: Optional[Path] = typer.Option(None, help="Mail settings and addresses (default "
                                               "OTCLAB_MAIL_CONFIG, else <data>/mail.toml)."),
    documents: Optional[Path] = typer.Option(None, help="Where documents are kept (default "
                                             "OTCLAB_CONFIRM_DOCUMENTS, else <data>/documents)."),
    max_mb: Optional[float] = MaxMb, max_pages: Optional[int] = MaxPages,
    max_megapixels: Optional[float] = MaxMegapixels, ocr_page_seconds: Optional[float] = OcrPageSeconds,
    file_seconds: Optional[float] = FileSeconds, max_memory_mb: Optional[float] = MaxMemoryMb,
) -> None:
    """Process every file waiting in the inbox once (idempotent, crash-safe)."""
    import os

    from ..confirm.inbox import InboxPaths, describe, run_against_book

    limits = _limits(max_mb=max_mb, max_pages=max_pages, max_megapixels=max_megapixels,
                     ocr_page_seconds=ocr_page_seconds, file_seconds=file_seconds, max_memory_mb=max_memory_mb)
    trades = _load_json(book, "book") if book else None

    def show(e: dict) -> None:
        if as_json:
            print(json.dumps(e, ensure_ascii=False, default=str), flush=True)
        else:
            print(describe(e), flush=True)

    paths = InboxPaths.under(root)
    try:
        entries = run_against_book(paths, trades, db or os.environ.get("OTCLAB_DB_URL"), mail_config, documents,
                                   settle_seconds=settle, stable_seconds=stable, limits=limits, on_entry=show,
                                   on_mail=None if as_json else (lambda c: print(f"mail: {c or 'none due'}")))
    except OSError as exc:  # a full disk, a folder we may not write: one line, not a traceback
        raise InputError(f"{exc.strerror or exc}: {exc.filename or root}", field="inbox") from exc
    if not as_json:
        print(inbox_summary(paths.inbox, entries, settle))


# why a file was left in the inbox -> what the summary calls it (inbox.run_inbox's "why")
LEFT_BECAUSE = {"young": "modified less than --settle s ago", "temporary_name": "a temporary name",
                "incomplete": "a PDF still being written", "changing": "changed while read",
                "unreadable": "not readable", "failed": "failed once, retried next run",
                "not_a_file": "not a regular file"}


def inbox_summary(folder: Path, entries: list[dict], settle: float) -> str:
    """The run in one line: what was done, what was left in the inbox and why, and what to do
    about files too young to read (the usual surprise right after copying files in)."""
    from collections import Counter

    if not entries:
        return f"inbox {folder}: no files waiting; nothing to do"
    done = Counter(e["status"] for e in entries if e["status"] not in ("pending", "skipped"))
    left = Counter(e.get("why") for e in entries if e["status"] in ("pending", "skipped"))
    parts = [f"{n} {s}" for s, n in sorted(done.items())]
    if left:
        why = ", ".join(f"{n} {LEFT_BECAUSE.get(w, w).replace('--settle s', f'{settle:g} s')}"
                        for w, n in sorted(left.items(), key=lambda kv: str(kv[0])))
        parts.append(f"{sum(left.values())} left in the inbox ({why})")
    hint = (f"; run it again in {settle:g} s, or with --settle 0 if the copy has finished" if left.get("young") else "")
    return f"inbox {folder}: " + ", ".join(parts) + hint


# ---------------------------------------------------------------------- annotated layouts

layouts_app = typer.Typer(help="Counterparties' confirmation layouts (annotation files): list, show, check.",
                          no_args_is_help=True, add_completion=False)
app.add_typer(layouts_app, name="layouts")


@layouts_app.command("list")
def layouts_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The layouts extraction uses: shipped ones and operations' own ($OTCLAB_CONFIRM_LAYOUTS,
    default ~/.otclab/confirm/layouts), which replace shipped ones of the same id."""
    from ..confirm import layouts as L

    lays = L.load_all()
    if as_json:
        print(json.dumps([{**x.to_dict(), "source": x.source} for x in lays], ensure_ascii=False, indent=1))
        return
    if not lays:
        print(f"no layouts (shipped: {L.SHIPPED_DIR}; operations': {L.ops_dir()})")
    for x in lays:
        print(f"{x.id:28s} v{x.version}  {x.counterparty}  {len(x.fields)} fields  markers {x.markers}  {x.source}")


@layouts_app.command("show")
def layouts_show(layout_id: str = typer.Argument(..., help="the layout's id (see `otclab confirm layouts list`)")) -> None:
    """One layout's annotation file, as JSON."""
    from ..confirm import layouts as L

    lays = {x.id: x for x in L.load_all()}
    if layout_id not in lays:
        raise InputError(f"no layout {layout_id!r}; known: {', '.join(sorted(lays)) or 'none'}", field="layout")
    print(json.dumps({**lays[layout_id].to_dict(), "source": lays[layout_id].source}, ensure_ascii=False, indent=1))


@layouts_app.command("check")
def layouts_check(
    file: Path = typer.Argument(..., help="an annotation file (JSON) to check before installing it"),
    sample: Optional[Path] = typer.Option(None, help="a sample confirmation: also read it with the layout"),
) -> None:
    """Check an annotation file: one line naming the key and what is allowed when it is wrong
    (exit 2); with --sample, the fields read from the sample with it, their confidence and
    whether each would be accepted without a person."""
    from ..confirm import layouts as L

    lay = L.load(file)
    print(f"{file}: layout {lay.id} v{lay.version} for {lay.counterparty}: {len(lay.fields)} fields, "
          f"markers {lay.markers}: valid")
    if sample is not None:
        from ..confirm.extract import extract_pages, read_pages

        ex = extract_pages(read_pages(sample), sample.name, layouts=[lay])
        if ex.layout is None:
            raise InputError(f"{sample.name} does not match layout {lay.id} (its markers or most of its labels "
                             f"are not printed on page 1)", field="sample")
        low = set(L.below_threshold(ex, [lay]))
        for f, v in ex.fields.items():
            if v is not None:
                print(f"  {f:15s} {str(v):40s} {ex.confidence.get(f, 0):.3f} {'BREAK' if f in low else 'ok'}")


# ---- against the book: online confirmation, mail, breaks (docs/confirm-book.md) ------------------

def _store(db: Optional[str]):
    from ..store.db import open_store

    return open_store(db)


def _user(user: Optional[str]) -> str:
    import getpass

    return user or os.environ.get("OTCLAB_USER") or getpass.getuser()


@app.command()
def issue(
    trade_id: str = typer.Argument(..., help="A booked trade's id."),
    key: Path = typer.Option(..., help="The dealer's seal key: PKCS#12 (.p12) or PEM key (e.g. demo PKI dealer.p12)."),
    cert: Optional[Path] = typer.Option(None, help="Certificate chain (PEM), for a PEM key."),
    password: Optional[str] = typer.Option(None, help="Password of the key file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the sealed PDF here (for the client)."),
    trust_root: Optional[List[Path]] = typer.Option(None, help="Trusted root (PEM): the seal is checked before sealing."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (default OTCLAB_EVIDENCE_URL)."),
    db: Optional[str] = typer.Option(None, "--db", help="The store (default OTCLAB_DB_URL)."),
    documents: Optional[Path] = typer.Option(None, help="Documents folder (default <data>/documents)."),
    user: Optional[str] = typer.Option(None, help="Who issues it (default OTCLAB_USER, else the login name)."),
) -> None:
    """Print the confirmation of a booked trade, seal it by the dealer and attach it (route online)."""
    from ..confirm.online import issue as do_issue
    from ..esign.cli_support import credentials, open_log, trust_store, write_bytes

    trust = trust_store(trust_root, crl) if trust_root else None
    with open_log(evidence) as log:
        res = do_issue(_store(db), trade_id, credentials(key, cert, password), by=_user(user), evidence=log,
                       trust=trust, documents=documents)
    if out:
        write_bytes(out, res["file"].read_bytes())
    print(f"issued {res['trade_id']} v{res['trade_version']}: sealed by the dealer, attachment "
          f"v{res['attachment_version']} {res['sha256'][:12]} ({out or res['file']})")


@app.command()
def countersign(
    trade_id: str = typer.Argument(..., help="A trade whose online confirmation was issued."),
    key: Path = typer.Option(..., help="The client's signing key: PKCS#12 (.p12) or PEM (e.g. demo PKI client.p12)."),
    trust_root: List[Path] = typer.Option(..., help="Trusted root certificate(s) (PEM)."),
    cert: Optional[Path] = typer.Option(None, help="Certificate chain (PEM), for a PEM key."),
    password: Optional[str] = typer.Option(None, help="Password of the key file."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the signed PDF here."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (default OTCLAB_EVIDENCE_URL)."),
    db: Optional[str] = typer.Option(None, "--db", help="The store (default OTCLAB_DB_URL)."),
    documents: Optional[Path] = typer.Option(None, help="Documents folder (default <data>/documents)."),
    user: Optional[str] = typer.Option(None, help="Who records it (default OTCLAB_USER, else the login name)."),
) -> None:
    """The client's signature on the issued confirmation; both signatures verified; the trade confirmed online."""
    from ..confirm.online import countersign as do_sign
    from ..esign.cli_support import credentials, open_log, trust_store, write_bytes

    with open_log(evidence) as log:
        res = do_sign(_store(db), trade_id, credentials(key, cert, password), trust_store(trust_root, crl),
                      by=_user(user), evidence=log, documents=documents)
    if out:
        write_bytes(out, res["file"].read_bytes())
    signers = ", ".join(s.get("signer", "?") for s in res["verification"]["signatures"])
    print(f"confirmed {trade_id} online: {res['verification']['count']} signatures verify ({signers}); "
          f"attachment v{res['attachment_version']} {res['sha256'][:12]} ({out or res['file']})")


@app.command()
def mail(
    db: Optional[str] = typer.Option(None, "--db", help="The store (default OTCLAB_DB_URL)."),
    mail_config: Optional[Path] = typer.Option(None, help="Mail settings (default OTCLAB_MAIL_CONFIG, else <data>/mail.toml)."),
    documents: Optional[Path] = typer.Option(None, help="Documents folder (default <data>/documents)."),
    send: bool = typer.Option(True, help="Send the due mails (--no-send: only list the queue)."),
    retry_failed: bool = typer.Option(False, help="Queue failed mails again first (after fixing the cause)."),
    status: Optional[str] = typer.Option(None, help="List only: pending | sending | sent | failed."),
) -> None:
    """Send the confirmation mails that are due (retrying with backoff), then list the queue."""
    from ..confirm.attach import documents_dir
    from ..mail import queue as Q
    from ..mail.config import load_config

    if status is not None and status not in Q.STATUSES:
        raise InputError(f"unknown status {status!r}; allowed: {', '.join(Q.STATUSES)}", field="status")
    store = _store(db)
    if retry_failed:
        print(f"queued again: {Q.retry_failed(store)}")
    if send:
        print(f"sent: {Q.deliver_due(store, load_config(mail_config), documents or documents_dir()) or 'none due'}")
    for r in Q.queue_rows(store, status):
        print(f"{r['id']:5d} {r['status']:8s} {r['attempts']}x {r['to_addr']}  {r['subject']}"
              + (f"  [{r['last_error']}]" if r["status"] != "sent" and r["last_error"] else ""))


@app.command()
def breaks(
    db: Optional[str] = typer.Option(None, "--db", help="The store (default OTCLAB_DB_URL)."),
    status: Optional[str] = typer.Option("open", help="open | resolved | accepted | all"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List confirmation breaks (the operations view: otclab dashboard confirm-breaks)."""
    from ..confirm.breaks import list_breaks

    out = list_breaks(_store(db), None if status == "all" else status)
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=1, default=str))
        return
    if not out:
        print(f"no {'' if status == 'all' else status + ' '}breaks")
    for b in out:
        print(f"{b['id']:5d} {b['status']:8s} {b['kind']:12s} {b['trade_id'] or '-':22s} {b['file_name']}  {b['summary']}")


@app.command("close-break")
def close_break(
    break_id: int = typer.Argument(...),
    action: str = typer.Argument(..., help="accept (the document confirms the trade) | resolve (closed, not confirmed)"),
    comment: str = typer.Option(..., help="Why (audited)."),
    trade: Optional[str] = typer.Option(None, help="For a break without a matched trade: the trade it confirms."),
    user: Optional[str] = typer.Option(None, help="Who (default OTCLAB_USER, else the login name); must be in the "
                                       "operations group of the users file."),
    db: Optional[str] = typer.Option(None, "--db", help="The store (default OTCLAB_DB_URL)."),
) -> None:
    """Accept or resolve a confirmation break, naming the user and why."""
    from ..access import local_identity
    from ..confirm.breaks import close_break as do_close

    b = do_close(_store(db), break_id, action, local_identity(_user(user)), comment, trade)
    print(f"break {b['id']} {b['status']} by {b['resolved_by']}" + (f": {b['trade_id']} confirmed" if b["status"] == "accepted" else ""))


@app.command("documents")
def documents_cmd(
    trade_id: str = typer.Argument(..., help="A booked trade's id."),
    db: Optional[str] = typer.Option(None, "--db", help="The store (default OTCLAB_DB_URL)."),
    documents: Optional[Path] = typer.Option(None, help="Documents folder (default <data>/documents)."),
) -> None:
    """A trade's confirmation state and the documents attached to it (version, kind, hash, file)."""
    from ..confirm import attach as A

    with _store(db).connect() as conn:
        state = A.confirmation_state(conn, trade_id)
        atts = A.attachments(conn, trade_id)
    print(f"{trade_id}: " + (f"{state['state']} ({state['route']}) v{state['trade_version']} by {state['by']} "
                             f"{state['at']:%Y-%m-%d %H:%M}" if state else "not confirmed"))
    for a in atts:
        print(f"  v{a['version']} {a['kind']:18s} {a['sha256'][:12]} {a['file_name']}  "
              f"{A.document_path(a['path'], documents)}")
