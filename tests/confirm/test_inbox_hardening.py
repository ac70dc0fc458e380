"""Issue 12, classes 4 and 5: the inbox cannot be bricked, blocked, or made to lose a document.

- a log whose last line was cut inside a multi-byte character (power loss, full disk) is read;
- a file still being written (a scanner pausing mid-file) waits for the next run and is reported
  as pending, never quarantined on its first look; a bad file is quarantined only once it has
  stopped changing and failed twice; a quarantined file dropped again is read again;
- files too young to read are reported, not skipped without a word;
- one file past a limit (pages, OCR seconds) does not hold up the files behind it.
"""
from __future__ import annotations

import json
import os
import time

import pytest

from confirm.hostile import confirmation, scan, tiny_pages
from otclab.cli.main import main
from otclab.confirm.inbox import InboxPaths, read_log, run_inbox



def _age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


def _status(entries):
    return {e["file"]: e["status"] for e in entries}


def test_log_torn_inside_a_multibyte_character_is_read(tmp_path, capsys):
    paths = InboxPaths.under(tmp_path)
    paths.make()
    old = {"ts": "2026-01-01T00:00:00+00:00", "file": "旧确认书.pdf", "sha256": "0" * 64, "size": 1,
           "status": "processed", "destination": "processed/000000000000_旧确认书.pdf"}
    torn = json.dumps({"ts": "2026-01-02T00:00:00+00:00", "file": "确认书.pdf"}, ensure_ascii=False).encode()
    cut = torn.index("确".encode()) + 1  # inside the three bytes of 确
    paths.log.write_bytes(json.dumps(old, ensure_ascii=False).encode() + b"\n" + torn[:cut])
    confirmation(paths.inbox / "c0.pdf")
    entries = run_inbox(paths)
    assert _status(entries) == {"c0.pdf": "processed"}
    assert [e["file"] for e in read_log(paths.log)] == ["旧确认书.pdf", "c0.pdf"]
    # and the command line, on the same log, runs (nothing left to do) instead of crashing
    assert main(["confirm", "inbox", str(tmp_path), "--settle", "0"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_scanner_pausing_mid_file_is_pending_then_processed(tmp_path):
    """The scanner wrote 60% of the file and paused for more than the 2 s settle time."""
    paths = InboxPaths.under(tmp_path)
    paths.make()
    data = confirmation(tmp_path / "full.pdf").read_bytes()
    part = paths.inbox / "scan.pdf"
    part.write_bytes(data[: int(len(data) * 0.6)])
    _age(part, 5)
    (e,) = run_inbox(paths, settle_seconds=2)
    assert e["file"] == "scan.pdf" and e["status"] == "pending", e
    assert part.exists() and not any(paths.quarantine.iterdir())
    with open(part, "ab") as f:  # the scanner resumes and finishes
        f.write(data[int(len(data) * 0.6):])
    _age(part, 5)
    (e,) = run_inbox(paths, settle_seconds=2)
    assert e["status"] == "processed" and e["fields"]["trade_id"]
    assert not part.exists()


def test_young_files_are_reported_not_skipped_silently(tmp_path, capsys):
    paths = InboxPaths.under(tmp_path)
    paths.make()
    confirmation(paths.inbox / "new.pdf")  # modified just now
    (e,) = run_inbox(paths, settle_seconds=2)
    assert e["file"] == "new.pdf" and e["status"] == "pending" and "2" in e["reason"]
    assert main(["confirm", "inbox", str(tmp_path), "--settle", "30"]) == 0
    out = capsys.readouterr().out
    assert "pending" in out and "new.pdf" in out


def test_bad_file_is_quarantined_only_on_a_second_look_and_retried_when_dropped_again(tmp_path):
    paths = InboxPaths.under(tmp_path)
    paths.make()
    bad = paths.inbox / "notes.pdf"
    bad.write_text("not a pdf yet")
    _age(bad, 600)  # long unchanged
    (e,) = run_inbox(paths)
    assert e["status"] == "pending" and "not a PDF" in e["reason"]  # first look: retried later
    (e,) = run_inbox(paths)
    assert e["status"] == "quarantined" and "not a PDF" in e["reason"]
    # the operator drops the same bytes again (e.g. after raising a limit): read again, not a duplicate
    time.sleep(0.05)  # later than the move into quarantine (the file's ctime tells them apart)
    (tmp_path / e["destination"]).replace(paths.inbox / "notes.pdf")
    (e,) = run_inbox(paths)
    assert e["status"] == "pending"


def test_one_file_past_a_limit_does_not_block_the_others(tmp_path, monkeypatch):
    """A scan whose OCR runs past the per-page deadline and a file with too many pages are set
    aside; the good confirmation behind them is processed in the same run."""
    monkeypatch.setenv("OTCLAB_CONFIRM_OCR_PAGE_SECONDS", "0.3")
    paths = InboxPaths.under(tmp_path)
    paths.make()
    scan(paths.inbox / "a_scan.pdf")
    tiny_pages(paths.inbox / "b_many.pdf", 60)
    confirmation(paths.inbox / "c_good.pdf")
    for i, p in enumerate(sorted(paths.inbox.iterdir())):
        _age(p, 600 - i)  # oldest first: the slow ones come before the good one
    first = {e["file"]: e for e in run_inbox(paths)}
    assert _status(first.values()) == {"a_scan.pdf": "pending", "b_many.pdf": "pending", "c_good.pdf": "processed"}
    assert "ocr_page_seconds" in first["a_scan.pdf"]["reason"]
    assert "max_pages" in first["b_many.pdf"]["reason"]
    second = {e["file"]: e for e in run_inbox(paths)}
    assert _status(second.values()) == {"a_scan.pdf": "quarantined", "b_many.pdf": "quarantined"}
    assert "ocr_page_seconds" in second["a_scan.pdf"]["reason"]
    assert list(paths.inbox.iterdir()) == []


@pytest.mark.parametrize("args", [["--settle", "nan"], ["--settle", "-1"], ["--stable", "inf"], ["--stable", "1e9"],
                                  ["--max-pages", "0"], ["--max-mb", "nan"], ["--ocr-page-seconds", "-3"],
                                  ["--file-seconds", "inf"], ["--max-memory-mb", "0"], ["--max-megapixels", "-1"]])
def test_meaningless_settings_are_one_line_errors(tmp_path, capsys, args):
    assert main(["confirm", "inbox", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and args[0] in err, err


def test_bad_limit_variable_is_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OTCLAB_CONFIRM_MAX_PAGES", "many")
    assert main(["confirm", "inbox", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "OTCLAB_CONFIRM_MAX_PAGES" in err


def test_entries_that_are_not_files_are_reported_and_left_alone(tmp_path):
    paths = InboxPaths.under(tmp_path)
    paths.make()
    (paths.inbox / "folder").mkdir()
    os.mkfifo(paths.inbox / "pipe.pdf")
    (paths.inbox / "link.pdf").symlink_to("/dev/zero")
    (paths.inbox / "scan.pdf.part").write_bytes(b"%PDF-1.7\n")
    got = {e["file"]: e for e in run_inbox(paths)}
    assert _status(got.values()) == {"folder": "skipped", "pipe.pdf": "skipped", "link.pdf": "skipped",
                                     "scan.pdf.part": "pending"}
    assert "FIFO" in got["pipe.pdf"]["reason"] and "link" in got["link.pdf"]["reason"]
    assert len(read_log(paths.log)) == 4
    again = run_inbox(paths)  # reported again, logged once
    assert len(again) == 4 and len(read_log(paths.log)) == 4
    assert sorted(p.name for p in paths.inbox.iterdir()) == ["folder", "link.pdf", "pipe.pdf", "scan.pdf.part"]


def test_unwritable_root_is_one_line_error(tmp_path, capsys):
    root = tmp_path / "ro"
    root.write_text("a file where the inbox folder should be")
    assert main(["confirm", "inbox", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: inbox:")
