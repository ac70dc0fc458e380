"""Inbox pipeline: idempotency by content hash, quarantine with reasons, crash safety."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otclab.confirm import inbox as inbox_mod
from otclab.confirm.corpus import random_trade
from otclab.confirm.generate import Style, render_confirmation
from otclab.confirm.inbox import InboxPaths, read_log, run_inbox

REPO = Path(__file__).resolve().parents[2]


def _trades(n, seed=3):
    rng = random.Random(seed)
    return [random_trade(rng) for _ in range(n)]


def _drop(paths: InboxPaths, trades, tmp):
    paths.make()
    for i, t in enumerate(trades):
        render_confirmation(t, paths.inbox / f"c{i}.pdf", Style.random(random.Random(i)))


def _outputs(paths: InboxPaths) -> list[str]:
    return sorted(p.name for d in (paths.processed, paths.processed / "duplicates", paths.quarantine)
                  for p in d.iterdir() if p.is_file() and not p.name.endswith((".json", ".reason.txt")))


def test_processes_reconciles_and_is_idempotent(tmp_path):
    paths = InboxPaths.under(tmp_path)
    trades = _trades(3)
    booked = [t.to_dict() for t in trades]  # the book as JSON, in the trade record's form
    booked[1]["terms"]["notional"] *= 2  # the booking disagrees with what the document says
    _drop(paths, trades, tmp_path)
    entries = run_inbox(paths, booked)
    assert [e["status"] for e in entries] == ["processed"] * 3
    by_file = {e["file"]: e for e in entries}
    assert by_file["c0.pdf"]["mismatches"] == [] and by_file["c0.pdf"]["booked"]
    mism = by_file["c1.pdf"]["mismatches"]
    assert mism == [{"field": "notional", "booked": booked[1]["terms"]["notional"],
                     "document": trades[1].notional, "kind": "different"}]
    assert by_file["c1.pdf"]["review"] is True
    for e in entries:
        assert len(e["sha256"]) == 64 and e["timing"]["seconds"] > 0
        assert (tmp_path / e["destination"]).exists()
        side = json.loads((tmp_path / (e["destination"] + ".json")).read_text())
        assert side["fields"]["trade_id"] == e["fields"]["trade_id"]
    assert list(paths.inbox.iterdir()) == []
    # a second run finds nothing; the same content under a new name is a duplicate, not reprocessed
    assert run_inbox(paths, booked) == []
    shutil.copy(tmp_path / entries[0]["destination"], paths.inbox / "again.pdf")
    dup = run_inbox(paths, booked)
    assert [(e["status"], e["first_file"]) for e in dup] == [("duplicate", "c0.pdf")]
    assert len(read_log(paths.log)) == 4
    assert sum(e["status"] == "processed" for e in read_log(paths.log)) == 3


def test_quarantine_with_reasons(tmp_path):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    paths = InboxPaths.under(tmp_path)
    paths.make()
    (paths.inbox / "notes.txt").write_text("hello, not a pdf")
    good = render_confirmation(_trades(1)[0], tmp_path / "good.pdf")
    data = good.read_bytes()
    (paths.inbox / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (paths.inbox / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    c = canvas.Canvas(str(paths.inbox / "locked.pdf"),
                      encrypt=pdfencrypt.StandardEncryption("secret", ownerPassword="owner"))
    c.drawString(100, 700, "locked")
    c.save()
    names = ["notes.txt", "truncated.pdf", "garbage.pdf", "locked.pdf"]
    # first look: each is pending (a scanner may still be writing it), with the reason
    first = {e["file"]: e for e in run_inbox(paths, stable_seconds=0)}
    assert {f: e["status"] for f, e in first.items()} == dict.fromkeys(names, "pending")
    assert sorted(p.name for p in paths.inbox.iterdir()) == sorted(names)
    # second look, the same bytes, unchanged: quarantined with the first look's reason
    entries = {e["file"]: e for e in run_inbox(paths, stable_seconds=0)}
    assert {f: e["status"] for f, e in entries.items()} == dict.fromkeys(names, "quarantined")
    assert all(entries[f]["reason"] == first[f]["error"] for f in names)
    assert "not a PDF" in entries["notes.txt"]["reason"]
    assert "encrypted" in entries["locked.pdf"]["reason"]
    assert "corrupt" in entries["truncated.pdf"]["reason"] or "corrupt" in entries["garbage.pdf"]["reason"]
    for e in entries.values():
        q = tmp_path / e["destination"]
        assert q.exists() and q.parent == paths.quarantine
        assert Path(str(q) + ".reason.txt").read_text().strip() == e["reason"]


def test_crash_between_log_and_move_is_completed_not_redone(tmp_path, monkeypatch):
    paths = InboxPaths.under(tmp_path)
    _drop(paths, _trades(2), tmp_path)
    real_move = inbox_mod._move

    def crash(src, dst):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(inbox_mod, "_move", crash)
    with pytest.raises(KeyboardInterrupt):
        run_inbox(paths)
    assert len(read_log(paths.log)) == 1  # logged, not moved
    monkeypatch.setattr(inbox_mod, "_move", real_move)
    calls = []
    real_process = inbox_mod.process_file
    monkeypatch.setattr(inbox_mod, "process_file", lambda p, b, *a: calls.append(p.name) or real_process(p, b, *a))
    run_inbox(paths)
    assert len(calls) == 1  # only the file that had not been logged is extracted
    log = read_log(paths.log)
    assert sorted(e["file"] for e in log) == ["c0.pdf", "c1.pdf"] and len(log) == 2
    assert list(paths.inbox.iterdir()) == [] and len(_outputs(paths)) == 2


def test_partial_log_line_is_ignored_and_fenced(tmp_path):
    paths = InboxPaths.under(tmp_path)
    _drop(paths, _trades(1), tmp_path)
    with open(paths.log, "w") as f:
        f.write('{"ts": "2026-01-01", "file": "x.pdf", "sha2')  # a write cut short by a crash
    run_inbox(paths)
    log = read_log(paths.log)
    assert [e["file"] for e in log] == ["c0.pdf"]
    assert paths.log.read_text().count("\n") == 2


def test_killed_subprocess_then_rerun_loses_nothing(tmp_path):
    """Kill the batch job with SIGKILL mid-run, rerun it: every file is logged and moved once."""
    from otclab.confirm.degrade import ScanDefects, scan_pdf

    paths = InboxPaths.under(tmp_path)
    trades = _trades(6, seed=8)
    _drop(paths, trades, tmp_path)
    # a scan (processed last: newest file) makes the run long enough to be killed in its middle
    for i in (4,):
        src = paths.inbox / f"c{i}.pdf"
        tmp = tmp_path / f"t{i}.pdf"
        src.replace(tmp)
        scan_pdf(tmp, src, ScanDefects(dpi=150, rotation_deg=0.7, noise_sigma=5, jpeg_quality=60), seed=i)
    (paths.inbox / "bad.pdf").write_bytes(b"not a pdf")
    names = sorted(p.name for p in paths.inbox.iterdir())
    cmd = [sys.executable, str(REPO / "pipelines" / "confirm_inbox.py"), str(tmp_path), "--settle", "0", "--stable", "0"]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(read_log(paths.log)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the job finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(read_log(paths.log))
    assert 2 <= done_before < len(names)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    # bad.pdf was looked at once by now (pending); the next run quarantines it
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    log = [e for e in read_log(paths.log) if e["status"] != "pending"]
    assert sorted(e["file"] for e in log) == names  # each file exactly once
    assert len({e["sha256"] for e in log}) == len(names)
    assert list(paths.inbox.iterdir()) == []
    assert len(_outputs(paths)) == len(names)
    assert {e["file"]: e["status"] for e in log}["bad.pdf"] == "quarantined"


def test_book_index_takes_records_or_their_json(trade, text_pdf):
    from otclab.confirm.inbox import book_index, process_file
    from otclab.confirm.values import id_key
    from otclab.core.errors import InputError, OtcError

    key = id_key(trade.trade_id)
    assert book_index([trade])[key] is trade
    assert book_index({trade.trade_id: trade.to_dict()})[key].to_dict() == trade.to_dict()
    bad = trade.to_dict()
    bad["terms"]["ko_barrier"] = 9.0
    err = book_index([bad])[key]
    assert isinstance(err, OtcError) and err.field == "book[0].terms.ko_barrier"
    # reading the document still works; the invalid booking is a warning naming the field, for review
    entry = process_file(text_pdf, book_index([bad]))
    assert entry["status"] == "processed" and not entry["booked"] and entry["review"]
    assert any("book[0].terms.ko_barrier" in w for w in entry["warnings"])
    with pytest.raises(InputError) as e:
        book_index([{"template": "snowball"}])
    assert e.value.field == "book[0].trade_id"
