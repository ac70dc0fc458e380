"""Issue 12, class 7: an outside chat message cannot stall the parser or crash it.

The parser's work grows linearly with the message, and a message at the documented length limit
(``MAX_CHARS``) costs about what an ordinary message of that length costs. Timing assertions
compare against a baseline measured in the same test (never a fixed wall time): linear work gives
a ratio of about 4 when the input grows 4 times, quadratic work about 16.
"""
from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otclab.cli.main import main
from otclab.core.errors import InputError
from otclab.rfq import MAX_CHARS, parse

REPO = Path(__file__).resolve().parents[2]



def _seconds(text: str, use_model: bool = False, repeat: int = 3) -> float:
    """Best of ``repeat`` parse times (a clearly slow one is not repeated)."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            parse(text, use_model=use_model)
        except InputError:
            pass
        best = min(best, time.perf_counter() - t0)
        if best > 2.0:
            break
    return best


def _cjk(n: int) -> str:
    """Deterministic CJK text that asks for nothing: the ordinary-message baseline."""
    return "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(n))


def test_9999_digit_message_costs_what_ordinary_text_costs():
    """The issue's case: 9,999 digits took about 60 s; ordinary text of that length about 1 s."""
    parse("中证500 雪球 103 75 1年 票息多少")  # load the model outside the measurement
    base = _seconds(_cjk(MAX_CHARS - 1), use_model=True)
    digits = _seconds("1" * (MAX_CHARS - 1), use_model=True)
    assert digits < 3 * base + 0.5, f"9,999 digits: {digits:.2f} s; ordinary text: {base:.2f} s"


# Hostile shapes, each of which made one regular expression or loop quadratic.
HOSTILE = {
    "digits": lambda n: "1" * n,
    "chinese_numerals": lambda n: "一" * n,
    "number_list": lambda n: ("1/" * n)[:n],
    "lines": lambda n: ("500 1年\n" * n)[:n],
    "clauses": lambda n: ("500 1年," * n)[:n],
    "futures_codes": lambda n: ("IC " * n)[:n],
    "many_requests": lambda n: ("500 雪球 1年\n" * n)[:n],
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_parse_work_grows_linearly(kind):
    make = HOSTILE[kind]
    parse("中证500 雪球 103 75 1年 票息多少", use_model=False)
    small = _seconds(make(MAX_CHARS // 4), use_model=False)
    full = _seconds(make(MAX_CHARS - 1), use_model=False)
    # 4x the input: linear is ~4x the time, quadratic ~16x; 0.1 s absorbs jitter at small times
    assert full < 8 * small + 0.1, f"{kind}: {MAX_CHARS // 4} chars {small:.3f} s, {MAX_CHARS - 1} chars {full:.3f} s"


def test_expanding_characters_are_bounded_too():
    """NFKC turns U+FDFA into 18 characters: 9,999 of them became 180,000 characters for the NER."""
    base = _seconds(_cjk(MAX_CHARS - 1), use_model=True, repeat=1)
    t0 = time.perf_counter()
    try:
        parse("\ufdfa" * (MAX_CHARS - 1))
    except InputError as exc:
        assert exc.field == "text" and str(MAX_CHARS) in exc.message
    hostile = time.perf_counter() - t0
    assert hostile < 3 * base + 0.5, f"{hostile:.2f} s against {base:.2f} s for ordinary text"


@pytest.mark.parametrize("text", ["一" * 5000 + "年", "敲出" + "一" * 5000, "百分之" + "九" * 5000])
def test_huge_chinese_numeral_is_no_traceback(text, capsys):
    try:
        out = parse(text)
    except InputError as exc:
        assert exc.field == "text"
    else:
        assert out == []
    assert main(["rfq", "parse", text, "--json"]) in (0, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") <= 1


def _limit_memory():  # runs in the child: 4 GB of address space is far more than a parse needs
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def test_endless_stdin_is_refused_without_reading_it_all():
    """``otclab rfq parse -`` read all of stdin before checking its length: /dev/zero never ends."""
    with open("/dev/zero", "rb") as zero:
        out = subprocess.run([sys.executable, "-m", "otclab.cli.main", "rfq", "parse", "-"], stdin=zero,
                             capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory,
                             env=dict(os.environ), cwd=REPO)
    assert out.returncode == 2, out.stderr[-2000:]
    err = out.stderr.strip()
    assert err.count("\n") == 0 and "text" in err and str(MAX_CHARS) in err.replace(",", "")


def test_the_length_limit_is_configurable_and_checked(monkeypatch, capsys):
    msg = "中证500 雪球 103 75 1年 票息多少"
    n = len(msg)
    monkeypatch.setenv("OTCLAB_RFQ_MAX_CHARS", str(n))
    assert parse(msg)  # exactly at the limit: parsed
    with pytest.raises(InputError) as e:
        parse(msg + "?")
    assert e.value.field == "text" and f"at most {n}" in e.value.message and "OTCLAB_RFQ_MAX_CHARS" in e.value.message
    with pytest.raises(InputError, match=f"at most {n}"):
        parse((msg * 5).encode())  # bytes too: refused before decoding
    assert main(["rfq", "parse", msg + "?"]) == 2
    assert f"at most {n}" in capsys.readouterr().err
    for bad in ("0", "-5", "ten", "1e9", "nan", "1000000"):
        monkeypatch.setenv("OTCLAB_RFQ_MAX_CHARS", bad)
        with pytest.raises(InputError) as e:
            parse("中证500 雪球")
        assert e.value.field == "OTCLAB_RFQ_MAX_CHARS"
        assert main(["rfq", "parse", "中证500 雪球"]) == 2
        assert "OTCLAB_RFQ_MAX_CHARS" in capsys.readouterr().err
    monkeypatch.delenv("OTCLAB_RFQ_MAX_CHARS")
    assert parse(msg, limit=n)
    with pytest.raises(InputError, match="at most 5"):
        parse("中证500 雪球", limit=5)


def test_stdin_with_a_byte_order_mark_is_read(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\ufeff中证500 雪球 103 75 1年 票息多少".encode())))
    assert main(["rfq", "parse", "-", "--json"]) == 0
    (r,) = __import__("json").loads(capsys.readouterr().out)
    assert r["underlying"] == "000905.SH" and r["solve_for"] == "coupon"
