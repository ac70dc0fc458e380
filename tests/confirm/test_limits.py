"""Issue 12, class 4: confirmations are read within limits (bytes, pages, pixels, seconds).

Each limit has a default and an environment variable (``OTCLAB_CONFIRM_*``), so these tests set
low ones and build small hostile files. Files that would take the test process down with them
(/dev/zero, a FIFO, a page of 1.6 billion pixels) are read by a child process with its address
space capped.
"""
from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from confirm.hostile import confirmation, endless_digits, huge_blank_page, scan, tiny_pages
from otclab.cli.main import main
from otclab.core.errors import InputError

REPO = Path(__file__).resolve().parents[2]



def _cap_memory():  # in the child: 3 GB of address space (docling + RapidOCR need about 1.6)
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def _cli(*args, timeout=180):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "otclab.cli.main", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_cap_memory, env=env, cwd=REPO)


def _one_line(err: str) -> str:
    err = err.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err[-3000:]
    return err


def test_more_pages_than_the_limit_are_refused_before_any_is_read(tmp_path, monkeypatch, capsys):
    from otclab.confirm import extract

    pdf = tiny_pages(tmp_path / "many.pdf", 60)  # the default limit is 50 pages
    read = []
    real = extract.read_text_layer
    monkeypatch.setattr(extract, "read_text_layer", lambda p: read.append(p) or real(p))
    with pytest.raises(InputError) as e:
        extract.extract_file(pdf)
    assert e.value.field == "file" and "60 pages" in e.value.message and "max_pages" in e.value.message
    assert read == []  # refused on the page count, before docling reads any page
    assert main(["confirm", "extract", str(pdf)]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "many.pdf" in err and "60 pages" in err and "50" in err


def test_page_and_byte_limits_are_configurable(tmp_path, monkeypatch, capsys):
    pdf = confirmation(tmp_path / "c.pdf")
    monkeypatch.setenv("OTCLAB_CONFIRM_MAX_PAGES", "1")
    five = tiny_pages(tmp_path / "five.pdf", 5)
    assert main(["confirm", "extract", str(five)]) == 2
    assert "OTCLAB_CONFIRM_MAX_PAGES" in _one_line(capsys.readouterr().err)
    monkeypatch.delenv("OTCLAB_CONFIRM_MAX_PAGES")
    monkeypatch.setenv("OTCLAB_CONFIRM_MAX_MB", "0.01")  # 10 kB; the confirmation is about 30 kB
    assert main(["confirm", "extract", str(pdf)]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "c.pdf" in err and "max_mb" in err


def test_dev_zero_is_refused_not_read(tmp_path):
    """``confirm extract /dev/zero`` read the whole 'file' to look at its first 1,024 bytes."""
    out = _cli("confirm", "extract", "/dev/zero", timeout=120)
    assert out.returncode == 2, out.stderr[-3000:]
    assert "not a regular file" in _one_line(out.stderr)


def test_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "scan.pdf"
    os.mkfifo(fifo)
    try:
        out = _cli("confirm", "extract", fifo, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("confirm extract waited on a FIFO")
    assert out.returncode == 2 and "not a regular file" in _one_line(out.stderr)


def test_huge_blank_page_is_rendered_within_the_pixel_limit(tmp_path):
    """A blank 200 x 200 inch page went to OCR at 200 dpi: 1.6 billion pixels, MemoryError."""
    pdf = huge_blank_page(tmp_path / "huge.pdf")
    out = _cli("confirm", "extract", pdf, "--json", "--details")
    assert out.returncode == 0, out.stderr[-3000:]
    (doc,) = json.loads(out.stdout)
    assert all(v is None for v in doc["fields"].values())  # blank: nothing to read, and no crash
    assert any("max_megapixels" in w for w in doc["warnings"])  # says it was rendered at a lower dpi


def test_ocr_time_per_page_is_bounded(tmp_path, monkeypatch, capsys):
    pdf = scan(tmp_path / "scan.pdf")
    monkeypatch.setenv("OTCLAB_CONFIRM_OCR_PAGE_SECONDS", "0.3")  # OCR of a page takes seconds
    assert main(["confirm", "extract", str(pdf)]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "scan.pdf" in err and "page 1" in err and "ocr_page_seconds" in err


def _no_constants(name):
    raise ValueError(f"non-finite number {name} in the output")


def test_no_non_finite_number_in_the_output(tmp_path, capsys):
    pdf = endless_digits(tmp_path / "digits.pdf")
    assert main(["confirm", "extract", str(pdf), "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out, parse_constant=_no_constants)
    assert doc["fields"]["notional"] is None and doc["fields"]["initial_price"] is None
    assert any("notional" in w and "range" in w for w in doc["warnings"])
    assert doc["fields"]["trade_id"] == "OTC-20250101-0001"
    for v in doc["fields"].values():
        assert not isinstance(v, float) or math.isfinite(v)
