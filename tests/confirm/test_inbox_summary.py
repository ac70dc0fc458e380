"""``otclab confirm inbox`` ends with one line: what it did, what it left in the inbox and why."""
from __future__ import annotations

import os
import time

from otclab.cli.main import main
from otclab.confirm.inbox import InboxPaths


def _age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_an_empty_inbox_says_so(tmp_path, capsys):
    assert main(["confirm", "inbox", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"inbox {tmp_path / 'inbox'}: no files waiting; nothing to do\n"


def test_files_just_copied_in_are_listed_and_summed_up_with_what_to_do(tmp_path, capsys):
    paths = InboxPaths.under(tmp_path)
    paths.make()
    for k in range(3):
        (paths.inbox / f"c{k}.pdf").write_bytes(b"%PDF-1.7\n")
    (paths.inbox / "scan.pdf.part").write_bytes(b"%PDF-")
    (paths.inbox / "folder").mkdir()
    assert main(["confirm", "inbox", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(ln.startswith("pending      c") and "(settle)" in ln for ln in lines) == 3
    assert lines[-1] == (f"inbox {paths.inbox}: 5 left in the inbox (1 not a regular file, 1 a temporary name, "
                         "3 modified less than 2 s ago); run it again in 2 s, or with --settle 0 if the copy has "
                         "finished")
    assert sorted(p.name for p in paths.inbox.iterdir()) == ["c0.pdf", "c1.pdf", "c2.pdf", "folder", "scan.pdf.part"]


def test_a_file_that_failed_once_is_counted_as_retried(tmp_path, capsys):
    paths = InboxPaths.under(tmp_path)
    paths.make()
    bad = paths.inbox / "notes.pdf"
    bad.write_text("not a pdf yet")
    _age(bad, 600)
    assert main(["confirm", "inbox", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"inbox {paths.inbox}: 1 left in the inbox (1 failed once, retried next run)")
    assert main(["confirm", "inbox", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"inbox {paths.inbox}: 1 quarantined"
